"""WHEP-style playback for browsers: subscribe, keep alive, report decryption, leave. A
stream another node of the cluster holds is watched through this node: the session is
handed to that node (``viewers.elsewhere``), whose answer brings its own ICE candidates;
the few signaling requests after it are relayed."""
from __future__ import annotations

from aiohttp import web

from ..kernel.access import Access, access, caller
from ..kernel.appkeys import CLOCK, SETTINGS
from ..kernel.audit import audit
from ..kernel.requests import body, body_text, path, read_body, read_path
from ..streams.hub import ROUTER
from ..streams.lookup import StreamPath, live_stream
from .ice_servers import with_ice_servers
from .requests import ConsumerPath, DecryptState
from .sdp_body import SDP, created, read_offer
from .viewers import elsewhere, own_consumer

routes = web.RouteTableDef()


@routes.post("/whep/{stream_id}")
@access(Access.VIEWER, token=Access.VIEWER)
@path(StreamPath)
@body_text(SDP)
async def subscribe(request: web.Request) -> web.Response:
    stream_id = read_path(request, StreamPath).stream_id
    remote = elsewhere(request, stream_id)
    producer = remote or live_stream(request, stream_id)  # 404 before reading the body
    offer = await read_offer(request)
    who = caller(request)
    consumer, answer = await (remote.subscribe(offer, who.user_id) if remote is not None
                              else request.app[ROUTER].subscribe(producer.id, offer, who.user_id))
    if consumer.tracks:  # a media view; the map's data-only subscriptions bring positions only
        audit(request, "stream viewed", stream=producer.id, camera=producer.camera)
    return _with_ice_servers(request, created(answer, f"/whep/{producer.id}/{consumer.id}"))


@routes.route("OPTIONS", "/whep/{stream_id}")
@access(Access.VIEWER)
@path(StreamPath)
async def ice_servers(request: web.Request) -> web.Response:
    """The ICE servers (``Link`` headers) for a browser to gather with before its offer."""
    stream_id = read_path(request, StreamPath).stream_id
    elsewhere(request, stream_id) or live_stream(request, stream_id)  # a stream the caller may watch, else 404
    return _with_ice_servers(request, web.Response(status=204))


def _with_ice_servers(request: web.Request, response: web.Response) -> web.Response:
    return with_ice_servers(response, request.app[SETTINGS], caller(request).user_id,
                            request.app[CLOCK].now().timestamp())


@routes.post("/whep/{stream_id}/{consumer_id}/keepalive")
@access(Access.VIEWER, token=Access.VIEWER)
@path(ConsumerPath)
async def keepalive(request: web.Request) -> web.Response:
    named = read_path(request, ConsumerPath)
    if (remote := elsewhere(request, named.stream_id)) is not None:
        await remote.keepalive(named.consumer_id)
    else:
        own_consumer(request).touch()
    return web.Response(status=204)


@routes.post("/whep/{stream_id}/{consumer_id}/decrypt-state")
@access(Access.VIEWER, token=Access.VIEWER)
@path(ConsumerPath)
@body(DecryptState)
async def decrypt_state(request: web.Request) -> web.Response:
    """Whether the viewer decrypts; while it does not, its keyframe requests are ignored."""
    named, decrypting = read_path(request, ConsumerPath), (await read_body(request, DecryptState)).decrypting
    if (remote := elsewhere(request, named.stream_id)) is not None:
        await remote.keepalive(named.consumer_id, decrypting)
    else:
        consumer = own_consumer(request)
        consumer.decrypting = decrypting
        consumer.touch()
    return web.Response(status=204)


@routes.delete("/whep/{stream_id}/{consumer_id}")
@access(Access.VIEWER, token=Access.VIEWER)
@path(ConsumerPath)
async def unsubscribe(request: web.Request) -> web.Response:
    named = read_path(request, ConsumerPath)
    if (remote := elsewhere(request, named.stream_id)) is not None:
        await remote.unsubscribe(named.consumer_id)
    else:
        consumer = own_consumer(request)
        await request.app[ROUTER].unsubscribe(consumer.producer.id, consumer.id)
    return web.json_response({"left": named.consumer_id})
