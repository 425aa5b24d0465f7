"""Systems (camera fleets, each with its end-to-end public key and its signing public key)
and the one-time, expiring authorization codes with which they join an organisation."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from ..crypto.system_key import SystemPublicKey
from ..crypto.system_signing import SigningPublicKey
from ..kernel.clock import Clock
from ..kernel.errors import BadRequest, NotFound
from ..kernel.tokens import new_code, new_id, token_hash
from ..storage.sql import Sql

CODE_VALID_FOR = timedelta(hours=24)


class JoinError(BadRequest, ValueError):
    """A join code or system name that cannot be used; the message says why."""


@dataclass(frozen=True)
class System:
    """A system of an organisation, its current end-to-end public key and the public half
    of the key with which it certifies its cameras (None: registered before systems had
    one; its next dock registers it)."""

    id: str
    organisation_id: str
    name: str
    key: SystemPublicKey
    signing_key: SigningPublicKey | None


def _system(row: dict) -> System:
    signing = row.get("signing_key")
    return System(row["id"], row["organisation_id"], row["name"], SystemPublicKey.from_pem(row["public_key_pem"].encode()),
                  SigningPublicKey.from_b64u(signing) if signing else None)


def _signing_columns(signing_key: SigningPublicKey | None) -> dict[str, str | None]:
    return {"signing_key": signing_key.b64u() if signing_key else None,
            "signing_key_id": signing_key.key_id if signing_key else None}


class Systems:
    def __init__(self, db: Sql, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def create_code(self, organisation_id: str, created_by: str) -> tuple[str, datetime]:
        code = new_code()
        now = self.clock.now()
        expires = now + CODE_VALID_FOR
        self.db.insert(
            "join_codes", {"key": token_hash(code), "organisation_id": organisation_id, "created_by": created_by,
             "created_at": now.isoformat(), "expires_at": expires.isoformat(), "used_at": None}
        )
        return code, expires

    def join(self, code: str, name: str, public_key: SystemPublicKey, signing_key: SigningPublicKey) -> tuple[str, str]:
        """Use a code once; returns (system id, organisation id)."""
        key = token_hash(code.strip().upper())
        row = self.db.row("SELECT * FROM join_codes WHERE key = :key", key=key)
        if row is None:
            raise JoinError("this authorization code is not valid")
        if row["used_at"]:
            raise JoinError("this authorization code has already been used")
        if self.clock.now() >= datetime.fromisoformat(row["expires_at"]):
            raise JoinError("this authorization code has expired; ask an admin for a new one")
        if not self.db.run("UPDATE join_codes SET used_at = :now WHERE key = :key AND used_at IS NULL",
                           now=self.clock.now().isoformat(), key=key):  # used meanwhile (by another server)
            raise JoinError("this authorization code has already been used")
        return self.add(row["organisation_id"], name, public_key, signing_key), row["organisation_id"]

    def add(self, organisation_id: str, name: str, public_key: SystemPublicKey,
            signing_key: SigningPublicKey | None = None) -> str:
        """Register a system with an organisation (after a code, or at bootstrap); without
        a signing key (as systems of before), the first dock at the system registers one."""
        if not name.strip():
            raise JoinError("enter a name for the system")
        system_id = new_id()
        self.db.insert(
            "systems", {"id": system_id, "organisation_id": organisation_id, "name": name.strip(),
             "key_id": public_key.key_id, "public_key_pem": public_key.pem().decode(),
             "joined_at": self.clock.now().isoformat(), **_signing_columns(signing_key)}
        )
        return system_id

    def register_local(self, organisation_id: str, name: str, public_key: SystemPublicKey,
                       signing_key: SigningPublicKey | None) -> list[tuple[System, SigningPublicKey]]:
        """At bootstrap: register the local system (the one whose key, current or replaced,
        is ``public_key``) with the organisation, or give it ``signing_key``. Returns the
        systems whose signing key this changed, as they were."""
        local = [system for system in self._all(organisation_id) if self.has_had_key(system, public_key)]
        if not local:
            self.add(organisation_id, name, public_key, signing_key)
            return []
        if signing_key is None:
            return []
        changed = [system for system in local if system.signing_key != signing_key]
        for system in changed:
            self.set_signing_key(system, signing_key)
        return [(system, signing_key) for system in changed]

    def has_had_key(self, system: System, public_key: SystemPublicKey) -> bool:
        """Whether ``public_key`` is, or was, the system's end-to-end key: whether a keys
        directory holding it is that system's."""
        return public_key.key_id == system.key.key_id or self.replaced_at(system, public_key.key_id) is not None

    def set_signing_key(self, system: System, signing_key: SigningPublicKey) -> None:
        """Make ``signing_key`` the key that certifies the system's cameras: certificates of
        any other key are refused from now on (the cameras dock again)."""
        self.db.update("systems", {"id": system.id}, _signing_columns(signing_key))

    def by_signing_key(self, organisation_id: str, signing_key_id: str) -> System | None:
        """The organisation's system whose signing key has this id (None: no such system)."""
        row = self.db.row("SELECT * FROM systems WHERE organisation_id = :organisation AND signing_key_id = :key",
                          organisation=organisation_id, key=signing_key_id)
        return _system(row) if row else None

    def change_key(self, organisation_id: str, system_id: str, public_key: SystemPublicKey) -> System:
        """Make ``public_key`` the system's current key; returns the system as it was. The
        old key stays in the history: streams still running on it keep their viewers, new
        ones are refused, and each camera takes the new key only once an admin confirms it."""
        old = self.require(organisation_id, system_id)
        if old.key.key_id != public_key.key_id:
            self.db.insert(
                "system_key_history", {"system_id": old.id, "organisation_id": organisation_id, "key_id": old.key.key_id,
                 "public_key_pem": old.key.pem().decode(), "replaced_at": self.clock.now().isoformat()}
            )
            self.db.update("systems", {"id": old.id}, {"key_id": public_key.key_id,
                                                       "public_key_pem": public_key.pem().decode()})
        return old

    def system(self, organisation_id: str, system_id: str | None) -> System | None:
        """One of the organisation's systems (None: not one of this organisation's)."""
        row = self.db.row("SELECT * FROM systems WHERE id = :id AND organisation_id = :organisation",
                          id=system_id, organisation=organisation_id) if system_id else None
        return _system(row) if row else None

    def require(self, organisation_id: str, system_id: str) -> System:
        """One of the organisation's systems; 404 for any other id."""
        system = self.system(organisation_id, system_id)
        if system is None:
            raise NotFound("no such system in this organisation")
        return system

    def first(self, organisation_id: str) -> System | None:
        """The organisation's first system (the local one, registered when it was set up):
        where its cameras belong unless an admin names another."""
        row = self.db.row("SELECT * FROM systems WHERE organisation_id = :organisation ORDER BY joined_at, id LIMIT 1",
                          organisation=organisation_id)
        return _system(row) if row else None

    def replaced_at(self, system: System, key_id: str) -> datetime | None:
        """When ``key_id`` stopped being the system's key (None: it never was its key)."""
        replaced = self.db.value(
            "SELECT replaced_at FROM system_key_history WHERE system_id = :system AND organisation_id = :organisation"
            " AND key_id = :key ORDER BY replaced_at DESC LIMIT 1",
            system=system.id, organisation=system.organisation_id, key=key_id)
        return datetime.fromisoformat(replaced) if replaced else None

    def _all(self, organisation_id: str) -> list[System]:
        return [_system(row) for row in self.db.rows(
            "SELECT * FROM systems WHERE organisation_id = :organisation ORDER BY joined_at, id",
            organisation=organisation_id)]

    def list(self, organisation_id: str) -> list[dict[str, object]]:
        return self.db.rows("SELECT id, name, key_id, signing_key, signing_key_id, joined_at FROM systems"
                            " WHERE organisation_id = :organisation ORDER BY joined_at", organisation=organisation_id)


SYSTEMS = web.AppKey("systems", Systems)
SYSTEM_KEY = web.AppKey("system_key", SystemPublicKey)  # this server's local system public key
# The local system's signing public key (keys directory); None before one was made.
SYSTEM_SIGNING_KEY = web.AppKey[SigningPublicKey | None]("system_signing_key")
