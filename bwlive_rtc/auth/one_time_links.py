"""One-time links (an invitation, a password reset): a random token shown once, only its
SHA-256 kept (column ``key``), valid until ``expires_at``, used once: the row is claimed by a
conditional UPDATE of its "used" column, so a second use, even at the same moment, is
refused. Run :meth:`OneTimeLinks.use` and what the link does in one ``Sql.transaction()``:
when that fails, the claim is undone with it and the link can be used again."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..kernel.clock import Clock
from ..kernel.tokens import new_token, token_hash
from ..storage.sql import Sql
from .accounts import AccountError


@dataclass(frozen=True)
class LinkSentences:
    """What the holder of a link that cannot be used is told."""

    invalid: str
    used: str
    expired: str


@dataclass(frozen=True)
class OneTimeLinks:
    """The links of one table: ``table`` has ``key``, ``created_at``, ``expires_at`` and ``used``."""

    db: Sql
    clock: Clock
    table: str
    used: str
    valid_for: timedelta
    sentences: LinkSentences

    def create(self, values: Mapping[str, Any]) -> str:
        """Store a new link with ``values`` (its other columns); its token (shown once)."""
        token = new_token()
        now = self.clock.now()
        self.db.insert(self.table, {**values, "key": token_hash(token), "created_at": now.isoformat(),
                                    "expires_at": (now + self.valid_for).isoformat(), self.used: None})
        return token

    def pending(self, token: str) -> dict[str, Any]:
        """The row of a link that can still be used (``expires_at`` as a datetime)."""
        row = self.db.row(f"SELECT * FROM {self.table} WHERE key = :key", key=token_hash(token))
        if row is None:
            raise AccountError(self.sentences.invalid)
        if row[self.used]:
            raise AccountError(self.sentences.used)
        expires_at = datetime.fromisoformat(row["expires_at"])
        if self.clock.now() >= expires_at:
            raise AccountError(self.sentences.expired)
        return {**row, "expires_at": expires_at}

    def use(self, token: str) -> dict[str, Any]:
        """Claim the link (once) and return its row as :meth:`pending` does."""
        row = self.pending(token)
        claimed = self.db.run(f"UPDATE {self.table} SET {self.used} = :now WHERE key = :key AND {self.used} IS NULL",
                              now=self.clock.now().isoformat(), key=token_hash(token))
        if claimed != 1:
            raise AccountError(self.sentences.used)
        return row
