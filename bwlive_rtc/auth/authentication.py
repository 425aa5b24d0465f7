"""Who is signed in: the session cookie, the CSRF token on state changes, and the role in
the organisation picked, read afresh on every request. Installed as the kernel's
signed-in authenticator; the kernel checks the level each route declares.

A member of an organisation that requires two-factor sign-in, who has not set it up, gets
only what a signed-in user without an organisation gets (their session, their account,
signing out): everything of the organisation is refused until they enrol."""
from __future__ import annotations

from aiohttp import web

from ..kernel.access import SAFE_METHODS, Access, Caller, required_access
from ..kernel.errors import Forbidden, Unauthorized
from ..protocol import CSRF_HEADER
from .accounts import User
from .service import AUTH
from .sessions import COOKIE_NAME, Session

SESSION = web.RequestKey("session", Session)
USER = web.RequestKey("user", User)


async def authenticate(request: web.Request) -> Caller:
    """The caller behind the session cookie; also keeps its ``USER`` and ``SESSION``."""
    auth = request.app[AUTH]
    token = request.cookies.get(COOKIE_NAME)
    session = auth.sessions.lookup(token) if token else None
    user = auth.accounts.user(session.user_id) if session else None
    if session is None or user is None:
        raise Unauthorized("sign in first (your session has ended or never began)")
    if request.method not in SAFE_METHODS and request.headers.get(CSRF_HEADER) != session.csrf_token:
        raise Forbidden(f"missing or wrong {CSRF_HEADER} header; reload the page")
    role = auth.accounts.role(user.id, session.organisation_id) if session.organisation_id else None
    level = required_access(request.match_info.route.handler)
    if role and level is not None and level >= Access.VIEWER and auth.must_enrol(user.id, session.organisation_id):
        raise Forbidden("your organisation requires two-factor sign-in: set it up on your Account page first")
    request[SESSION], request[USER] = session, user
    return Caller(user.id, user.name, session.organisation_id if role else None, role)
