"""Systems (camera fleets, each with its end-to-end public key) and the one-time,
expiring authorization codes with which they join an organisation."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlite_utils
from aiohttp import web

from ..crypto.system_key import SystemPublicKey
from ..kernel.clock import Clock
from ..kernel.errors import BadRequest
from ..kernel.tokens import new_id, token_hash

CODE_VALID_FOR = timedelta(hours=24)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


class JoinError(BadRequest, ValueError):
    """A join code or system name that cannot be used; the message says why."""


class Systems:
    def __init__(self, db: sqlite_utils.Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def create_code(self, organisation_id: str, created_by: str) -> tuple[str, datetime]:
        code = _new_code()
        now = self.clock.now()
        expires = now + CODE_VALID_FOR
        self.db.table("join_codes").insert(
            {"key": token_hash(code), "organisation_id": organisation_id, "created_by": created_by,
             "created_at": now.isoformat(), "expires_at": expires.isoformat(), "used_at": None}
        )
        return code, expires

    def join(self, code: str, name: str, public_key: SystemPublicKey) -> tuple[str, str]:
        """Use a code once; returns (system id, organisation id)."""
        key = token_hash(code.strip().upper())
        rows = list(self.db.table("join_codes").rows_where("key = ?", [key]))
        if not rows:
            raise JoinError("this authorization code is not valid")
        row = rows[0]
        if row["used_at"]:
            raise JoinError("this authorization code has already been used")
        if self.clock.now() >= datetime.fromisoformat(row["expires_at"]):
            raise JoinError("this authorization code has expired; ask an admin for a new one")
        self.db.table("join_codes").update(key, {"used_at": self.clock.now().isoformat()})
        return self.add(row["organisation_id"], name, public_key), row["organisation_id"]

    def add(self, organisation_id: str, name: str, public_key: SystemPublicKey) -> str:
        """Register a system with an organisation (after a code, or at bootstrap)."""
        if not name.strip():
            raise JoinError("enter a name for the system")
        system_id = new_id()
        self.db.table("systems").insert(
            {"id": system_id, "organisation_id": organisation_id, "name": name.strip(),
             "key_id": public_key.key_id, "public_key_pem": public_key.pem().decode(),
             "joined_at": self.clock.now().isoformat()}
        )
        return system_id

    def change_key(self, organisation_id: str, system_id: str, public_key: SystemPublicKey) -> str | None:
        """Make ``public_key`` the system's current key; returns the key id it replaced
        (None: no such system in this organisation). The old key stays in the history, so
        streams still running on it keep their viewers."""
        rows = list(self.db.table("systems").rows_where("id = ? AND organisation_id = ?", [system_id, organisation_id]))
        if not rows:
            return None
        old = rows[0]
        if old["key_id"] != public_key.key_id:
            self.db.table("system_key_history").insert(
                {"system_id": system_id, "organisation_id": organisation_id, "key_id": old["key_id"],
                 "public_key_pem": old["public_key_pem"], "replaced_at": self.clock.now().isoformat()}
            )
            self.db.table("systems").update(system_id, {"key_id": public_key.key_id, "public_key_pem": public_key.pem().decode()})
        return str(old["key_id"])

    def organisations_for_key(self, key_id: str) -> list[str]:
        """The organisations whose systems encrypt, or encrypted, to this key (several
        systems may share one; a replaced key still opens streams started with it)."""
        current = self.db.table("systems").rows_where("key_id = ?", [key_id])
        replaced = self.db.table("system_key_history").rows_where("key_id = ?", [key_id])
        return sorted({r["organisation_id"] for r in (*current, *replaced)})

    def current_key(self, organisation_id: str) -> SystemPublicKey | None:
        """The key cameras of this organisation get when they dock: the newest one."""
        rows = list(self.db.table("systems").rows_where(
            "organisation_id = ?", [organisation_id], order_by="joined_at DESC", limit=1))
        return SystemPublicKey.from_pem(rows[0]["public_key_pem"].encode()) if rows else None

    def list(self, organisation_id: str) -> list[dict[str, object]]:
        return list(self.db.table("systems").rows_where(
            "organisation_id = ?", [organisation_id], select="id, name, key_id, joined_at", order_by="joined_at"))


SYSTEMS = web.AppKey("systems", Systems)
SYSTEM_KEY = web.AppKey("system_key", SystemPublicKey)  # this server's local system public key
