"""Password-reset links an admin makes for a member (no mail server: the admin hands the
link over). A link is valid 1 hour and works once (storage/one_time_links.py); setting the password
ends every session of the member and does not sign them in (two-factor still applies at
sign-in)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..kernel.clock import Clock
from ..storage.one_time_links import LinkSentences, OneTimeLinks
from ..storage.sql import Sql
from .accounts import AccountError, Accounts, User

VALID_FOR = timedelta(hours=1)
SENTENCES = LinkSentences(
    invalid="this password-reset link is not valid",
    used="this password-reset link has already been used; ask your administrator for a new one",
    expired="this password-reset link has expired; ask your administrator for a new one",
)


@dataclass(frozen=True)
class PasswordReset:
    user: User
    organisation_id: str
    expires_at: datetime


class PasswordResets:
    def __init__(self, db: Sql, clock: Clock, accounts: Accounts) -> None:
        self.db = db
        self.accounts = accounts
        self.links = OneTimeLinks(db, clock, "password_resets", "used_at", VALID_FOR, SENTENCES, AccountError)

    def create(self, organisation_id: str, user: User, created_by: User) -> str:
        """The token for the link (shown once); earlier unused links for the member end."""
        self.db.run("DELETE FROM password_resets WHERE user_id = :user AND used_at IS NULL", user=user.id)
        return self.links.create({"organisation_id": organisation_id, "user_id": user.id, "created_by": created_by.id}).token

    def pending(self, token: str) -> PasswordReset:
        return self._reset(self.links.pending(token))

    def use(self, token: str) -> PasswordReset:
        """Mark the link used (once: a second use, even at the same moment, is refused)."""
        return self._reset(self.links.use(token))

    def _reset(self, row: dict[str, Any]) -> PasswordReset:
        user = self.accounts.user(row["user_id"])
        if user is None:
            raise AccountError(SENTENCES.invalid)
        return PasswordReset(user, row["organisation_id"], row["expires_at"])
