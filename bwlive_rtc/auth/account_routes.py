"""HTTP API for one's own account (password, two-factor sign-in), the admin-made
password-reset links, and the organisation's two-factor policy and console origins."""
from __future__ import annotations

from aiohttp import web

from ..kernel.access import Access, access, organisation
from ..kernel.audit import audit
from ..kernel.errors import Conflict
from ..kernel.requests import body, path, read_body, read_path
from .authentication import SESSION, USER
from .requests import (
    ConsoleOriginList,
    MemberPath,
    NewPassword,
    PasswordChange,
    Policy,
    ResetPath,
    TwoFactorCode,
    TwoFactorOff,
)
from .resets import VALID_FOR
from .routes import address
from .service import AUTH

routes = web.RouteTableDef()


@routes.put("/api/account/password")
@access(Access.USER)
@body(PasswordChange)
async def change_password(request: web.Request) -> web.Response:
    """A new password, given the current one; every other session of the user ends."""
    change = await read_body(request, PasswordChange)
    await request.app[AUTH].change_password(request[USER], request[SESSION], change.current_password,
                                            change.new_password, address(request))
    return web.json_response({"changed": True})


@routes.post("/api/account/two-factor")
@access(Access.USER)
async def start_two_factor(request: web.Request) -> web.Response:
    """A new TOTP secret and its QR code, pending until a code from it is confirmed."""
    enrolment = request.app[AUTH].two_factor.start(request[USER])
    return web.json_response({"secret": enrolment.secret, "uri": enrolment.uri, "qr": enrolment.qr}, status=201)


@routes.post("/api/account/two-factor/confirm")
@access(Access.USER)
@body(TwoFactorCode)
async def confirm_two_factor(request: web.Request) -> web.Response:
    """The first code from the app: two-factor sign-in is on; the recovery codes, shown once."""
    code = (await read_body(request, TwoFactorCode)).code
    auth, user = request.app[AUTH], request[USER]
    codes = auth.two_factor.confirm(user, code)
    auth.record_for_each_organisation(user, "two-factor sign-in set up")
    return web.json_response({"recovery_codes": codes})


@routes.post("/api/account/two-factor/disable")
@access(Access.USER)
@body(TwoFactorOff)
async def disable_two_factor(request: web.Request) -> web.Response:
    """Turn two-factor sign-in off, given the password; refused while an organisation of
    the user requires it."""
    password = (await read_body(request, TwoFactorOff)).password
    await request.app[AUTH].disable_two_factor(request[USER], password, address(request))
    return web.json_response({"two_factor": False})


@routes.post("/api/organisation/members/{user_id}/password-reset")
@access(Access.ADMIN)
@path(MemberPath)
async def create_password_reset(request: web.Request) -> web.Response:
    """A one-time link (valid 1 hour) with which the member sets a new password."""
    user_id = read_path(request, MemberPath).user_id
    user, token = request.app[AUTH].create_reset(request[USER], organisation(request), user_id)
    link = f"{request.scheme}://{request.host}/web/reset.html#token={token}"
    return web.json_response({"link": link, "name": user.name, "email": user.email,
                              "valid_minutes": int(VALID_FOR.total_seconds() // 60)}, status=201)


@routes.delete("/api/organisation/members/{user_id}/two-factor")
@access(Access.ADMIN)
@path(MemberPath)
async def reset_two_factor(request: web.Request) -> web.Response:
    """Turn a member's two-factor sign-in off (they lost their authenticator); their
    sessions end; audited."""
    user_id = read_path(request, MemberPath).user_id
    user = request.app[AUTH].reset_two_factor(request[USER], organisation(request), user_id)
    return web.json_response({"id": user.id, "name": user.name, "two_factor": False})


@routes.get("/api/password-resets/{token}")
@access(Access.PUBLIC)
@path(ResetPath)
async def show_password_reset(request: web.Request) -> web.Response:
    reset = request.app[AUTH].resets.pending(read_path(request, ResetPath).token)
    return web.json_response({"name": reset.user.name, "email": reset.user.email,
                              "expires_at": reset.expires_at.isoformat()})


@routes.post("/api/password-resets/{token}")
@access(Access.PUBLIC)
@path(ResetPath)
@body(NewPassword)
async def use_password_reset(request: web.Request) -> web.Response:
    """Set the new password (the link is used up; the member then signs in)."""
    token = read_path(request, ResetPath).token
    password = (await read_body(request, NewPassword)).password
    reset = await request.app[AUTH].reset_password(token, password)
    return web.json_response({"email": reset.user.email})


@routes.get("/api/organisation/policy")
@access(Access.ADMIN)
async def get_policy(request: web.Request) -> web.Response:
    return web.json_response({"require_two_factor": request.app[AUTH].accounts.requires_two_factor(organisation(request))})


@routes.put("/api/organisation/policy")
@access(Access.ADMIN)
@body(Policy)
async def set_policy(request: web.Request) -> web.Response:
    """Require two-factor sign-in of every member (members without it are sent to set it up)."""
    required = (await read_body(request, Policy)).require_two_factor
    auth, user = request.app[AUTH], request[USER]
    if required and not auth.two_factor.enabled(user.id):
        raise Conflict("set up two-factor sign-in for your own account first (Account page)")
    auth.accounts.set_two_factor_policy(organisation(request), required)
    audit(request, "two-factor policy changed", require_two_factor=required)
    return web.json_response({"require_two_factor": required})


@routes.get("/api/organisation/console-origins")
@access(Access.ADMIN)
async def get_console_origins(request: web.Request) -> web.Response:
    return web.json_response({"origins": request.app[AUTH].console_origins.of(organisation(request))})


@routes.put("/api/organisation/console-origins")
@access(Access.ADMIN)
@body(ConsoleOriginList)
async def set_console_origins(request: web.Request) -> web.Response:
    """The origins where the organisation hosts the web client itself (docs/EMBEDDING.md);
    its members may sign in there to bearer sessions. Sessions of an origin taken off are
    refused from their next request."""
    origins = list(dict.fromkeys((await read_body(request, ConsoleOriginList)).origins))
    request.app[AUTH].console_origins.replace(organisation(request), origins, request[USER].name)
    audit(request, "console origins changed", origins=origins)
    return web.json_response({"origins": origins})
