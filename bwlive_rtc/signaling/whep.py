"""WHEP-style playback for browsers: subscribe, keep alive, report decryption, leave."""
from __future__ import annotations

from aiohttp import web

from ..web_api.access import Access, access
from ..web_api.keys import ROUTER
from .sdp_body import created, read_offer

routes = web.RouteTableDef()


@routes.post("/whep/{stream_id}")
@access(Access.VIEWER)
async def subscribe(request: web.Request) -> web.Response:
    stream_id = request.match_info["stream_id"]
    request.app[ROUTER].producer(stream_id)  # 404 before reading the body
    offer = await read_offer(request)
    consumer, answer = await request.app[ROUTER].subscribe(stream_id, offer)
    return created(answer, f"/whep/{stream_id}/{consumer.id}")


@routes.post("/whep/{stream_id}/{consumer_id}/keepalive")
@access(Access.VIEWER)
async def keepalive(request: web.Request) -> web.Response:
    request.app[ROUTER].consumer(request.match_info["stream_id"], request.match_info["consumer_id"]).touch()
    return web.Response(status=204)


@routes.post("/whep/{stream_id}/{consumer_id}/decrypt-state")
@access(Access.VIEWER)
async def decrypt_state(request: web.Request) -> web.Response:
    consumer = request.app[ROUTER].consumer(request.match_info["stream_id"], request.match_info["consumer_id"])
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
    stream_id, consumer_id = request.match_info["stream_id"], request.match_info["consumer_id"]
    request.app[ROUTER].consumer(stream_id, consumer_id)
    await request.app[ROUTER].unsubscribe(stream_id, consumer_id)
    return web.json_response({"left": consumer_id})
