"""Everything about who is who, behind one object at ``app[AUTH]``."""
from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from ..crypto.system_key import SystemPublicKey
from ..kernel.access import Role
from ..kernel.audit import AuditLog
from ..kernel.clock import Clock
from ..kernel.events import ACCESS_CHANGED, EventBus
from ..storage.database import Database
from ..systems.store import Systems
from .accounts import AccountError, Accounts, User
from .backoff import SignInBackoff
from .invitations import Invitation, Invitations
from .passwords import PasswordWorker, check_strength
from .sessions import Sessions


@dataclass
class AuthService:
    accounts: Accounts
    sessions: Sessions
    invitations: Invitations
    systems: Systems
    audit: AuditLog
    backoff: SignInBackoff
    passwords: PasswordWorker
    events: EventBus

    @classmethod
    def open(cls, database: Database, clock: Clock, systems: Systems, audit: AuditLog, events: EventBus) -> AuthService:
        """Auth over the shared systems, audit log and event bus (one of each per process)."""
        db = database.db
        accounts = Accounts(db, clock)
        return cls(accounts, Sessions(db, clock), Invitations(db, clock, accounts), systems, audit,
                   SignInBackoff(clock), PasswordWorker(), events)

    def close(self) -> None:
        self.passwords.close()

    async def sign_in(self, email: str, password: str, address: str) -> User | None:
        """The user whose password this is, or None; checked off the event loop, after the
        address's back-off (429 while it must wait)."""
        self.backoff.attempt(email, address)
        user, password_hash = self.accounts.credentials(email)
        if not await self.passwords.verify(password_hash, password) or user is None:
            return None
        self.backoff.succeeded(email, address)
        return user

    async def accept_invitation(self, token: str, name: str, password: str, address: str) -> tuple[User, Invitation]:
        """Create the invitee's account (or use the existing one, if the password is its
        own) and add the membership."""
        invitation = self.invitations.pending(token)
        if self.accounts.user_by_email(invitation.email) is None:
            self.accounts.check_new_user(invitation.email, name)
            user = self.accounts.add_user(invitation.email, name, await self.passwords.hash(password))
        else:
            existing = await self.sign_in(invitation.email, password, address)
            if existing is None:
                raise AccountError(f"{invitation.email} already has an account: enter its password to accept")
            user = existing
        return user, self.invitations.redeem(token, user)

    def bootstrap(self, organisation: str, email: str, name: str, password: str, system_key: SystemPublicKey | None,
                  system_name: str = "local system") -> tuple[User, bool]:
        """First admin and organisation of a fresh install; registers the local system key.
        Idempotent; returns the admin and whether the account was created now (an existing
        account keeps its password)."""
        check_strength(password)
        existing_user = self.accounts.user_by_email(email)
        user = existing_user or self.accounts.create_user(email, name, password)
        existing = [m for m in self.accounts.memberships(user.id) if m.organisation_name == organisation]
        org_id = existing[0].organisation_id if existing else self.accounts.create_organisation(organisation, user)
        if system_key is not None and org_id not in self.systems.organisations_for_key(system_key.key_id):
            self.systems.add(org_id, system_name, system_key)
        self.audit.record("organisation bootstrapped", organisation_id=org_id, user_id=user.id, user_name=user.name)
        return user, existing_user is None

    def set_role(self, actor: User, organisation_id: str, user_id: str, role: Role) -> None:
        self.accounts.set_role(organisation_id, user_id, role)
        self.audit.record("role changed", organisation_id=organisation_id, user_id=actor.id, user_name=actor.name,
                          member=user_id, role=role.value)
        self.events.emit(ACCESS_CHANGED, user_id, organisation_id, True)

    def remove_member(self, actor: User, organisation_id: str, user_id: str) -> None:
        self.accounts.remove_member(organisation_id, user_id)
        self.audit.record("member removed", organisation_id=organisation_id, user_id=actor.id, user_name=actor.name,
                          member=user_id)
        self.events.emit(ACCESS_CHANGED, user_id, organisation_id, False)


AUTH = web.AppKey("auth", AuthService)
