"""Everything about who is who, behind one object at ``app[AUTH]``."""
from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from ..crypto.system_key import SystemPublicKey
from ..crypto.system_signing import SigningPublicKey
from ..kernel.access import Role
from ..kernel.audit import AuditLog
from ..kernel.clock import Clock
from ..kernel.errors import Conflict, Forbidden, NotFound, Unauthorized
from ..kernel.events import ACCESS_CHANGED, EventBus
from ..storage.database import Database
from ..systems.store import Systems
from .accounts import AccountError, Accounts, User
from .backoff import SignInBackoff
from .challenges import Challenges
from .console_origins import ConsoleOrigins
from .invitations import Invitation, Invitations
from .passwords import PasswordWorker, check_strength
from .resets import PasswordReset, PasswordResets
from .sessions import Session, Sessions
from .two_factor import TwoFactor

SECOND_FACTOR = "two-factor:"  # the back-off's account key for codes, apart from passwords


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
    two_factor: TwoFactor
    challenges: Challenges
    resets: PasswordResets
    console_origins: ConsoleOrigins

    @classmethod
    def open(cls, database: Database, clock: Clock, systems: Systems, audit: AuditLog, events: EventBus) -> AuthService:
        """Auth over the shared systems, audit log and event bus (one of each per process)."""
        db = database.db
        accounts = Accounts(db, clock)
        return cls(accounts, Sessions(db, clock), Invitations(db, clock, accounts), systems, audit,
                   SignInBackoff(clock, events.nodes), PasswordWorker(), events, TwoFactor(db, clock),
                   Challenges(clock), PasswordResets(db, clock, accounts), ConsoleOrigins(db, clock))

    def close(self) -> None:
        self.passwords.close()

    async def sign_in(self, email: str, password: str, address: str) -> User | None:
        """The user whose password this is, or None; checked off the event loop, after the
        address's back-off (429 while it must wait)."""
        await self.backoff.attempt(email, address)
        user, password_hash = self.accounts.credentials(email)
        if not await self.passwords.verify(password_hash, password) or user is None:
            return None
        await self.backoff.succeeded(email, address)
        return user

    async def second_factor(self, token: str | None, code: str, address: str) -> User:
        """The user whose sign-in the challenge ``token`` holds, if ``code`` is a fresh
        TOTP code or an unused recovery code of theirs; codes back off as passwords do,
        counted apart, so a right password does not wipe a code's failures."""
        challenge = self.challenges.take_try(token)
        key = SECOND_FACTOR + challenge.email
        await self.backoff.attempt(key, address)
        user = self.accounts.user(challenge.user_id)
        if user is None or not self.two_factor.verify(user.id, code):
            raise Unauthorized("that code is not right (or was used already): enter the code your app shows now")
        await self.backoff.succeeded(key, address)
        assert token is not None
        self.challenges.end(token)
        return user

    def must_enrol(self, user_id: str, organisation_id: str | None) -> bool:
        """The organisation requires two-factor sign-in and the user has not set it up."""
        return bool(organisation_id and self.accounts.requires_two_factor(organisation_id)
                    and not self.two_factor.enabled(user_id))

    async def change_password(self, user: User, session: Session, current: str, new: str, address: str) -> None:
        """Set a new password once the current one is given (backing off like a sign-in);
        every other session of the user ends."""
        await self._check_password(user, current, address)
        self.accounts.set_password_hash(user.id, await self.passwords.hash(new))
        self.sessions.end_all_for(user.id, keep=session)
        self.record_for_each_organisation(user, "password changed")

    async def disable_two_factor(self, user: User, password: str, address: str) -> None:
        """Two-factor sign-in off, given the password; refused while an organisation of the
        user requires it."""
        requiring = [m.organisation_name for m in self.accounts.memberships(user.id)
                     if self.accounts.requires_two_factor(m.organisation_id)]
        if requiring:
            raise Conflict(f"{', '.join(requiring)} requires two-factor sign-in, so it stays on")
        await self._check_password(user, password, address)
        self.two_factor.disable(user.id)
        self.record_for_each_organisation(user, "two-factor sign-in turned off")

    async def _check_password(self, user: User, password: str, address: str) -> None:
        """Refuse a wrong password of the signed-in user, backing off as sign-in does."""
        await self.backoff.attempt(user.email, address)
        if not await self.passwords.verify(self.accounts.password_hash(user.id), password):
            raise AccountError("your password is not right")
        await self.backoff.succeeded(user.email, address)

    def _administered_member(self, actor: User, organisation_id: str, user_id: str, what: str) -> User:
        """A member of the organisation whose account ``actor`` may reset: refused for a
        member of another organisation the admin does not administer too (an admin of one
        organisation must not take over an account that matters elsewhere)."""
        user = self.accounts.user(user_id) if self.accounts.role(user_id, organisation_id) else None
        if user is None:
            raise NotFound("no such member in this organisation")
        if any(self.accounts.role(actor.id, m.organisation_id) != Role.ADMIN for m in self.accounts.memberships(user.id)):
            raise Forbidden(f"{user.name} is also a member of an organisation you do not administer; "
                            f"an admin of each of their organisations must reset {what}")
        return user

    def reset_two_factor(self, actor: User, organisation_id: str, user_id: str) -> User:
        """A member lost their authenticator (and recovery codes): two-factor sign-in off
        and every session of theirs ended; an organisation that requires it sends them to
        set it up again at their next sign-in."""
        user = self._administered_member(actor, organisation_id, user_id, "their two-factor sign-in")
        if not self.two_factor.enabled(user.id):
            raise Conflict(f"{user.name} has no two-factor sign-in to reset")
        self.two_factor.disable(user.id)
        self.sessions.end_all_for(user.id)
        self.audit.record("two-factor sign-in reset", organisation_id=organisation_id, user_id=actor.id,
                          user_name=actor.name, member=_person(user))
        return user

    def create_reset(self, actor: User, organisation_id: str, user_id: str) -> tuple[User, str]:
        """A one-time reset link's token for a member (refused as ``_administered_member`` says)."""
        user = self._administered_member(actor, organisation_id, user_id, "the password")
        token = self.resets.create(organisation_id, user, actor)
        self.audit.record("password reset link created", organisation_id=organisation_id, user_id=actor.id,
                          user_name=actor.name, member=_person(user))
        return user, token

    async def reset_password(self, token: str, password: str) -> PasswordReset:
        """Set the password through a reset link (once); every session of the member ends."""
        self.resets.pending(token)
        password_hash = await self.passwords.hash(password)
        reset = self.resets.use(token)
        self.accounts.set_password_hash(reset.user.id, password_hash)
        self.sessions.end_all_for(reset.user.id)
        self.audit.record("password reset", organisation_id=reset.organisation_id, user_id=reset.user.id,
                          user_name=reset.user.name)
        return reset

    def record_for_each_organisation(self, user: User, action: str, **details: object) -> None:
        for membership in self.accounts.memberships(user.id):
            self.audit.record(action, organisation_id=membership.organisation_id, user_id=user.id,
                              user_name=user.name, **details)

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
                  signing_key: SigningPublicKey | None = None, system_name: str = "local system") -> tuple[User, bool]:
        """First admin and organisation of a fresh install; registers the local system's
        public keys (and, run again, a new signing key of the local system). Idempotent;
        returns the admin and whether the account was created now (an existing account
        keeps its password)."""
        check_strength(password)
        existing_user = self.accounts.user_by_email(email)
        user = existing_user or self.accounts.create_user(email, name, password)
        existing = [m for m in self.accounts.memberships(user.id) if m.organisation_name == organisation]
        org_id = existing[0].organisation_id if existing else self.accounts.create_organisation(organisation, user)
        if system_key is not None:
            for system, key in self.systems.register_local(org_id, system_name, system_key, signing_key):
                self.audit.record("system signing key changed", organisation_id=org_id, user_id=user.id,
                                  user_name=user.name, system_id=system.id, signing_key_id=key.key_id,
                                  previous_signing_key_id=system.signing_key.key_id if system.signing_key else None)
        self.audit.record("organisation bootstrapped", organisation_id=org_id, user_id=user.id, user_name=user.name)
        return user, existing_user is None

    def set_role(self, actor: User, organisation_id: str, user_id: str, role: Role) -> None:
        self.accounts.set_role(organisation_id, user_id, role)
        self.audit.record("role changed", organisation_id=organisation_id, user_id=actor.id, user_name=actor.name,
                          member=self._member(user_id), role=role.value)
        self.events.emit(ACCESS_CHANGED, user_id, organisation_id, True)

    def remove_member(self, actor: User, organisation_id: str, user_id: str) -> None:
        member = self._member(user_id)
        self.accounts.remove_member(organisation_id, user_id)
        self.audit.record("member removed", organisation_id=organisation_id, user_id=actor.id, user_name=actor.name,
                          member=member)
        self.events.emit(ACCESS_CHANGED, user_id, organisation_id, False)


    def _member(self, user_id: str) -> str:
        user = self.accounts.user(user_id)
        return _person(user) if user else user_id


def _person(user: User) -> str:
    """How the audit log names a person: name and e-mail address."""
    return f"{user.name} <{user.email}>"


AUTH = web.AppKey("auth", AuthService)
