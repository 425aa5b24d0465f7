"""HTTP API for sign-in, sessions, organisations, members, invitations."""
from __future__ import annotations

from aiohttp import web

from ..kernel.access import Access, access, organisation
from ..kernel.audit import audit
from ..kernel.errors import BadRequest, Forbidden, Unauthorized
from ..kernel.requests import body, path, read_body, read_path
from .accounts import Membership, User
from .authentication import SESSION, USER, current_session
from .challenges import COOKIE as CHALLENGE_COOKIE
from .requests import (
    AcceptInvitation,
    InvitationPath,
    Invite,
    MemberPath,
    NewOrganisation,
    PickOrganisation,
    RoleChange,
    SignIn,
    SignInCode,
)
from .service import AUTH
from .sessions import COOKIE_NAME, Session

routes = web.RouteTableDef()


def _set_cookie(request: web.Request, response: web.Response, token: str) -> None:
    # No Max-Age: the cookie lives while the browser stays open; the server ends idle sessions.
    response.set_cookie(COOKIE_NAME, token, httponly=True, samesite="Strict", secure=request.secure, path="/")


def _console_origin(request: web.Request) -> str | None:
    """The console origin a sign-in comes from (the kernel admits no other origin's), or
    None for the server's own pages."""
    origin = request.headers.get("Origin")
    return origin if origin and origin != f"{request.scheme}://{request.host}" else None


def _memberships(request: web.Request, user_id: str, origin: str | None) -> list[Membership]:
    """The user's organisations; at a console origin, those that configured it."""
    auth = request.app[AUTH]
    memberships = auth.accounts.memberships(user_id)
    return [m for m in memberships if origin is None or auth.console_origins.allows(m.organisation_id, origin)]


def _session_body(request: web.Request, session: Session, organisation_id: str | None) -> dict:
    auth = request.app[AUTH]
    user = auth.accounts.user(session.user_id)
    if user is None:
        return {"signed_in": False}
    memberships = _memberships(request, user.id, session.origin)
    current = next((m for m in memberships if m.organisation_id == organisation_id), None)
    two_factor = auth.two_factor.enabled(user.id)
    return {
        "signed_in": True,
        "user": {"id": user.id, "email": user.email, "name": user.name, "two_factor": two_factor},
        "organisations": [{"id": m.organisation_id, "name": m.organisation_name, "role": m.role.value} for m in memberships],
        "organisation": {"id": current.organisation_id, "name": current.organisation_name} if current else None,
        "role": current.role.value if current else None,
        "two_factor_required": bool(current and auth.accounts.requires_two_factor(current.organisation_id)),
        "must_enrol": auth.must_enrol(user.id, current.organisation_id if current else None),
        "csrf_token": session.csrf_token if session.origin is None else None,
        "expires_at": session.expires_at.isoformat() if session.expires_at else None,  # a bearer session's
    }


@routes.get("/api/session")
@access(Access.PUBLIC)
async def get_session(request: web.Request) -> web.Response:
    """Who is signed in here, their organisations, and the CSRF token for this session."""
    session = current_session(request)
    if session is None:
        return web.json_response({"signed_in": False})
    return web.json_response(_session_body(request, session, session.organisation_id))


def address(request: web.Request) -> str:
    return request.remote or "unknown"


def _console_memberships(request: web.Request, user: User) -> list[Membership]:
    """At a console origin, the user's organisations that configured it (refused if none)."""
    origin = _console_origin(request)
    memberships = _memberships(request, user.id, origin)
    if origin is not None and not memberships:
        raise Forbidden(f"{origin} is not a console origin of any organisation you belong to; sign in on the "
                        "bwlive server's own pages, or ask an admin to add it")
    return memberships


def _start_session(request: web.Request, user: User, **details: object) -> web.Response:
    """A new session for ``user`` (its organisation picked when there is one): the cookie
    on the server's own pages, a bearer token (in the answer) at a console origin."""
    auth, origin = request.app[AUTH], _console_origin(request)
    memberships = _console_memberships(request, user)
    org_id = memberships[0].organisation_id if len(memberships) == 1 else None
    token, session = auth.sessions.create(user.id, org_id, origin)
    auth.record_for_each_organisation(user, "signed in", **details, **({"origin": origin} if origin else {}))
    if origin is not None:
        return web.json_response({**_session_body(request, session, org_id), "session_token": token})
    response = web.json_response(_session_body(request, session, org_id))
    _set_cookie(request, response, token)
    return response


@routes.post("/api/session")
@access(Access.PUBLIC)
@body(SignIn)
async def sign_in(request: web.Request) -> web.Response:
    """Sign in with e-mail address and password; sets the session cookie (at a console
    origin: answers a bearer session token), or, for a user with two-factor sign-in, the
    challenge cookie (at a console origin: answers it as ``challenge``) and
    ``{"two_factor": true}``."""
    given = await read_body(request, SignIn)
    auth = request.app[AUTH]
    user = await auth.sign_in(given.email, given.password, address(request))
    if user is None:
        raise Unauthorized("wrong e-mail address or password")
    if not auth.two_factor.enabled(user.id):
        return _start_session(request, user)
    _console_memberships(request, user)
    challenge = auth.challenges.create(user.id, user.email)
    if _console_origin(request) is not None:
        return web.json_response({"signed_in": False, "two_factor": True, "challenge": challenge})
    response = web.json_response({"signed_in": False, "two_factor": True})
    response.set_cookie(CHALLENGE_COOKIE, challenge, httponly=True, samesite="Strict", secure=request.secure,
                        path="/api/session")
    return response


@routes.post("/api/session/two-factor")
@access(Access.PUBLIC)
@body(SignInCode)
async def second_factor(request: web.Request) -> web.Response:
    """The code from the authenticator app (or a recovery code) after the password; the
    challenge is the cookie's (at a console origin: the answer's ``challenge``)."""
    given, console = await read_body(request, SignInCode), _console_origin(request) is not None
    challenge = given.challenge if console else request.cookies.get(CHALLENGE_COOKIE)
    user = await request.app[AUTH].second_factor(challenge, given.code, address(request))
    response = _start_session(request, user, two_factor=True)
    if not console:
        response.del_cookie(CHALLENGE_COOKIE, path="/api/session")
    return response


@routes.post("/api/session/renew")
@access(Access.USER)
async def renew_session(request: web.Request) -> web.Response:
    """A console origin's bearer session lasts ``BEARER_LIFE`` more (its page renews it
    while open); ``{"expires_at"}``."""
    session = request[SESSION]
    if session.origin is None:
        raise BadRequest("a cookie session needs no renewal: it lasts while its browser uses it")
    return web.json_response({"expires_at": request.app[AUTH].sessions.renew(session).isoformat()})


@routes.delete("/api/session")
@access(Access.USER)
async def sign_out(request: web.Request) -> web.Response:
    request.app[AUTH].sessions.end(request[SESSION])
    response = web.json_response({"signed_in": False})
    response.del_cookie(COOKIE_NAME, path="/")
    return response


@routes.put("/api/session/organisation")
@access(Access.USER)
@body(PickOrganisation)
async def pick_organisation(request: web.Request) -> web.Response:
    organisation_id = (await read_body(request, PickOrganisation)).organisation_id
    session, auth = request[SESSION], request.app[AUTH]
    if auth.accounts.role(session.user_id, organisation_id) is None:
        raise Forbidden("you are not a member of that organisation")
    if session.origin is not None and not auth.console_origins.allows(organisation_id, session.origin):
        raise Forbidden(f"{session.origin} is not a console origin of that organisation; ask its admin to add it")
    auth.sessions.pick_organisation(session, organisation_id)
    return web.json_response(_session_body(request, session, organisation_id))


@routes.post("/api/organisations")
@access(Access.USER)
@body(NewOrganisation)
async def create_organisation(request: web.Request) -> web.Response:
    """Create an organisation: its creator becomes owner and admin, and it is picked."""
    name = (await read_body(request, NewOrganisation)).name
    user, session, auth = request[USER], request[SESSION], request.app[AUTH]
    org_id = auth.accounts.create_organisation(name, user)
    auth.sessions.pick_organisation(session, org_id)
    auth.audit.record("organisation created", organisation_id=org_id, user_id=user.id, user_name=user.name)
    return web.json_response(_session_body(request, session, org_id), status=201)


@routes.get("/api/organisation/members")
@access(Access.ADMIN)
async def list_members(request: web.Request) -> web.Response:
    return web.json_response({"members": request.app[AUTH].accounts.members(organisation(request))})


@routes.put("/api/organisation/members/{user_id}")
@access(Access.ADMIN)
@path(MemberPath)
@body(RoleChange)
async def change_role(request: web.Request) -> web.Response:
    user_id = read_path(request, MemberPath).user_id
    role = (await read_body(request, RoleChange)).role
    request.app[AUTH].set_role(request[USER], organisation(request), user_id, role)
    return web.json_response({"user_id": user_id, "role": role.value})


@routes.delete("/api/organisation/members/{user_id}")
@access(Access.ADMIN)
@path(MemberPath)
async def remove_member(request: web.Request) -> web.Response:
    user_id = read_path(request, MemberPath).user_id
    request.app[AUTH].remove_member(request[USER], organisation(request), user_id)
    return web.json_response({"removed": user_id})


@routes.post("/api/organisation/invitations")
@access(Access.ADMIN)
@body(Invite)
async def invite(request: web.Request) -> web.Response:
    invite = await read_body(request, Invite)
    token = request.app[AUTH].invitations.create(organisation(request), invite.email, invite.role, request[USER])
    audit(request, "user invited", email=invite.email, role=invite.role.value)
    link = f"{request.scheme}://{request.host}/web/invite.html#token={token}"
    return web.json_response({"link": link, "email": invite.email, "role": invite.role.value}, status=201)


@routes.get("/api/invitations/{token}")
@access(Access.PUBLIC)
@path(InvitationPath)
async def show_invitation(request: web.Request) -> web.Response:
    invitation = request.app[AUTH].invitations.pending(read_path(request, InvitationPath).token)
    return web.json_response({"organisation": invitation.organisation_name, "email": invitation.email,
                              "role": invitation.role.value, "expires_at": invitation.expires_at.isoformat()})


@routes.post("/api/invitations/{token}")
@access(Access.PUBLIC)
@path(InvitationPath)
@body(AcceptInvitation)
async def accept_invitation(request: web.Request) -> web.Response:
    """The invitee sets a name and password (or gives their existing password) and is signed in."""
    link_token = read_path(request, InvitationPath).token
    accept = await read_body(request, AcceptInvitation)
    auth = request.app[AUTH]
    user, invitation = await auth.accept_invitation(link_token, accept.name, accept.password, address(request))
    auth.audit.record("invitation accepted", organisation_id=invitation.organisation_id, user_id=user.id,
                      user_name=user.name, role=invitation.role.value)
    token, session = auth.sessions.create(user.id, invitation.organisation_id)
    response = web.json_response(_session_body(request, session, invitation.organisation_id))
    _set_cookie(request, response, token)
    return response
