"""Who may call an endpoint, and the middleware that enforces it on every request.

Every route handler declares its level with ``@access(...)``; a handler without one is
refused, so a new endpoint cannot be forgotten. Levels, lowest first: ``PUBLIC``
(anyone), ``CAMERA`` (a camera), ``USER`` (signed in, organisation not needed),
``VIEWER``, ``OPERATOR``, ``ADMIN`` (signed in, with at least that role in the
organisation picked).

The kernel knows the levels and roles; features say who the caller is. The auth feature
installs the signed-in authenticator (``SIGNED_IN``) and the fleet the camera
authenticator (``CAMERA_AUTHENTICATOR``), which refuses a request without a valid device
credential and keeps the camera on the request for the handler. ``CAMERA`` routes fail
closed: without a camera authenticator they are refused. Handlers read the signed-in
caller with ``caller()``.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import TypeVar

from aiohttp import web

from .errors import Forbidden, ServerFault

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[web.StreamResponse]])
ACCESS_ATTRIBUTE = "__bwlive_access__"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Access(IntEnum):
    PUBLIC = 0
    CAMERA = 1
    USER = 2
    VIEWER = 3
    OPERATOR = 4
    ADMIN = 5


class Role(str, Enum):
    """The roles a user holds in an organisation (SPEC §4)."""

    VIEWER = "viewer"  # watch and acknowledge live streams, watch recordings
    OPERATOR = "operator"  # the same, for the operators of a SOC
    ADMIN = "admin"  # also settings, users and roles, systems, integrations, licenses

    @property
    def rank(self) -> int:
        return list(Role).index(self)


ROLE_FOR_ACCESS = {Access.VIEWER: Role.VIEWER, Access.OPERATOR: Role.OPERATOR, Access.ADMIN: Role.ADMIN}


@dataclass(frozen=True)
class Caller:
    """The signed-in person behind a request; ``organisation_id``/``role`` once picked."""

    user_id: str
    user_name: str
    organisation_id: str | None
    role: Role | None


Authenticator = Callable[[web.Request], Awaitable[Caller]]
CameraAuthenticator = Callable[[web.Request], Awaitable[None]]

CALLER = web.RequestKey("caller", Caller)
SIGNED_IN: web.AppKey[Authenticator] = web.AppKey("signed_in_authenticator")
CAMERA_AUTHENTICATOR: web.AppKey[CameraAuthenticator] = web.AppKey("camera_authenticator")


def access(level: Access) -> Callable[[Handler], Handler]:
    """Declare the access level a route handler needs."""

    def mark(handler: Handler) -> Handler:
        setattr(handler, ACCESS_ATTRIBUTE, level)
        return handler

    return mark


def required_access(handler: object) -> Access | None:
    return getattr(handler, ACCESS_ATTRIBUTE, None)


def caller(request: web.Request) -> Caller:
    """The signed-in caller (set for every route of level USER or above)."""
    return request[CALLER]


def organisation(request: web.Request) -> str:
    """The organisation the caller picked (guaranteed for VIEWER and above)."""
    organisation_id = caller(request).organisation_id
    if organisation_id is None:
        raise Forbidden("pick an organisation first")
    return organisation_id


def _needs_same_origin(request: web.Request) -> bool:
    """A request another site's page could make with the user's cookie and act on: a
    state change, or a WebSocket upgrade (browsers let any page open one, cookie
    included, and always send its ``Origin``)."""
    return request.method not in SAFE_METHODS or request.headers.get("Upgrade", "").lower() == "websocket"


def _check_origin(request: web.Request) -> None:
    origin = request.headers.get("Origin")
    if origin and origin != f"{request.scheme}://{request.host}":
        raise Forbidden(f"requests from {origin} are not accepted")


@web.middleware
async def access_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
    route = request.match_info.route
    if request.match_info.http_exception is not None or isinstance(route.resource, web.StaticResource):
        return await handler(request)
    level = required_access(route.handler)
    if level is None:
        raise ServerFault(f"{request.method} {request.path} declares no access rule")
    if _needs_same_origin(request):
        _check_origin(request)
    if level == Access.CAMERA:
        if CAMERA_AUTHENTICATOR not in request.app:
            raise ServerFault(f"{request.method} {request.path} is for cameras, and no camera authenticator is installed")
        await request.app[CAMERA_AUTHENTICATOR](request)
        return await handler(request)
    if level == Access.PUBLIC:
        return await handler(request)
    who = await request.app[SIGNED_IN](request)
    if level >= Access.VIEWER:
        needed = ROLE_FOR_ACCESS[level]
        if who.role is None:
            raise Forbidden("pick an organisation first")
        if who.role.rank < needed.rank:
            raise Forbidden(f"this needs the {needed.value} role; you are {who.role.value}")
    request[CALLER] = who
    return await handler(request)
