"""Organisations, users and memberships (with roles), in SQLite."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlite_utils

from ..kernel.access import Role
from ..kernel.clock import Clock
from ..kernel.errors import BadRequest
from ..kernel.tokens import new_id
from .passwords import hash_password

TRIAL = timedelta(days=30)


class AccountError(BadRequest, ValueError):
    """A request about accounts that cannot be done; the message says why."""


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str


@dataclass(frozen=True)
class Membership:
    organisation_id: str
    organisation_name: str
    role: Role
    owner: bool


class Accounts:
    """Users sign in locally (Argon2id passwords); ``identity_provider`` leaves room for
    OIDC users, who would have no password hash."""

    def __init__(self, db: sqlite_utils.Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    # --- users ---------------------------------------------------------------------

    def check_new_user(self, email: str, name: str) -> None:
        """Refuse (with a sentence) a new user that cannot be made."""
        email = email.strip().lower()
        if "@" not in email:
            raise AccountError("enter an e-mail address")
        if not name.strip():
            raise AccountError("enter a name")
        if self.user_by_email(email) is not None:
            raise AccountError(f"there is already an account for {email}")

    def add_user(self, email: str, name: str, password_hash: str) -> User:
        """A new local user with an Argon2 hash made by ``PasswordWorker.hash``."""
        self.check_new_user(email, name)
        user = User(new_id(), email.strip().lower(), name.strip())
        self.db.table("users").insert(
            {"id": user.id, "email": user.email, "name": user.name, "password_hash": password_hash,
             "identity_provider": "local", "created_at": self.clock.now().isoformat()}
        )
        return user

    def create_user(self, email: str, name: str, password: str) -> User:
        """A new local user, hashing the password on this thread (the command line, tests;
        the HTTP API hashes on the ``PasswordWorker``)."""
        self.check_new_user(email, name)
        return self.add_user(email, name, hash_password(password))

    def user(self, user_id: str) -> User | None:
        rows = list(self.db.table("users").rows_where("id = ?", [user_id]))
        return User(rows[0]["id"], rows[0]["email"], rows[0]["name"]) if rows else None

    def user_by_email(self, email: str) -> User | None:
        rows = list(self.db.table("users").rows_where("email = ?", [email.strip().lower()]))
        return User(rows[0]["id"], rows[0]["email"], rows[0]["name"]) if rows else None

    def credentials(self, email: str) -> tuple[User | None, str | None]:
        """The user with this e-mail address and their password hash (None, None: no such user)."""
        rows = list(self.db.table("users").rows_where("email = ?", [email.strip().lower()]))
        if not rows:
            return None, None
        return User(rows[0]["id"], rows[0]["email"], rows[0]["name"]), rows[0]["password_hash"]

    def password_hash(self, user_id: str) -> str | None:
        rows = list(self.db.table("users").rows_where("id = ?", [user_id], limit=1))
        return rows[0]["password_hash"] if rows else None

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        """A new password (an Argon2 hash made by ``PasswordWorker.hash``)."""
        self.db.table("users").update(user_id, {"password_hash": password_hash})

    # --- organisations and memberships ------------------------------------------------

    def create_organisation(self, name: str, creator: User) -> str:
        """Create an organisation; its creator becomes owner and admin. Starts a 30-day trial."""
        if not name.strip():
            raise AccountError("enter a name for the organisation")
        now = self.clock.now()
        org_id = new_id()
        self.db.table("organisations").insert(
            {"id": org_id, "name": name.strip(), "created_at": now.isoformat(), "trial_ends_at": (now + TRIAL).isoformat()}
        )
        self._add_member(creator.id, org_id, Role.ADMIN, owner=True)
        return org_id

    def organisations(self, name: str | None = None) -> list[dict]:
        """Every organisation, or those named ``name``."""
        return list(self.db.table("organisations").rows_where("name = ?" if name else None, [name] if name else None))

    def organisation(self, org_id: str) -> dict | None:
        rows = list(self.db.table("organisations").rows_where("id = ?", [org_id]))
        return rows[0] if rows else None

    def trial_ends_at(self, org_id: str) -> datetime:
        org = self.organisation(org_id)
        if org is None:
            raise AccountError("no such organisation")
        return datetime.fromisoformat(org["trial_ends_at"])

    def requires_two_factor(self, org_id: str) -> bool:
        org = self.organisation(org_id)
        return bool(org and org["require_two_factor"])

    def set_two_factor_policy(self, org_id: str, required: bool) -> None:
        self.db.table("organisations").update(org_id, {"require_two_factor": int(required)})

    def _add_member(self, user_id: str, org_id: str, role: Role, owner: bool = False) -> None:
        self.db.table("memberships").upsert(
            {"user_id": user_id, "organisation_id": org_id, "role": role.value, "owner": int(owner),
             "created_at": self.clock.now().isoformat()},
            pk=("user_id", "organisation_id"),
        )

    def add_member(self, user_id: str, org_id: str, role: Role) -> None:
        if self.organisation(org_id) is None:
            raise AccountError("no such organisation")
        self._add_member(user_id, org_id, role)

    def memberships(self, user_id: str) -> list[Membership]:
        rows = self.db.query(
            "SELECT m.organisation_id, o.name, m.role, m.owner FROM memberships m "
            "JOIN organisations o ON o.id = m.organisation_id WHERE m.user_id = ? ORDER BY o.name",
            [user_id],
        )
        return [Membership(r["organisation_id"], r["name"], Role(r["role"]), bool(r["owner"])) for r in rows]

    def role(self, user_id: str, org_id: str) -> Role | None:
        rows = list(self.db.table("memberships").rows_where("user_id = ? AND organisation_id = ?", [user_id, org_id]))
        return Role(rows[0]["role"]) if rows else None

    def members(self, org_id: str) -> list[dict[str, object]]:
        rows = self.db.query(
            "SELECT u.id, u.email, u.name, m.role, m.owner, u.totp_secret IS NOT NULL AS two_factor "
            "FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organisation_id = ? ORDER BY u.name",
            [org_id],
        )
        return [{**r, "owner": bool(r["owner"]), "two_factor": bool(r["two_factor"])} for r in rows]

    def set_role(self, org_id: str, user_id: str, role: Role) -> None:
        current = self.role(user_id, org_id)
        if current is None:
            raise AccountError("that user is not a member of this organisation")
        if self._is_owner(user_id, org_id) and role != Role.ADMIN:
            raise AccountError("the owner stays an admin")
        self.db.table("memberships").update((user_id, org_id), {"role": role.value})

    def remove_member(self, org_id: str, user_id: str) -> None:
        if self.role(user_id, org_id) is None:
            raise AccountError("that user is not a member of this organisation")
        if self._is_owner(user_id, org_id):
            raise AccountError("the owner cannot be removed")
        self.db.table("memberships").delete((user_id, org_id))

    def _is_owner(self, user_id: str, org_id: str) -> bool:
        rows = list(self.db.table("memberships").rows_where("user_id = ? AND organisation_id = ?", [user_id, org_id]))
        return bool(rows and rows[0]["owner"])

