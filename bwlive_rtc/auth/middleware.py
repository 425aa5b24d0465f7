"""Enforcing each route's declared access level on every request (HTTP, WebSocket and
signaling alike): session cookie, CSRF token and same-origin check on state changes,
and the role in the organisation picked, read afresh on every request."""
from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from ..web_api.access import Access, required_access
from .accounts import User
from .roles import Role
from .service import AUTH
from .sessions import COOKIE_NAME, CSRF_HEADER, Session

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ROLE_FOR_ACCESS = {Access.VIEWER: Role.VIEWER, Access.OPERATOR: Role.OPERATOR, Access.ADMIN: Role.ADMIN}


@dataclass(frozen=True)
class Caller:
    """The signed-in user behind a request; ``organisation_id``/``role`` once picked."""

    user: User
    session: Session
    organisation_id: str | None
    role: Role | None


CALLER = web.RequestKey("caller", Caller)


def caller(request: web.Request) -> Caller:
    return request[CALLER]


def audit(request: web.Request, action: str, **details: object) -> None:
    """Record in the audit log that the signed-in caller did ``action``."""
    who = caller(request)
    request.app[AUTH].audit.record(action, organisation_id=who.organisation_id, user_id=who.user.id,
                                   user_name=who.user.name, **details)


def _refuse(status: type[web.HTTPException], message: str) -> web.HTTPException:
    return status(text=message)


def _check_origin(request: web.Request) -> None:
    origin = request.headers.get("Origin")
    if origin and origin != f"{request.scheme}://{request.host}":
        raise _refuse(web.HTTPForbidden, f"requests from {origin} are not accepted")


def _signed_in_caller(request: web.Request) -> Caller:
    auth = request.app[AUTH]
    token = request.cookies.get(COOKIE_NAME)
    session = auth.sessions.lookup(token) if token else None
    user = auth.accounts.user(session.user_id) if session else None
    if session is None or user is None:
        raise _refuse(web.HTTPUnauthorized, "sign in first (your session has ended or never began)")
    if request.method not in SAFE_METHODS and request.headers.get(CSRF_HEADER) != session.csrf_token:
        raise _refuse(web.HTTPForbidden, f"missing or wrong {CSRF_HEADER} header; reload the page")
    role = auth.accounts.role(user.id, session.organisation_id) if session.organisation_id else None
    return Caller(user, session, session.organisation_id if role else None, role)


@web.middleware
async def access_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
    route = request.match_info.route
    if request.match_info.http_exception is not None or isinstance(route.resource, web.StaticResource):
        return await handler(request)
    level = required_access(route.handler)
    if level is None:
        raise _refuse(web.HTTPInternalServerError, f"{request.method} {request.path} declares no access rule")
    if request.method not in SAFE_METHODS:
        _check_origin(request)
    if level <= Access.CAMERA:
        return await handler(request)
    who = _signed_in_caller(request)
    if level >= Access.VIEWER:
        needed = ROLE_FOR_ACCESS[level]
        if who.role is None:
            raise _refuse(web.HTTPForbidden, "pick an organisation first")
        if who.role.rank < needed.rank:
            raise _refuse(web.HTTPForbidden, f"this needs the {needed.value} role; you are {who.role.value}")
    request[CALLER] = who
    return await handler(request)
