"""An organisation's API keys, in the metadata database. A key is ``bwk_`` + its id + a 256-bit secret;
only the key's SHA-256 is kept, compared in constant time; ``bwk_`` + the id is the
prefix lists show. A key mints viewer tokens and does nothing else."""
from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..kernel.access import Role
from ..kernel.clock import Clock
from ..kernel.errors import NotFound
from ..kernel.tokens import new_id, new_token, token_hash
from ..protocol import API_KEY_PREFIX
from ..storage.sql import Sql

ID_LENGTH, SECRET_LENGTH = len(new_id()), len(new_token())


@dataclass(frozen=True)
class ApiKey:
    id: str
    organisation_id: str
    name: str
    role: Role
    origins: tuple[str, ...]
    created_by: str
    created_at: str
    expires_at: str | None
    last_used_at: str | None
    revoked_at: str | None

    @property
    def prefix(self) -> str:
        return API_KEY_PREFIX + self.id

    def refusal(self, now: datetime) -> str | None:
        """Why the key cannot be used now (revoked, expired), or None."""
        if self.revoked_at is not None:
            return f"the API key {self.prefix} was revoked"
        if self.expires_at is not None and datetime.fromisoformat(self.expires_at) <= now:
            return f"the API key {self.prefix} expired at {self.expires_at}"
        return None

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "prefix": self.prefix, "role": self.role.value,
                "origins": list(self.origins), "created_by": self.created_by, "created_at": self.created_at,
                "expires_at": self.expires_at, "last_used_at": self.last_used_at, "revoked_at": self.revoked_at}


def _key(row: dict[str, Any]) -> ApiKey:
    return ApiKey(row["id"], row["organisation_id"], row["name"], Role(row["role"]), tuple(json.loads(row["origins"])),
                  row["created_by"], row["created_at"], row["expires_at"], row["last_used_at"], row["revoked_at"])


class ApiKeys:
    """The ``api_keys`` table (migration 0008); every lookup by id is in one organisation,
    but for a token's key, whose organisation the caller compares with the token's."""

    def __init__(self, db: Sql, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def create(self, organisation_id: str, name: str, role: Role, origins: tuple[str, ...],
               expires_in_days: int | None, created_by: str) -> tuple[ApiKey, str]:
        """A new key and its secret (shown once, never stored)."""
        key_id, now = new_id(), self.clock.now()
        secret = API_KEY_PREFIX + key_id + new_token()
        expires = (now + timedelta(days=expires_in_days)).isoformat() if expires_in_days else None
        self.db.insert("api_keys", {
            "id": key_id, "organisation_id": organisation_id, "name": name, "role": role.value,
            "origins": json.dumps(list(origins)), "prefix": API_KEY_PREFIX + key_id,
            "secret_hash": token_hash(secret), "created_by": created_by, "created_at": now.isoformat(),
            "expires_at": expires, "last_used_at": None, "revoked_at": None,
        })
        return self.get(organisation_id, key_id), secret

    def list(self, organisation_id: str) -> list[ApiKey]:
        return [_key(row) for row in self.db.rows("SELECT * FROM api_keys WHERE organisation_id = :organisation"
                                                  " ORDER BY created_at", organisation=organisation_id)]

    def get(self, organisation_id: str, key_id: str) -> ApiKey:
        row = self.db.row("SELECT * FROM api_keys WHERE id = :id AND organisation_id = :organisation",
                          id=key_id, organisation=organisation_id)
        if row is None:
            raise NotFound(f"no API key {key_id!r} in this organisation")
        return _key(row)

    def revoke(self, organisation_id: str, key_id: str) -> ApiKey:
        """Revoke a key (at once: its tokens are checked against it on every use)."""
        key = self.get(organisation_id, key_id)
        if key.revoked_at is None:
            self.db.update("api_keys", {"id": key_id}, {"revoked_at": self.clock.now().isoformat()})
        return self.get(organisation_id, key_id)

    def of_token(self, key_id: str) -> ApiKey | None:
        """The key a token names, in whichever organisation (the caller checks it)."""
        row = self._row(key_id)
        return _key(row) if row else None

    def by_secret(self, secret: str) -> ApiKey | None:
        """The key whose secret this is (hashes compared in constant time), else None."""
        if len(secret) != len(API_KEY_PREFIX) + ID_LENGTH + SECRET_LENGTH or not secret.startswith(API_KEY_PREFIX):
            return None
        row = self._row(secret[len(API_KEY_PREFIX):][:ID_LENGTH])
        if row is None or not hmac.compare_digest(row["secret_hash"], token_hash(secret)):
            return None
        return _key(row)

    def _row(self, key_id: str) -> dict[str, Any] | None:
        return self.db.row("SELECT * FROM api_keys WHERE id = :id", id=key_id)

    def used(self, key: ApiKey) -> None:
        self.db.update("api_keys", {"id": key.id}, {"last_used_at": self.clock.now().isoformat()})

    def in_service(self, origin: str) -> bool:
        """Whether ``origin`` is an origin of a key not revoked nor expired (of any
        organisation: a preflight names no key)."""
        now = self.clock.now()
        return any(origin in key.origins and key.refusal(now) is None
                   for key in map(_key, self.db.rows("SELECT * FROM api_keys WHERE revoked_at IS NULL")))
