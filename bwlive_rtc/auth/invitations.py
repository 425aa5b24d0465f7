"""Invitations by link: an admin invites an e-mail address with a role; the invitee opens
the link, sets a name and password (or, already having an account, signs in) and joins."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlite_utils

from ..kernel.access import Role
from ..kernel.clock import Clock
from ..kernel.tokens import new_token, token_hash
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
    def __init__(self, db: sqlite_utils.Database, clock: Clock, accounts: Accounts) -> None:
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
        self.db.table("invitations").insert(
            {"key": token_hash(token), "organisation_id": organisation_id, "email": email, "role": role.value,
             "invited_by": invited_by.id, "created_at": now.isoformat(),
             "expires_at": (now + VALID_FOR).isoformat(), "accepted_at": None}
        )
        return token

    def pending(self, token: str) -> Invitation:
        rows = list(self.db.table("invitations").rows_where("key = ?", [token_hash(token)]))
        if not rows:
            raise AccountError("this invitation link is not valid")
        row = rows[0]
        if row["accepted_at"]:
            raise AccountError("this invitation has already been used; sign in instead")
        expires_at = datetime.fromisoformat(row["expires_at"])
        if self.clock.now() >= expires_at:
            raise AccountError("this invitation has expired; ask your administrator for a new one")
        org = self.accounts.organisation(row["organisation_id"])
        return Invitation(row["organisation_id"], org["name"] if org else "?", row["email"], Role(row["role"]), expires_at)

    def accept(self, token: str, name: str, password: str) -> tuple[User, Invitation]:
        """Create the invitee's account (or use the existing one, if the password matches)
        and add the membership."""
        invitation = self.pending(token)
        user = self.accounts.user_by_email(invitation.email)
        if user is None:
            user = self.accounts.create_user(invitation.email, name, password)
        elif self.accounts.authenticate(invitation.email, password) is None:
            raise AccountError(f"{invitation.email} already has an account: enter its password to accept")
        self.accounts.add_member(user.id, invitation.organisation_id, invitation.role)
        self.db.table("invitations").update(token_hash(token), {"accepted_at": self.clock.now().isoformat()})
        return user, invitation
