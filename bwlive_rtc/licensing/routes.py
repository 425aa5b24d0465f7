"""Admin API: the organisation's license state, and adding a license file."""
from __future__ import annotations

from aiohttp import web

from ..kernel.access import Access, access, organisation
from ..kernel.audit import audit
from ..kernel.errors import BadRequest
from ..kernel.requests import body_text, read_text
from .license_file import LicenseError
from .service import LICENSING

routes = web.RouteTableDef()


@routes.get("/api/organisation/license")
@access(Access.ADMIN)
async def license_state(request: web.Request) -> web.Response:
    return web.json_response(request.app[LICENSING].state(organisation(request)).to_json())


@routes.post("/api/organisation/licenses")
@access(Access.ADMIN)
@body_text("text/plain")
async def add_license(request: web.Request) -> web.Response:
    """Body: the license file's text."""
    text = await read_text(request)
    try:
        license = request.app[LICENSING].add(organisation(request), text)
    except LicenseError as exc:
        raise BadRequest(str(exc)) from None
    audit(request, "license added", license=license.id, cameras=license.cameras)
    return web.json_response(license.to_json(), status=201)
