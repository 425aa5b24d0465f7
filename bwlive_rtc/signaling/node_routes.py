"""What a node serves the other nodes of its cluster (under ``/node``, the worker wire of
``workers/wire.py``): a viewer another node checked watches a stream this node holds.
Each call is signed with the cluster's node key (``kernel/node_calls.py``); the viewer and
organisation it names are the caller, and the stream must be that organisation's, as for
the viewer's own WHEP request."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from ..kernel.access import CALLER, Access, Caller, Role, access, caller
from ..kernel.appkeys import SETTINGS
from ..kernel.errors import BadRequest
from ..kernel.node_calls import PREFIX, NodeKey
from ..kernel.requests import body, path, read_body, read_path, read_raw
from ..streams.hub import ROUTER
from ..streams.lookup import StreamPath, live_stream
from ..workers import wire
from .requests import ConsumerPath
from .viewers import own_consumer

routes = web.RouteTableDef()


def node_authenticator(key: NodeKey) -> Callable[[web.Request], Awaitable[None]]:
    """Admits a call signed by a node of the cluster for this node, as the viewer it names."""

    async def check(request: web.Request) -> None:
        who = key.verify(request.app[SETTINGS].node_url, request.method, request.path, request.headers,
                         await read_raw(request))
        request[CALLER] = Caller(user_id=who.viewer, user_name="", organisation_id=who.organisation_id,
                                 role=Role.VIEWER, by_cookie=False)

    return check


@routes.post(PREFIX + "/streams/{stream_id}/viewers")
@access(Access.NODE)
@path(StreamPath)
@body(wire.Subscribe)
async def subscribe(request: web.Request) -> web.Response:
    """A viewer another node checked subscribes to a stream of this node."""
    producer = live_stream(request, read_path(request, StreamPath).stream_id)
    asked = await read_body(request, wire.Subscribe)
    if asked.viewer != caller(request).user_id:
        raise BadRequest("the viewer in the body is not the one the call is signed for")
    consumer, answer = await request.app[ROUTER].subscribe(producer.id, asked.offer, asked.viewer)
    return web.json_response({"consumer": consumer.id, "tracks": list(consumer.tracks), "answer": answer})


@routes.post(PREFIX + "/streams/{stream_id}/viewers/{consumer_id}/keepalive")
@access(Access.NODE)
@path(ConsumerPath)
@body(wire.Keepalive)
async def keepalive(request: web.Request) -> web.Response:
    wire.keep_alive(own_consumer(request), await read_body(request, wire.Keepalive))
    return web.Response(status=204)


@routes.delete(PREFIX + "/streams/{stream_id}/viewers/{consumer_id}")
@access(Access.NODE)
@path(ConsumerPath)
async def unsubscribe(request: web.Request) -> web.Response:
    consumer = own_consumer(request)
    await request.app[ROUTER].unsubscribe(consumer.producer.id, consumer.id)
    return web.Response(status=204)
