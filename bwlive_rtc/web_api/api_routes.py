"""Read-only JSON API for the web client: live streams and the system key."""
from __future__ import annotations

from aiohttp import web

from ..auth.middleware import caller
from ..crypto.b64 import b64url_encode
from ..crypto.system_key import spki_der
from .access import Access, access
from .keys import STREAM_HUB, SYSTEM_KEY

routes = web.RouteTableDef()


@routes.get("/api/streams")
@access(Access.VIEWER)
async def list_streams(request: web.Request) -> web.Response:
    return web.json_response({"streams": request.app[STREAM_HUB].snapshot(caller(request).organisation_id)["streams"]})


@routes.get("/api/streams/ws")
@access(Access.VIEWER)
async def streams_socket(request: web.Request) -> web.WebSocketResponse:
    who = caller(request)
    return await request.app[STREAM_HUB].serve(request, who.user.id, who.organisation_id)


@routes.get("/api/system")
@access(Access.PUBLIC)
async def system(request: web.Request) -> web.Response:
    key = request.app[SYSTEM_KEY]
    return web.json_response(
        {"key_id": key.key_id, "thumbprint": key.thumbprint, "public_key": b64url_encode(spki_der(key.key))}
    )
