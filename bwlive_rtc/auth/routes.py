"""HTTP API for sign-in, sessions, organisations, members, invitations, systems, audit."""
from __future__ import annotations

from aiohttp import web

from ..crypto.system_key import SystemPublicKey
from ..web_api.access import Access, access
from ..web_api.json_body import json_object
from .middleware import audit, caller
from .roles import Role
from .service import AUTH
from .sessions import COOKIE_NAME

routes = web.RouteTableDef()


def _set_cookie(request: web.Request, response: web.Response, token: str) -> None:
    # No Max-Age: the cookie lives while the browser stays open; the server ends idle sessions.
    response.set_cookie(COOKIE_NAME, token, httponly=True, samesite="Strict", secure=request.secure, path="/")


def _session_body(request: web.Request, user_id: str | None, organisation_id: str | None, csrf: str | None) -> dict:
    auth = request.app[AUTH]
    user = auth.accounts.user(user_id) if user_id else None
    if user is None:
        return {"signed_in": False}
    memberships = auth.accounts.memberships(user.id)
    current = next((m for m in memberships if m.organisation_id == organisation_id), None)
    return {
        "signed_in": True,
        "user": {"id": user.id, "email": user.email, "name": user.name},
        "organisations": [{"id": m.organisation_id, "name": m.organisation_name, "role": m.role.value} for m in memberships],
        "organisation": {"id": current.organisation_id, "name": current.organisation_name} if current else None,
        "role": current.role.value if current else None,
        "csrf_token": csrf,
    }


@routes.get("/api/session")
@access(Access.PUBLIC)
async def get_session(request: web.Request) -> web.Response:
    """Who is signed in here, their organisations, and the CSRF token for this session."""
    auth = request.app[AUTH]
    token = request.cookies.get(COOKIE_NAME)
    session = auth.sessions.lookup(token) if token else None
    if session is None:
        return web.json_response({"signed_in": False})
    return web.json_response(_session_body(request, session.user_id, session.organisation_id, session.csrf_token))


@routes.post("/api/session")
@access(Access.PUBLIC)
async def sign_in(request: web.Request) -> web.Response:
    body = await json_object(request, "email", "password")
    auth = request.app[AUTH]
    keys = (f"email:{body['email'].strip().lower()}", f"addr:{request.remote}")
    wait = auth.limiter.retry_after(*keys)
    if wait > 0:
        raise web.HTTPTooManyRequests(
            text=f"too many failed sign-ins; try again in {int(wait // 60) + 1} minutes",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    user = auth.accounts.authenticate(body["email"], body["password"])
    if user is None:
        auth.limiter.failed(*keys)
        raise web.HTTPUnauthorized(text="wrong e-mail address or password")
    auth.limiter.succeeded(*keys)
    memberships = auth.accounts.memberships(user.id)
    org_id = memberships[0].organisation_id if len(memberships) == 1 else None
    token, session = auth.sessions.create(user.id, org_id)
    for m in memberships:
        auth.audit.record("signed in", organisation_id=m.organisation_id, user_id=user.id, user_name=user.name)
    response = web.json_response(_session_body(request, user.id, org_id, session.csrf_token))
    _set_cookie(request, response, token)
    return response


@routes.delete("/api/session")
@access(Access.USER)
async def sign_out(request: web.Request) -> web.Response:
    who = caller(request)
    request.app[AUTH].sessions.end(who.session)
    response = web.json_response({"signed_in": False})
    response.del_cookie(COOKIE_NAME, path="/")
    return response


@routes.put("/api/session/organisation")
@access(Access.USER)
async def pick_organisation(request: web.Request) -> web.Response:
    body = await json_object(request, "organisation_id")
    who, auth = caller(request), request.app[AUTH]
    if auth.accounts.role(who.user.id, body["organisation_id"]) is None:
        raise web.HTTPForbidden(text="you are not a member of that organisation")
    auth.sessions.pick_organisation(who.session, body["organisation_id"])
    return web.json_response(_session_body(request, who.user.id, body["organisation_id"], who.session.csrf_token))


@routes.post("/api/organisations")
@access(Access.USER)
async def create_organisation(request: web.Request) -> web.Response:
    """Create an organisation: its creator becomes owner and admin, and it is picked."""
    body = await json_object(request, "name")
    who, auth = caller(request), request.app[AUTH]
    org_id = auth.accounts.create_organisation(body["name"], who.user)
    auth.sessions.pick_organisation(who.session, org_id)
    auth.audit.record("organisation created", organisation_id=org_id, user_id=who.user.id, user_name=who.user.name)
    return web.json_response(_session_body(request, who.user.id, org_id, who.session.csrf_token), status=201)


@routes.get("/api/organisation/members")
@access(Access.ADMIN)
async def list_members(request: web.Request) -> web.Response:
    return web.json_response({"members": request.app[AUTH].accounts.members(caller(request).organisation_id)})


@routes.put("/api/organisation/members/{user_id}")
@access(Access.ADMIN)
async def change_role(request: web.Request) -> web.Response:
    body = await json_object(request, "role")
    who = caller(request)
    try:
        role = Role.parse(body["role"])
    except ValueError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    request.app[AUTH].set_role(who.user, who.organisation_id, request.match_info["user_id"], role)
    return web.json_response({"user_id": request.match_info["user_id"], "role": role.value})


@routes.delete("/api/organisation/members/{user_id}")
@access(Access.ADMIN)
async def remove_member(request: web.Request) -> web.Response:
    who = caller(request)
    request.app[AUTH].remove_member(who.user, who.organisation_id, request.match_info["user_id"])
    return web.json_response({"removed": request.match_info["user_id"]})


@routes.post("/api/organisation/invitations")
@access(Access.ADMIN)
async def invite(request: web.Request) -> web.Response:
    body = await json_object(request, "email", "role")
    who, auth = caller(request), request.app[AUTH]
    try:
        role = Role.parse(body["role"])
    except ValueError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    token = auth.invitations.create(who.organisation_id, body["email"], role, who.user)
    audit(request, "user invited", email=body["email"], role=role.value)
    link = f"{request.scheme}://{request.host}/web/invite.html#token={token}"
    return web.json_response({"link": link, "email": body["email"], "role": role.value}, status=201)


@routes.get("/api/invitations/{token}")
@access(Access.PUBLIC)
async def show_invitation(request: web.Request) -> web.Response:
    invitation = request.app[AUTH].invitations.pending(request.match_info["token"])
    return web.json_response({"organisation": invitation.organisation_name, "email": invitation.email,
                              "role": invitation.role.value, "expires_at": invitation.expires_at.isoformat()})


@routes.post("/api/invitations/{token}")
@access(Access.PUBLIC)
async def accept_invitation(request: web.Request) -> web.Response:
    """The invitee sets a name and password (or gives their existing password) and is signed in."""
    body = await json_object(request, "password")
    auth = request.app[AUTH]
    user, invitation = auth.invitations.accept(request.match_info["token"], str(body.get("name", "")), body["password"])
    auth.audit.record("invitation accepted", organisation_id=invitation.organisation_id, user_id=user.id,
                      user_name=user.name, role=invitation.role.value)
    token, session = auth.sessions.create(user.id, invitation.organisation_id)
    response = web.json_response(_session_body(request, user.id, invitation.organisation_id, session.csrf_token))
    _set_cookie(request, response, token)
    return response


@routes.get("/api/organisation/audit")
@access(Access.ADMIN)
async def audit_log(request: web.Request) -> web.Response:
    return web.json_response({"entries": request.app[AUTH].audit.entries(caller(request).organisation_id)})


@routes.post("/api/organisation/join-codes")
@access(Access.ADMIN)
async def new_join_code(request: web.Request) -> web.Response:
    """A one-time authorization code with which a system joins this organisation."""
    who, auth = caller(request), request.app[AUTH]
    code, expires = auth.systems.create_code(who.organisation_id, who.user.id)
    audit(request, "system join code created")
    return web.json_response({"code": code, "expires_at": expires.isoformat()}, status=201)


@routes.get("/api/organisation/systems")
@access(Access.ADMIN)
async def list_systems(request: web.Request) -> web.Response:
    return web.json_response({"systems": request.app[AUTH].systems.list(caller(request).organisation_id)})


@routes.post("/api/systems/join")
@access(Access.PUBLIC)
async def join_system(request: web.Request) -> web.Response:
    """A system joins an organisation with a one-time code, bringing its public key."""
    body = await json_object(request, "code", "name", "public_key")
    try:
        key = SystemPublicKey.from_pem(body["public_key"].encode())
    except ValueError as exc:
        raise web.HTTPBadRequest(text=f"public_key is not a P-256 public key in PEM: {exc}") from None
    auth = request.app[AUTH]
    system_id, org_id = auth.systems.join(body["code"], body["name"], key)
    auth.audit.record("system joined", organisation_id=org_id, system=body["name"], key_id=key.key_id)
    return web.json_response({"system_id": system_id, "key_id": key.key_id, "thumbprint": key.thumbprint}, status=201)
