"""Who may call an endpoint, and the middleware that enforces it on every request.

Every route handler declares its level with ``@access(...)``; a handler without one is
refused, so a new endpoint cannot be forgotten. Levels, lowest first: ``PUBLIC``
(anyone), ``CAMERA`` (a camera), ``API_KEY`` (an integrator's backend), ``USER`` (signed
in, organisation not needed), ``VIEWER``, ``OPERATOR``, ``ADMIN`` (signed in, with at
least that role in the organisation picked).

The kernel knows the levels and roles; features say who the caller is. The auth feature
installs the signed-in authenticator (``SIGNED_IN``); the fleet the camera authenticator
(``CAMERA_AUTHENTICATOR``), which refuses a request without a valid device credential and
keeps the camera on the request for the handler; the signaling feature the node
authenticator (``NODE_AUTHENTICATOR``: another node's signed call, naming the viewer it
checked as the caller); the embedding feature the API-key
authenticator (``API_KEY_AUTHENTICATOR``) and, with ``add_authenticator``, one that knows
viewer tokens. ``CAMERA``, ``API_KEY`` and ``NODE`` routes fail closed: without their authenticator
they are refused. Handlers read the caller with ``caller()``.

A caller from a viewer token carries its ``Scope`` and is admitted only where the route
says so with ``@access(level, token=...)`` (the level a token needs there). Same-origin
checks are for cookies (``Caller.by_cookie``): a viewer token or a console session signed
in from another origin (a bearer token bound to that origin, docs/EMBEDDING.md) does not
rely on them. A public route also takes state changes from the console origins
organisations configured (``CONSOLE_ORIGINS``, installed by the auth feature): signing in
from there gives a bearer token, never a cookie.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, IntEnum
from typing import TypeVar

from aiohttp import web

from ..protocol import TOKEN_SUBPROTOCOL
from .errors import Forbidden, ServerFault

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[web.StreamResponse]])
ACCESS_ATTRIBUTE = "__bwlive_access__"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Access(IntEnum):
    PUBLIC = 0
    CAMERA = 1
    API_KEY = 2
    USER = 3
    VIEWER = 4
    OPERATOR = 5
    ADMIN = 6
    NODE = 7  # another node of the cluster, for a viewer it checked (kernel/node_calls.py); no person's credential


class Role(str, Enum):
    """The roles a user holds in an organisation (SPEC §4)."""

    VIEWER = "viewer"  # watch and acknowledge live streams, watch recordings
    OPERATOR = "operator"  # the same, for the operators of a SOC
    ADMIN = "admin"  # also settings, users and roles, systems, integrations, licenses

    @property
    def rank(self) -> int:
        return list(Role).index(self)


ROLE_FOR_ACCESS = {Access.VIEWER: Role.VIEWER, Access.OPERATOR: Role.OPERATOR, Access.ADMIN: Role.ADMIN}


EVERY = "*"


@dataclass(frozen=True)
class Scope:
    """What a viewer token reaches within its organisation: live streams and recordings,
    each named by id or by camera user name; ``"*"`` names them all."""

    streams: frozenset[str] = frozenset()
    recordings: frozenset[str] = frozenset()

    def sees_stream(self, stream_id: str, camera: str) -> bool:
        return not self.streams.isdisjoint((EVERY, stream_id, camera))

    def sees_recording(self, recording_id: str, camera: str) -> bool:
        return not self.recordings.isdisjoint((EVERY, recording_id, camera))


@dataclass(frozen=True)
class Caller:
    """Who is behind a request: a signed-in person (``organisation_id``/``role`` once
    picked), or a viewer token restricted to its ``scope``."""

    user_id: str
    user_name: str
    organisation_id: str | None
    role: Role | None
    scope: Scope | None = None  # a viewer token's; None: a signed-in user's whole organisation
    expires_at: datetime | None = None  # a viewer token's end
    by_cookie: bool = True  # False: a bearer token, which another site's page cannot make a browser send

    def sees_stream(self, stream_id: str, camera: str) -> bool:
        return self.scope is None or self.scope.sees_stream(stream_id, camera)

    def sees_recording(self, recording_id: str, camera: str) -> bool:
        return self.scope is None or self.scope.sees_recording(recording_id, camera)


Authenticator = Callable[[web.Request], Awaitable[Caller]]
# One kind of credential: the caller it names, None when the request carries none of its kind
# (a credential of its kind that is not good is refused with a 4xx).
CredentialReader = Callable[[web.Request], Awaitable[Caller | None]]
CameraAuthenticator = Callable[[web.Request], Awaitable[None]]  # also the API key's: admits or refuses

CALLER = web.RequestKey("caller", Caller)
SIGNED_IN: web.AppKey[Authenticator] = web.AppKey("signed_in_authenticator")
AUTHENTICATORS: web.AppKey[tuple[CredentialReader, ...]] = web.AppKey("authenticators")
CAMERA_AUTHENTICATOR: web.AppKey[CameraAuthenticator] = web.AppKey("camera_authenticator")
API_KEY_AUTHENTICATOR: web.AppKey[CameraAuthenticator] = web.AppKey("api_key_authenticator")
# Another node's signed call; its authenticator names the viewer the calling node checked (``CALLER``).
NODE_AUTHENTICATOR: web.AppKey[CameraAuthenticator] = web.AppKey("node_authenticator")
CREDENTIAL_LEVELS = {Access.CAMERA: CAMERA_AUTHENTICATOR, Access.API_KEY: API_KEY_AUTHENTICATOR,
                     Access.NODE: NODE_AUTHENTICATOR}
# Whether an origin is a console origin some organisation configured (the web client hosted there).
CONSOLE_ORIGINS: web.AppKey[Callable[[str], bool]] = web.AppKey("console_origins")
TOKEN_ACCESS_ATTRIBUTE = "__bwlive_token_access__"


def access(level: Access, token: Access | None = None) -> Callable[[Handler], Handler]:
    """Declare the access level a route handler needs, and (``token``) the level a viewer
    token needs there; without it, tokens are refused."""

    def mark(handler: Handler) -> Handler:
        setattr(handler, ACCESS_ATTRIBUTE, level)
        if token is not None:
            setattr(handler, TOKEN_ACCESS_ATTRIBUTE, token)
        return handler

    return mark


def required_access(handler: object) -> Access | None:
    return getattr(handler, ACCESS_ATTRIBUTE, None)


def token_access(handler: object) -> Access | None:
    """The level a viewer token needs on this handler; None: tokens are refused."""
    return getattr(handler, TOKEN_ACCESS_ATTRIBUTE, None)


def add_authenticator(app: web.Application, reader: CredentialReader) -> None:
    """Let ``reader`` say who the caller is; the signed-in authenticator answers when no
    reader recognises a credential."""
    app[AUTHENTICATORS] = (*app.get(AUTHENTICATORS, ()), reader)


def caller(request: web.Request) -> Caller:
    """The caller, signed in or by a viewer token (set for every route of level USER or above)."""
    return request[CALLER]


def organisation(request: web.Request) -> str:
    """The organisation the caller picked (guaranteed for VIEWER and above)."""
    organisation_id = caller(request).organisation_id
    if organisation_id is None:
        raise Forbidden("pick an organisation first")
    return organisation_id


def bearer_credential(request: web.Request) -> str | None:
    """The bearer credential of the ``Authorization`` header or, for a WebSocket (whose
    browsers cannot set headers), of the subprotocols offered (``bwlive.bearer, <token>``)."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    offered = [name.strip() for name in request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
    if len(offered) == 2 and offered[0] == TOKEN_SUBPROTOCOL:
        return offered[1]
    return None


def is_console_origin(request: web.Request, origin: str) -> bool:
    """Whether ``origin`` is a console origin some organisation configured."""
    return CONSOLE_ORIGINS in request.app and request.app[CONSOLE_ORIGINS](origin)


def _needs_same_origin(request: web.Request) -> bool:
    """A request another site's page could make with the user's cookie and act on: a
    state change, or a WebSocket upgrade (browsers let any page open one, cookie
    included, and always send its ``Origin``)."""
    return request.method not in SAFE_METHODS or request.headers.get("Upgrade", "").lower() == "websocket"


def _check_origin(request: web.Request, console: bool = False) -> None:
    """Refuse what another site's page could make a browser send with its cookie;
    ``console``: a configured console origin may (it gets bearer tokens, never cookies)."""
    if not _needs_same_origin(request):
        return
    origin = request.headers.get("Origin")
    if origin and origin != f"{request.scheme}://{request.host}" and not (console and is_console_origin(request, origin)):
        raise Forbidden(f"requests from {origin} are not accepted: it is not a console origin of any organisation")


@web.middleware
async def access_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
    route = request.match_info.route
    if request.match_info.http_exception is not None or isinstance(route.resource, web.StaticResource):
        return await handler(request)
    level = required_access(route.handler)
    if level is None:
        raise ServerFault(f"{request.method} {request.path} declares no access rule")
    if level in CREDENTIAL_LEVELS:
        _check_origin(request)
        authenticator = CREDENTIAL_LEVELS[level]
        if authenticator not in request.app:
            raise ServerFault(f"{request.method} {request.path} needs a {level.name.lower()} credential, and no "
                              "authenticator for it is installed")
        await request.app[authenticator](request)
        return await handler(request)
    if level == Access.PUBLIC:
        _check_origin(request, console=True)
        if token_access(route.handler) is not None:
            await _read_credential(request)  # a token, if any, says which origin may read this
        return await handler(request)
    who = await _read_credential(request) or await request.app[SIGNED_IN](request)
    if who.by_cookie:
        _check_origin(request)
    if who.scope is not None:
        level = _token_level(route.handler, request)
    if level >= Access.VIEWER:
        needed = ROLE_FOR_ACCESS[level]
        if who.role is None:
            raise Forbidden("pick an organisation first")
        if who.role.rank < needed.rank:
            raise Forbidden(f"this needs the {needed.value} role; you are {who.role.value}")
    request[CALLER] = who
    return await handler(request)


async def _read_credential(request: web.Request) -> Caller | None:
    """The caller named by the first credential a reader recognises (the signed-in
    authenticator answers when none does)."""
    for reader in request.app.get(AUTHENTICATORS, ()):
        who = await reader(request)
        if who is not None:
            return who
    return None


def _token_level(handler: object, request: web.Request) -> Access:
    """The level a viewer token needs here; refused where tokens are not accepted."""
    level = token_access(handler)
    if level is None:
        raise Forbidden(f"a viewer token is not accepted for {request.method} {request.path}: it watches "
                        "streams and recordings and, with the operator role, acknowledges; nothing else")
    return level
