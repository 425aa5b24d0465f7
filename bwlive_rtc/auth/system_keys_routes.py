"""An admin replaces a system's end-to-end public key, e.g. with one generated in the
admin's browser (web/admin-keys.js). Only the public key ever reaches the server."""
from __future__ import annotations

from aiohttp import web

from ..crypto.system_key import SystemPublicKey
from ..web_api.access import Access, access
from ..web_api.json_body import json_object
from .middleware import audit, caller
from .service import AUTH

routes = web.RouteTableDef()


@routes.put("/api/organisation/systems/{system_id}/public-key")
@access(Access.ADMIN)
async def change_public_key(request: web.Request) -> web.Response:
    """Body ``{"public_key": PEM}`` → ``{"system_id", "key_id", "thumbprint", "previous_key_id"}``."""
    body = await json_object(request, "public_key")
    try:
        key = SystemPublicKey.from_pem(body["public_key"].encode())
    except ValueError as exc:
        raise web.HTTPBadRequest(text=f"public_key is not a P-256 public key in PEM: {exc}") from None
    who, auth = caller(request), request.app[AUTH]
    system_id = request.match_info["system_id"]
    previous = auth.systems.change_key(who.organisation_id, system_id, key)
    if previous is None:
        raise web.HTTPNotFound(text="no such system in this organisation")
    audit(request, "system key changed", system_id=system_id, key_id=key.key_id, previous_key_id=previous)
    return web.json_response(
        {"system_id": system_id, "key_id": key.key_id, "thumbprint": key.thumbprint, "previous_key_id": previous}
    )
