"""WHEP-style playback for browsers: subscribe, keep alive, report decryption, leave."""
from __future__ import annotations

from aiohttp import web

from ..kernel.access import Access, access, caller
from ..kernel.appkeys import CLOCK, SETTINGS
from ..kernel.audit import audit
from ..kernel.requests import body, body_text, path, read_body, read_path
from ..sfu.port import ConsumerPort
from ..sfu.router import UnknownStream
from ..streams.hub import ROUTER
from ..streams.lookup import StreamPath, live_stream
from .ice_servers import with_ice_servers
from .requests import ConsumerPath, DecryptState
from .sdp_body import SDP, created, read_offer

routes = web.RouteTableDef()


def _own_consumer(request: web.Request) -> ConsumerPort:
    """The caller's own subscription named in the path."""
    named = read_path(request, ConsumerPath)
    consumer = live_stream(request, named.stream_id).consumers.get(named.consumer_id)
    if consumer is None or consumer.viewer != caller(request).user_id:
        raise UnknownStream(f"no viewer {named.consumer_id!r} on this stream")
    return consumer


@routes.post("/whep/{stream_id}")
@access(Access.VIEWER, token=Access.VIEWER)
@path(StreamPath)
@body_text(SDP)
async def subscribe(request: web.Request) -> web.Response:
    producer = live_stream(request, read_path(request, StreamPath).stream_id)  # 404 before reading the body
    offer = await read_offer(request)
    who = caller(request)
    consumer, answer = await request.app[ROUTER].subscribe(producer.id, offer, who.user_id)
    if consumer.tracks:  # a media view; the map's data-only subscriptions bring positions only
        audit(request, "stream viewed", stream=producer.id, camera=producer.camera)
    return _with_ice_servers(request, created(answer, f"/whep/{producer.id}/{consumer.id}"))


@routes.route("OPTIONS", "/whep/{stream_id}")
@access(Access.VIEWER)
@path(StreamPath)
async def ice_servers(request: web.Request) -> web.Response:
    """The ICE servers (``Link`` headers) for a browser to gather with before its offer."""
    live_stream(request, read_path(request, StreamPath).stream_id)  # a stream the caller may watch, else 404
    return _with_ice_servers(request, web.Response(status=204))


def _with_ice_servers(request: web.Request, response: web.Response) -> web.Response:
    return with_ice_servers(response, request.app[SETTINGS], caller(request).user_id,
                            request.app[CLOCK].now().timestamp())


@routes.post("/whep/{stream_id}/{consumer_id}/keepalive")
@access(Access.VIEWER, token=Access.VIEWER)
@path(ConsumerPath)
async def keepalive(request: web.Request) -> web.Response:
    _own_consumer(request).touch()
    return web.Response(status=204)


@routes.post("/whep/{stream_id}/{consumer_id}/decrypt-state")
@access(Access.VIEWER, token=Access.VIEWER)
@path(ConsumerPath)
@body(DecryptState)
async def decrypt_state(request: web.Request) -> web.Response:
    """Whether the viewer decrypts; while it does not, its keyframe requests are ignored."""
    consumer = _own_consumer(request)
    consumer.decrypting = (await read_body(request, DecryptState)).decrypting
    consumer.touch()
    return web.Response(status=204)


@routes.delete("/whep/{stream_id}/{consumer_id}")
@access(Access.VIEWER, token=Access.VIEWER)
@path(ConsumerPath)
async def unsubscribe(request: web.Request) -> web.Response:
    consumer = _own_consumer(request)
    await request.app[ROUTER].unsubscribe(consumer.producer.id, consumer.id)
    return web.json_response({"left": consumer.id})
