"""Invitations by link: an admin invites an e-mail address with a role; the invitee opens
the link, sets a name and password (or, already having an account, gives its password)
and joins (``AuthService.accept_invitation``). A link is valid 7 days and works once
(storage/one_time_links.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..kernel.access import Role
from ..kernel.clock import Clock
from ..storage.one_time_links import LinkSentences, OneTimeLinks
from ..storage.sql import Sql
from .accounts import AccountError, Accounts, User

VALID_FOR = timedelta(days=7)
SENTENCES = LinkSentences(
    invalid="this invitation link is not valid",
    used="this invitation has already been used; sign in instead",
    expired="this invitation has expired; ask your administrator for a new one",
)


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
        self.accounts = accounts
        self.links = OneTimeLinks(db, clock, "invitations", "accepted_at", VALID_FOR, SENTENCES, AccountError)

    def create(self, organisation_id: str, email: str, role: Role, invited_by: User) -> str:
        """Returns the token for the link (shown once)."""
        email = email.strip().lower()
        if "@" not in email:
            raise AccountError("enter the e-mail address of the person to invite")
        return self.links.create({"organisation_id": organisation_id, "email": email, "role": role.value,
                                  "invited_by": invited_by.id}).token

    def pending(self, token: str) -> Invitation:
        return self._invitation(self.links.pending(token))

    def redeem(self, token: str, user: User) -> Invitation:
        """Add ``user`` (the invitee, with an account now) to the organisation; the link is
        used up (once: a second use, even at the same moment, is refused)."""
        with self.db.transaction():
            invitation = self._invitation(self.links.use(token))
            self.accounts.add_member(user.id, invitation.organisation_id, invitation.role)
        return invitation

    def _invitation(self, row: dict[str, Any]) -> Invitation:
        org = self.accounts.organisation(row["organisation_id"])
        return Invitation(row["organisation_id"], org["name"] if org else "?", row["email"], Role(row["role"]),
                          row["expires_at"])
