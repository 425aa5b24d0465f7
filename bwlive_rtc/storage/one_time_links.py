"""One-time links and codes (an invitation, a password reset, a phone's pairing code): a
random token shown once, only its SHA-256 kept, valid until ``expires_at``, used once: the
row is claimed by a conditional UPDATE of its "used" column, so a second use, even at the
same moment, is refused. Run :meth:`OneTimeLinks.use` and what the link does in one
``Sql.transaction()``: when that fails, the claim is undone with it and the link can be
used again."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..kernel.clock import Clock
from ..kernel.errors import BadRequest
from ..kernel.tokens import new_token, token_hash
from .sql import Sql


@dataclass(frozen=True)
class LinkSentences:
    """What the holder of a link that cannot be used is told."""

    invalid: str
    used: str
    expired: str


@dataclass(frozen=True)
class Issued:
    """A new link's token (shown once) and when it stops working."""

    token: str
    expires_at: datetime


@dataclass(frozen=True)
class OneTimeLinks:
    """The links of one table: ``table`` has ``created_at``, ``expires_at``, the column
    ``used`` and the token's hash in column ``key``. ``error``: what a link that cannot be
    used raises; ``new``: how a token is made."""

    db: Sql
    clock: Clock
    table: str
    used: str
    valid_for: timedelta
    sentences: LinkSentences
    error: type[BadRequest] = BadRequest
    key: str = "key"
    new: Callable[[], str] = new_token

    def create(self, values: Mapping[str, Any]) -> Issued:
        """Store a new link with ``values`` (its other columns)."""
        token, now = self.new(), self.clock.now()
        self.db.insert(self.table, {**values, self.key: token_hash(token), "created_at": now.isoformat(),
                                    "expires_at": (now + self.valid_for).isoformat(), self.used: None})
        return Issued(token, now + self.valid_for)

    def pending(self, token: str) -> dict[str, Any]:
        """The row of a link that can still be used (``expires_at`` as a datetime)."""
        row = self.db.row(f"SELECT * FROM {self.table} WHERE {self.key} = :hash", hash=token_hash(token))
        if row is None:
            raise self.error(self.sentences.invalid)
        if row[self.used]:
            raise self.error(self.sentences.used)
        expires_at = datetime.fromisoformat(row["expires_at"])
        if self.clock.now() >= expires_at:
            raise self.error(self.sentences.expired)
        return {**row, "expires_at": expires_at}

    def use(self, token: str) -> dict[str, Any]:
        """Claim the link (once) and return its row as :meth:`pending` does."""
        row = self.pending(token)
        claimed = self.db.run(f"UPDATE {self.table} SET {self.used} = :now WHERE {self.key} = :hash AND {self.used} IS NULL",
                              now=self.clock.now().isoformat(), hash=token_hash(token))
        if claimed != 1:
            raise self.error(self.sentences.used)
        return row
