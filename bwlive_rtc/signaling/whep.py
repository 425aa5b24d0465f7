"""WHEP-style playback for browsers: subscribe, keep alive, report decryption, leave."""
from __future__ import annotations

from aiohttp import web

from ..kernel.access import Access, access, caller
from ..kernel.audit import audit
from ..sfu.consumer import Consumer
from ..sfu.router import UnknownStream
from ..streams.hub import ROUTER
from ..streams.lookup import live_stream
from .sdp_body import created, read_offer

routes = web.RouteTableDef()


def _own_consumer(request: web.Request) -> Consumer:
    """The caller's own subscription named in the path."""
    consumer = live_stream(request, request.match_info["stream_id"]).consumers.get(request.match_info["consumer_id"])
    if consumer is None or consumer.viewer != caller(request).user_id:
        raise UnknownStream(f"no viewer {request.match_info['consumer_id']!r} on this stream")
    return consumer


@routes.post("/whep/{stream_id}")
@access(Access.VIEWER)
async def subscribe(request: web.Request) -> web.Response:
    producer = live_stream(request, request.match_info["stream_id"])  # 404 before reading the body
    offer = await read_offer(request)
    who = caller(request)
    consumer, answer = await request.app[ROUTER].subscribe(producer.id, offer, who.user_id)
    audit(request, "stream viewed", stream=producer.id, camera=producer.camera)
    return created(answer, f"/whep/{producer.id}/{consumer.id}")


@routes.post("/whep/{stream_id}/{consumer_id}/keepalive")
@access(Access.VIEWER)
async def keepalive(request: web.Request) -> web.Response:
    _own_consumer(request).touch()
    return web.Response(status=204)


@routes.post("/whep/{stream_id}/{consumer_id}/decrypt-state")
@access(Access.VIEWER)
async def decrypt_state(request: web.Request) -> web.Response:
    consumer = _own_consumer(request)
    try:
        body = await request.json()
        decrypting = body["decrypting"]
    except (ValueError, KeyError, TypeError):
        raise web.HTTPBadRequest(text='send JSON {"decrypting": true|false}') from None
    if not isinstance(decrypting, bool):
        raise web.HTTPBadRequest(text='"decrypting" must be true or false')
    consumer.decrypting = decrypting
    consumer.touch()
    return web.Response(status=204)


@routes.delete("/whep/{stream_id}/{consumer_id}")
@access(Access.VIEWER)
async def unsubscribe(request: web.Request) -> web.Response:
    consumer = _own_consumer(request)
    await request.app[ROUTER].unsubscribe(consumer.producer.id, consumer.id)
    return web.json_response({"left": consumer.id})
