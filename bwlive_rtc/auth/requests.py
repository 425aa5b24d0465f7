"""What the auth API reads: one model per body and per path."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from ..kernel.access import Role
from ..kernel.requests import Id, Name, OptionalName, Origin, RequestModel
from .passwords import MAX_LENGTH

Email = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=254,
                                         pattern=r"^[^@\s]+@[^@\s]+$")]
Password = Annotated[str, StringConstraints(min_length=1, max_length=MAX_LENGTH)]


class SignIn(RequestModel):
    email: Email
    password: Password


class PasswordChange(RequestModel):
    current_password: Password
    new_password: Password


class NewPassword(RequestModel):
    password: Password


class TwoFactorCode(RequestModel):
    """A code from the authenticator app, or a recovery code."""

    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]


class SignInCode(TwoFactorCode):
    """The code after the password; at a console origin with the challenge its answer gave."""

    challenge: Annotated[str, StringConstraints(max_length=100)] | None = None


class TwoFactorOff(RequestModel):
    password: Password


class Policy(RequestModel):
    require_two_factor: bool


class ConsoleOriginList(RequestModel):
    """Every console origin of the organisation (replacing the ones it had)."""

    origins: Annotated[list[Origin], Field(max_length=20)]


class PickOrganisation(RequestModel):
    organisation_id: Id


class NewOrganisation(RequestModel):
    name: Name


class RoleChange(RequestModel):
    role: Role


class Invite(RequestModel):
    email: Email
    role: Role


class AcceptInvitation(RequestModel):
    name: OptionalName = ""  # for a new account; an existing one keeps its name
    password: Password


class MemberPath(RequestModel):
    user_id: Id


class InvitationPath(RequestModel):
    token: Id


class ResetPath(RequestModel):
    token: Id
