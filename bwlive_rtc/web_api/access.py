"""Who may call an endpoint. Every route handler declares it with ``@access(...)``;
the access middleware refuses a handler without a declaration, so a new endpoint cannot
be forgotten.

Levels, lowest first: ``PUBLIC`` (anyone), ``CAMERA`` (a camera, by its own credential),
``VIEWER``, ``OPERATOR``, ``ADMIN`` (signed-in users with at least that role in the
current organisation). Enforcement of user roles arrives with sign-in (issue 4); until
then the declaration is recorded and checked for presence.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import IntEnum
from typing import TypeVar

from aiohttp import web

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[web.StreamResponse]])
ACCESS_ATTRIBUTE = "__bwlive_access__"


class Access(IntEnum):
    PUBLIC = 0
    CAMERA = 1
    VIEWER = 2
    OPERATOR = 3
    ADMIN = 4


def access(level: Access) -> Callable[[Handler], Handler]:
    """Declare the access level a route handler needs."""

    def mark(handler: Handler) -> Handler:
        setattr(handler, ACCESS_ATTRIBUTE, level)
        return handler

    return mark


def required_access(handler: object) -> Access | None:
    return getattr(handler, ACCESS_ATTRIBUTE, None)


@web.middleware
async def access_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
    route = request.match_info.route
    static = isinstance(route.resource, web.StaticResource)
    if request.match_info.http_exception is None and not static and required_access(route.handler) is None:
        raise web.HTTPInternalServerError(text=f"{request.method} {request.path} declares no access rule")
    return await handler(request)
