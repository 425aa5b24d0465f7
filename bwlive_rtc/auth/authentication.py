"""Who is signed in: the session cookie, the CSRF token on state changes, and the role in
the organisation picked, read afresh on every request. Installed as the kernel's
signed-in authenticator; the kernel checks the level each route declares.

A console hosted on an organisation's own origin signs in to a bearer session instead
(``Authorization: Bearer bws_…``, on a WebSocket the ``bwlive.bearer`` subprotocol): it
must come from the origin it was signed in at, that origin must still be one of its
organisation's console origins, and it ends ``BEARER_LIFE`` after its page last renewed
it. It needs no CSRF token (a browser never sends it by itself).

A member of an organisation that requires two-factor sign-in, who has not set it up, gets
only what a signed-in user without an organisation gets (their session, their account,
signing out): everything of the organisation is refused until they enrol."""
from __future__ import annotations

from aiohttp import web

from ..kernel.access import SAFE_METHODS, Access, Caller, bearer_credential, required_access
from ..kernel.errors import Forbidden, Unauthorized
from ..protocol import CSRF_HEADER, SESSION_TOKEN_PREFIX
from .accounts import User
from .service import AUTH
from .sessions import COOKIE_NAME, Session

SESSION = web.RequestKey("session", Session)
USER = web.RequestKey("user", User)
SIGN_IN_AGAIN = "sign in first (your session has ended or never began)"


def _bearer_session(request: web.Request, token: str) -> Session:
    """The console session of a bearer token, checked against the request's origin."""
    auth = request.app[AUTH]
    session = auth.sessions.lookup_bearer(token)
    if session is None or session.origin is None or session.expires_at is None:
        raise Unauthorized(SIGN_IN_AGAIN, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    if session.expires_at <= auth.sessions.clock.now():
        raise Unauthorized(f"your session expired at {session.expires_at.isoformat(timespec='seconds')} (its page "
                           "did not renew it); sign in again", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    origin = request.headers.get("Origin")
    if origin is not None and origin != session.origin:
        raise Forbidden(f"this session was signed in at {session.origin}, not at {origin}")
    if session.organisation_id and not auth.console_origins.allows(session.organisation_id, session.origin):
        raise Forbidden(f"{session.origin} is no longer a console origin of this organisation; ask an admin")
    return session


def _session(request: web.Request) -> tuple[Session | None, bool]:
    """The request's session (None: none, or ended) and whether it came by cookie."""
    token = bearer_credential(request)
    if token is not None and token.startswith(SESSION_TOKEN_PREFIX):
        return _bearer_session(request, token), False
    cookie = request.cookies.get(COOKIE_NAME)
    return (request.app[AUTH].sessions.lookup(cookie) if cookie else None), True


def current_session(request: web.Request) -> Session | None:
    """The request's session, None when it has none that may be used here."""
    try:
        return _session(request)[0]
    except (Unauthorized, Forbidden):
        return None


async def authenticate(request: web.Request) -> Caller:
    """The caller behind the session cookie or console bearer token; also keeps its
    ``USER`` and ``SESSION``."""
    auth = request.app[AUTH]
    session, by_cookie = _session(request)
    user = auth.accounts.user(session.user_id) if session else None
    if session is None or user is None:
        raise Unauthorized(SIGN_IN_AGAIN)
    if by_cookie and request.method not in SAFE_METHODS and request.headers.get(CSRF_HEADER) != session.csrf_token:
        raise Forbidden(f"missing or wrong {CSRF_HEADER} header; reload the page")
    role = auth.accounts.role(user.id, session.organisation_id) if session.organisation_id else None
    level = required_access(request.match_info.route.handler)
    if role and level is not None and level >= Access.VIEWER and auth.must_enrol(user.id, session.organisation_id):
        raise Forbidden("your organisation requires two-factor sign-in: set it up on your Account page first")
    request[SESSION], request[USER] = session, user
    return Caller(user.id, user.name, session.organisation_id if role else None, role, by_cookie=by_cookie)
