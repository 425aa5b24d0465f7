"""Who may call an endpoint. Every route handler declares it with ``@access(...)``;
the access middleware refuses a handler without a declaration, so a new endpoint cannot
be forgotten.

Levels, lowest first: ``PUBLIC`` (anyone), ``CAMERA`` (a camera; device credentials
arrive with docking), ``USER`` (signed in, organisation not needed), ``VIEWER``,
``OPERATOR``, ``ADMIN`` (signed in, with at least that role in the organisation picked).
``bwlive_rtc.auth.middleware`` enforces them.
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
    USER = 2
    VIEWER = 3
    OPERATOR = 4
    ADMIN = 5


def access(level: Access) -> Callable[[Handler], Handler]:
    """Declare the access level a route handler needs."""

    def mark(handler: Handler) -> Handler:
        setattr(handler, ACCESS_ATTRIBUTE, level)
        return handler

    return mark


def required_access(handler: object) -> Access | None:
    return getattr(handler, ACCESS_ATTRIBUTE, None)
