"""What the API-key and token endpoints read."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..kernel.requests import Id, Name, OptionalName, Origin, RequestModel

TokenRole = Literal["viewer", "operator"]  # never admin
MAX_ORIGINS, MAX_NAMES = 20, 50


class NewApiKey(RequestModel):
    name: Name
    role: TokenRole
    origins: Annotated[list[Origin], Field(min_length=1, max_length=MAX_ORIGINS)]
    expires_in_days: Annotated[int, Field(ge=1, le=3650)] | None = None  # None: until revoked


class ApiKeyPath(RequestModel):
    key_id: Id


class TokenScope(RequestModel):
    """What the token reaches: live streams by id or camera user name, the camera users of
    console groups (by id), recordings by id or camera user name; ``"*"``: all of them."""

    streams: Annotated[list[Name], Field(default_factory=list, max_length=MAX_NAMES)]
    groups: Annotated[list[Id], Field(default_factory=list, max_length=MAX_NAMES)]
    recordings: Annotated[list[Name], Field(default_factory=list, max_length=MAX_NAMES)]


class TokenRequest(RequestModel):
    """A viewer token for one origin of the key (needed when it has several)."""

    scope: TokenScope
    origin: Origin | None = None
    role: TokenRole | None = None  # default: the key's; never above it
    minutes: Annotated[int, Field(ge=1, le=60)] = 5
    subject: OptionalName = ""  # the integrator's user, shown with their acknowledgements
