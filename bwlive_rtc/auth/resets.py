"""Password-reset links an admin makes for a member (no mail server: the admin hands the
link over). A link is valid 1 hour and works once; setting the password ends every
session of the member and does not sign them in (two-factor still applies at sign-in)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..kernel.clock import Clock
from ..kernel.tokens import new_token, token_hash
from ..storage.sql import Sql
from .accounts import AccountError, Accounts, User

VALID_FOR = timedelta(hours=1)


@dataclass(frozen=True)
class PasswordReset:
    user: User
    organisation_id: str
    expires_at: datetime


class PasswordResets:
    def __init__(self, db: Sql, clock: Clock, accounts: Accounts) -> None:
        self.db = db
        self.clock = clock
        self.accounts = accounts

    def create(self, organisation_id: str, user: User, created_by: User) -> str:
        """The token for the link (shown once); earlier unused links for the member end."""
        now = self.clock.now()
        self.db.run("DELETE FROM password_resets WHERE user_id = :user AND used_at IS NULL", user=user.id)
        token = new_token()
        self.db.insert(
            "password_resets", {"key": token_hash(token), "organisation_id": organisation_id, "user_id": user.id,
             "created_by": created_by.id, "created_at": now.isoformat(), "expires_at": (now + VALID_FOR).isoformat(),
             "used_at": None})
        return token

    def pending(self, token: str) -> PasswordReset:
        row = self.db.row("SELECT * FROM password_resets WHERE key = :key", key=token_hash(token))
        user = self.accounts.user(row["user_id"]) if row else None
        if row is None or user is None:
            raise AccountError("this password-reset link is not valid")
        if row["used_at"]:
            raise AccountError("this password-reset link has already been used; ask your administrator for a new one")
        expires_at = datetime.fromisoformat(row["expires_at"])
        if self.clock.now() >= expires_at:
            raise AccountError("this password-reset link has expired; ask your administrator for a new one")
        return PasswordReset(user, row["organisation_id"], expires_at)

    def use(self, token: str) -> PasswordReset:
        """Mark the link used (once: a second use, even at the same moment, is refused)."""
        reset = self.pending(token)
        used = self.db.run("UPDATE password_resets SET used_at = :now WHERE key = :key AND used_at IS NULL",
                           now=self.clock.now().isoformat(), key=token_hash(token))
        if used != 1:
            raise AccountError("this password-reset link has already been used; ask your administrator for a new one")
        return reset
