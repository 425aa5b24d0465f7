"""Organisations, users and memberships (with roles), in the metadata database."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..kernel.access import Role
from ..kernel.clock import Clock
from ..kernel.errors import BadRequest
from ..kernel.tokens import new_id
from ..storage.sql import Sql
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

    def __init__(self, db: Sql, clock: Clock) -> None:
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
        self.db.insert(
            "users", {"id": user.id, "email": user.email, "name": user.name, "password_hash": password_hash,
             "identity_provider": "local", "created_at": self.clock.now().isoformat()}
        )
        return user

    def create_user(self, email: str, name: str, password: str) -> User:
        """A new local user, hashing the password on this thread (the command line, tests;
        the HTTP API hashes on the ``PasswordWorker``)."""
        self.check_new_user(email, name)
        return self.add_user(email, name, hash_password(password))

    def user(self, user_id: str) -> User | None:
        row = self.db.row("SELECT * FROM users WHERE id = :id", id=user_id)
        return User(row["id"], row["email"], row["name"]) if row else None

    def user_by_email(self, email: str) -> User | None:
        user, _ = self.credentials(email)
        return user

    def credentials(self, email: str) -> tuple[User | None, str | None]:
        """The user with this e-mail address and their password hash (None, None: no such user)."""
        row = self.db.row("SELECT * FROM users WHERE email = :email", email=email.strip().lower())
        if row is None:
            return None, None
        return User(row["id"], row["email"], row["name"]), row["password_hash"]

    def password_hash(self, user_id: str) -> str | None:
        return self.db.value("SELECT password_hash FROM users WHERE id = :id", id=user_id)

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        """A new password (an Argon2 hash made by ``PasswordWorker.hash``)."""
        self.db.update("users", {"id": user_id}, {"password_hash": password_hash})

    # --- organisations and memberships ------------------------------------------------

    def create_organisation(self, name: str, creator: User) -> str:
        """Create an organisation; its creator becomes owner and admin. Starts a 30-day trial."""
        if not name.strip():
            raise AccountError("enter a name for the organisation")
        now = self.clock.now()
        org_id = new_id()
        self.db.insert(
            "organisations",
            {"id": org_id, "name": name.strip(), "created_at": now.isoformat(), "trial_ends_at": (now + TRIAL).isoformat()}
        )
        self._add_member(creator.id, org_id, Role.ADMIN, owner=True)
        return org_id

    def organisations(self, name: str | None = None) -> list[dict]:
        """Every organisation, or those named ``name``."""
        if name:
            return self.db.rows("SELECT * FROM organisations WHERE name = :name", name=name)
        return self.db.rows("SELECT * FROM organisations")

    def organisation(self, org_id: str) -> dict | None:
        return self.db.row("SELECT * FROM organisations WHERE id = :id", id=org_id)

    def trial_ends_at(self, org_id: str) -> datetime:
        org = self.organisation(org_id)
        if org is None:
            raise AccountError("no such organisation")
        return datetime.fromisoformat(org["trial_ends_at"])

    def requires_two_factor(self, org_id: str) -> bool:
        org = self.organisation(org_id)
        return bool(org and org["require_two_factor"])

    def set_two_factor_policy(self, org_id: str, required: bool) -> None:
        self.db.update("organisations", {"id": org_id}, {"require_two_factor": int(required)})

    def _add_member(self, user_id: str, org_id: str, role: Role, owner: bool = False) -> None:
        self.db.run(
            "INSERT INTO memberships (user_id, organisation_id, role, owner, created_at)"
            " VALUES (:user, :organisation, :role, :owner, :now) ON CONFLICT (user_id, organisation_id)"
            " DO UPDATE SET role = excluded.role, owner = excluded.owner, created_at = excluded.created_at",
            user=user_id, organisation=org_id, role=role.value, owner=int(owner), now=self.clock.now().isoformat())

    def add_member(self, user_id: str, org_id: str, role: Role) -> None:
        if self.organisation(org_id) is None:
            raise AccountError("no such organisation")
        self._add_member(user_id, org_id, role)

    def memberships(self, user_id: str) -> list[Membership]:
        rows = self.db.rows(
            "SELECT m.organisation_id, o.name, m.role, m.owner FROM memberships m "
            "JOIN organisations o ON o.id = m.organisation_id WHERE m.user_id = :user ORDER BY o.name",
            user=user_id,
        )
        return [Membership(r["organisation_id"], r["name"], Role(r["role"]), bool(r["owner"])) for r in rows]

    def role(self, user_id: str, org_id: str) -> Role | None:
        row = self._membership(user_id, org_id)
        return Role(row["role"]) if row else None

    def members(self, org_id: str) -> list[dict[str, object]]:
        rows = self.db.rows(
            "SELECT u.id, u.email, u.name, m.role, m.owner, u.totp_secret IS NOT NULL AS two_factor "
            "FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organisation_id = :organisation ORDER BY u.name",
            organisation=org_id,
        )
        return [{**r, "owner": bool(r["owner"]), "two_factor": bool(r["two_factor"])} for r in rows]

    def set_role(self, org_id: str, user_id: str, role: Role) -> None:
        current = self.role(user_id, org_id)
        if current is None:
            raise AccountError("that user is not a member of this organisation")
        if self._is_owner(user_id, org_id) and role != Role.ADMIN:
            raise AccountError("the owner stays an admin")
        self.db.update("memberships", {"user_id": user_id, "organisation_id": org_id}, {"role": role.value})

    def remove_member(self, org_id: str, user_id: str) -> None:
        if self.role(user_id, org_id) is None:
            raise AccountError("that user is not a member of this organisation")
        if self._is_owner(user_id, org_id):
            raise AccountError("the owner cannot be removed")
        self.db.delete("memberships", user_id=user_id, organisation_id=org_id)

    def _is_owner(self, user_id: str, org_id: str) -> bool:
        row = self._membership(user_id, org_id)
        return bool(row and row["owner"])

    def _membership(self, user_id: str, org_id: str) -> dict | None:
        return self.db.row("SELECT * FROM memberships WHERE user_id = :user AND organisation_id = :organisation",
                           user=user_id, organisation=org_id)

