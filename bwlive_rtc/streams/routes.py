"""The live stream list for the web client (a snapshot, and pushed changes over a
WebSocket), and ending a stream by hand: through any node, handed over the node bus to
the node that holds it."""
from __future__ import annotations

from collections.abc import Awaitable

from aiohttp import web

from ..kernel.access import Access, access, caller, organisation
from ..kernel.appkeys import CLOCK, EVENTS
from ..kernel.audit import audit
from ..kernel.bus import Message
from ..kernel.requests import path, read_path
from ..workers.pool import MediaWorkers
from .hub import ROUTER, STREAM_HUB
from .lookup import StreamPath, stream_anywhere

routes = web.RouteTableDef()
END_CHANNEL = "end"  # {"node", "stream_id"}: for the node holding the stream


async def _end_here(app: web.Application, stream_id: str) -> None:
    if stream_id in app[ROUTER].producers:
        await app[ROUTER].unpublish(stream_id)


def follow_endings(app: web.Application) -> None:
    """On the node that holds a stream another node was asked to end: end it."""
    def end(message: Message) -> Awaitable[None] | None:
        return _end_here(app, message["stream_id"]) if message["node"] == app[EVENTS].nodes.node else None

    app[EVENTS].nodes.on(END_CHANNEL, end)


@routes.get("/api/streams")
@access(Access.VIEWER, token=Access.VIEWER)
async def list_streams(request: web.Request) -> web.Response:
    snapshot = request.app[STREAM_HUB].snapshot(organisation(request), caller(request))
    return web.json_response({"streams": snapshot["streams"]})


@routes.get("/api/streams/ws")
@access(Access.VIEWER, token=Access.VIEWER)
async def streams_socket(request: web.Request) -> web.WebSocketResponse:
    """The live list, pushed; a viewer token's socket closes (4002) when the token expires."""
    who = caller(request)
    lifetime = (who.expires_at - request.app[CLOCK].now()).total_seconds() if who.expires_at else None
    return await request.app[STREAM_HUB].serve(request, who, organisation(request), lifetime)


@routes.get("/api/media-workers")
@access(Access.ADMIN)
async def media_workers(request: web.Request) -> web.Response:
    """Which media worker process holds which of the organisation's live streams (none
    listed: the SFU runs in the server's own process, ``--workers 0``)."""
    router, own = request.app[ROUTER], organisation(request)
    workers = router.workers if isinstance(router, MediaWorkers) else []
    return web.json_response({"workers": [
        {"index": worker.index, "pid": worker.pid,
         "streams": sorted(s.id for s in worker.streams.values() if own in s.organisation_ids)}
        for worker in workers]})


@routes.post("/api/streams/{stream_id}/end")
@access(Access.OPERATOR)
@path(StreamPath)
async def end_stream(request: web.Request) -> web.Response:
    """End a live stream of the caller's organisation on whichever node holds it (viewers
    and recording stop; every browser sees it go): audited here, ended here or by its node
    (told over the bus). A camera still switched on publishes again: to keep it off the
    air, revoke it or turn streaming off in its profile."""
    stream = stream_anywhere(request, read_path(request, StreamPath).stream_id)
    audit(request, "stream ended", stream=stream["id"], camera=stream["camera"])
    nodes = request.app[EVENTS].nodes
    if stream["node"] == nodes.node:
        await _end_here(request.app, stream["id"])
    else:
        nodes.publish(END_CHANNEL, {"node": stream["node"], "stream_id": stream["id"]})
    return web.json_response({"ended": stream["id"]})
