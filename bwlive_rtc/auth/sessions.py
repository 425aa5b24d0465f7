"""Browser sessions: an opaque cookie token (stored hashed), an idle expiry of 7 days,
a CSRF token per session, and the organisation the user picked."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..kernel.clock import Clock
from ..kernel.tokens import new_token, token_hash
from ..protocol import SESSION_COOKIE
from ..storage.sql import Sql

IDLE_LIMIT = timedelta(days=7)
TOUCH_EVERY = timedelta(minutes=1)  # write last use at most this often
COOKIE_NAME = SESSION_COOKIE


@dataclass(frozen=True)
class Session:
    key: str  # hash of the cookie token
    user_id: str
    organisation_id: str | None
    csrf_token: str
    last_used_at: datetime


class Sessions:
    def __init__(self, db: Sql, clock: Clock, idle_limit: timedelta = IDLE_LIMIT) -> None:
        self.db = db
        self.clock = clock
        self.idle_limit = idle_limit

    def create(self, user_id: str, organisation_id: str | None) -> tuple[str, Session]:
        """A new session; returns the cookie token (shown once) and the session."""
        token = new_token()
        now = self.clock.now()
        session = Session(token_hash(token), user_id, organisation_id, secrets.token_urlsafe(24), now)
        self.db.insert(
            "sessions", {"key": session.key, "user_id": user_id, "organisation_id": organisation_id,
             "csrf_token": session.csrf_token, "created_at": now.isoformat(), "last_used_at": now.isoformat()}
        )
        return token, session

    def lookup(self, token: str) -> Session | None:
        """The live session for a cookie token (and mark it used), or None if unknown or idle too long."""
        row = self.db.row("SELECT * FROM sessions WHERE key = :key", key=token_hash(token))
        if row is None:
            return None
        now = self.clock.now()
        last_used = datetime.fromisoformat(row["last_used_at"])
        if now - last_used > self.idle_limit:
            self.db.delete("sessions", key=row["key"])
            return None
        if now - last_used > TOUCH_EVERY:
            self.db.update("sessions", {"key": row["key"]}, {"last_used_at": now.isoformat()})
            last_used = now
        return Session(row["key"], row["user_id"], row["organisation_id"], row["csrf_token"], last_used)

    def pick_organisation(self, session: Session, organisation_id: str) -> None:
        self.db.update("sessions", {"key": session.key}, {"organisation_id": organisation_id})

    def end(self, session: Session) -> None:
        self.db.delete("sessions", key=session.key)

    def end_all_for(self, user_id: str, keep: Session | None = None) -> None:
        """End every session of the user (but ``keep``, the one asking)."""
        self.db.run("DELETE FROM sessions WHERE user_id = :user AND key != :keep", user=user_id,
                    keep=keep.key if keep else "")
