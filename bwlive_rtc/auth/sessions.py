"""Browser sessions: an opaque cookie token (stored hashed), an idle expiry of 7 days,
a CSRF token per session, and the organisation the user picked.

A session signed in from a console origin (the web client hosted on an organisation's own
origin, docs/EMBEDDING.md) is a bearer token instead (``bws_…``, stored hashed the same
way), bound to that origin and short-lived: it ends ``BEARER_LIFE`` after its last
renewal. Neither kind of token is accepted as the other."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..kernel.clock import Clock
from ..kernel.tokens import new_token, token_hash
from ..protocol import SESSION_COOKIE, SESSION_TOKEN_PREFIX
from ..storage.sql import Sql

IDLE_LIMIT = timedelta(days=7)
BEARER_LIFE = timedelta(minutes=10)  # a bearer session's page renews it well before
TOUCH_EVERY = timedelta(minutes=1)  # write last use at most this often
COOKIE_NAME = SESSION_COOKIE


@dataclass(frozen=True)
class Session:
    key: str  # hash of the cookie token
    user_id: str
    organisation_id: str | None
    csrf_token: str
    last_used_at: datetime
    origin: str | None = None  # a bearer session's console origin
    expires_at: datetime | None = None  # a bearer session's end, unless renewed


class Sessions:
    def __init__(self, db: Sql, clock: Clock, idle_limit: timedelta = IDLE_LIMIT) -> None:
        self.db = db
        self.clock = clock
        self.idle_limit = idle_limit

    def create(self, user_id: str, organisation_id: str | None, origin: str | None = None) -> tuple[str, Session]:
        """A new session; returns its token (shown once) and the session: a cookie's, or
        with ``origin`` a bearer token's bound to that console origin."""
        token = SESSION_TOKEN_PREFIX + new_token() if origin else new_token()
        now = self.clock.now()
        expires = now + BEARER_LIFE if origin else None
        session = Session(token_hash(token), user_id, organisation_id, secrets.token_urlsafe(24), now, origin, expires)
        self.db.insert(
            "sessions", {"key": session.key, "user_id": user_id, "organisation_id": organisation_id,
             "csrf_token": session.csrf_token, "created_at": now.isoformat(), "last_used_at": now.isoformat(),
             "origin": origin, "expires_at": expires.isoformat() if expires else None}
        )
        return token, session

    def lookup(self, token: str) -> Session | None:
        """The live cookie session for a cookie token (and mark it used), or None if
        unknown, idle too long or a bearer session's."""
        session = self._live(token)
        return session if session and session.origin is None else None

    def lookup_bearer(self, token: str) -> Session | None:
        """The bearer session of a ``bws_`` token, or None if unknown or a cookie's; its
        expiry is for the caller to judge (and say)."""
        session = self._live(token) if token.startswith(SESSION_TOKEN_PREFIX) else None
        return session if session and session.origin is not None else None

    def _live(self, token: str) -> Session | None:
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
        expires = datetime.fromisoformat(row["expires_at"]) if row["expires_at"] else None
        return Session(row["key"], row["user_id"], row["organisation_id"], row["csrf_token"], last_used,
                       row["origin"], expires)

    def renew(self, session: Session) -> datetime:
        """A bearer session's new end, ``BEARER_LIFE`` from now."""
        expires = self.clock.now() + BEARER_LIFE
        self.db.update("sessions", {"key": session.key}, {"expires_at": expires.isoformat()})
        return expires

    def pick_organisation(self, session: Session, organisation_id: str) -> None:
        self.db.update("sessions", {"key": session.key}, {"organisation_id": organisation_id})

    def end(self, session: Session) -> None:
        self.db.delete("sessions", key=session.key)

    def end_all_for(self, user_id: str, keep: Session | None = None) -> None:
        """End every session of the user (but ``keep``, the one asking)."""
        self.db.run("DELETE FROM sessions WHERE user_id = :user AND key != :keep", user=user_id,
                    keep=keep.key if keep else "")
