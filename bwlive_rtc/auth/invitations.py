"""Invitations by link: an admin invites an e-mail address with a role; the invitee opens
the link, sets a name and password (or, already having an account, gives its password)
and joins (``AuthService.accept_invitation``)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..kernel.access import Role
from ..kernel.clock import Clock
from ..kernel.tokens import new_token, token_hash
from ..storage.sql import Sql
from .accounts import AccountError, Accounts, User

VALID_FOR = timedelta(days=7)


@dataclass(frozen=True)
class Invitation:
    organisation_id: str
    organisation_name: str
    email: str
    role: Role
    expires_at: datetime


class Invitations:
    def __init__(self, db: Sql, clock: Clock, accounts: Accounts) -> None:
        self.db = db
        self.clock = clock
        self.accounts = accounts

    def create(self, organisation_id: str, email: str, role: Role, invited_by: User) -> str:
        """Returns the token for the link (shown once)."""
        email = email.strip().lower()
        if "@" not in email:
            raise AccountError("enter the e-mail address of the person to invite")
        token = new_token()
        now = self.clock.now()
        self.db.insert(
            "invitations", {"key": token_hash(token), "organisation_id": organisation_id, "email": email, "role": role.value,
             "invited_by": invited_by.id, "created_at": now.isoformat(),
             "expires_at": (now + VALID_FOR).isoformat(), "accepted_at": None}
        )
        return token

    def pending(self, token: str) -> Invitation:
        row = self.db.row("SELECT * FROM invitations WHERE key = :key", key=token_hash(token))
        if row is None:
            raise AccountError("this invitation link is not valid")
        if row["accepted_at"]:
            raise AccountError("this invitation has already been used; sign in instead")
        expires_at = datetime.fromisoformat(row["expires_at"])
        if self.clock.now() >= expires_at:
            raise AccountError("this invitation has expired; ask your administrator for a new one")
        org = self.accounts.organisation(row["organisation_id"])
        return Invitation(row["organisation_id"], org["name"] if org else "?", row["email"], Role(row["role"]), expires_at)

    def redeem(self, token: str, user: User) -> Invitation:
        """Add ``user`` (the invitee, with an account now) to the organisation; the link is used up."""
        invitation = self.pending(token)
        self.accounts.add_member(user.id, invitation.organisation_id, invitation.role)
        self.db.update("invitations", {"key": token_hash(token)}, {"accepted_at": self.clock.now().isoformat()})
        return invitation
