"""The live stream list for the web client: a snapshot, and pushed changes over a WebSocket."""
from __future__ import annotations

from aiohttp import web

from ..kernel.access import Access, access, caller, organisation
from .hub import STREAM_HUB

routes = web.RouteTableDef()


@routes.get("/api/streams")
@access(Access.VIEWER)
async def list_streams(request: web.Request) -> web.Response:
    return web.json_response({"streams": request.app[STREAM_HUB].snapshot(organisation(request))["streams"]})


@routes.get("/api/streams/ws")
@access(Access.VIEWER)
async def streams_socket(request: web.Request) -> web.WebSocketResponse:
    return await request.app[STREAM_HUB].serve(request, caller(request).user_id, organisation(request))
