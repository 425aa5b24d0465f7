"""A media worker's side of the wire: its Router over HTTP+JSON on a Unix socket only the
front can open (0600 in a 0700 directory), and its events pushed on a WebSocket. SDP
offers and answers cross as text; the worker never holds a key either."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..kernel.errors import error_middleware
from ..kernel.requests import read_body
from ..sfu.consumer import Consumer
from ..sfu.port import CONSUMER_REMOVED, PRODUCER_REMOVED
from ..sfu.producer import Producer
from ..sfu.router import Router, UnknownStream
from . import wire

log = logging.getLogger(__name__)


class WorkerService:
    """Serves ``router`` to the front; ``closed`` is set once the front asked it to close
    (after ``on_close`` ran: streams ended, recordings stored)."""

    def __init__(self, router: Router, on_close: Callable[[float], Awaitable[None]]) -> None:
        self.router = router
        self._on_close = on_close
        self.closed = asyncio.Event()
        self._sockets: set[web.WebSocketResponse] = set()
        router.on(PRODUCER_REMOVED, self._producer_removed)
        router.on(CONSUMER_REMOVED, self._consumer_removed)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[error_middleware])
        app.add_routes([
            web.get(wire.EVENTS_PATH, self.events),
            web.post("/streams", self.publish),
            web.post("/streams/{stream}/resume", self.resume),
            web.delete("/streams/{stream}", self.unpublish),
            web.post("/streams/{stream}/reachable", self.reachable),
            web.post("/streams/{stream}/data", self.send_data),
            web.post("/streams/{stream}/viewers", self.subscribe),
            web.delete("/streams/{stream}/viewers/{consumer}", self.unsubscribe),
            web.post("/streams/{stream}/viewers/{consumer}/keepalive", self.keepalive),
            web.post("/viewers/drop", self.drop_viewer),
            web.post("/close", self.close),
        ])
        return app

    def _producer(self, request: web.Request) -> Producer:
        return self.router.producer(request.match_info["stream"])

    def _consumer(self, request: web.Request) -> Consumer:
        consumer = self._producer(request).consumers.get(request.match_info["consumer"])
        if consumer is None:
            raise UnknownStream(f"no viewer {request.match_info['consumer']!r} on this stream")
        return consumer

    async def publish(self, request: web.Request) -> web.Response:
        asked = await read_body(request, wire.Publish)
        producer, answer = await self.router.publish(asked.offer, asked.camera, asked.key_envelope,
                                                     list(asked.organisation_ids), asked.manifest)
        return web.json_response({"stream": {**producer.describe(), "organisation_ids": producer.organisation_ids},
                                  "answer": answer})

    async def resume(self, request: web.Request) -> web.Response:
        asked = await read_body(request, wire.Offer)
        return web.json_response({"answer": await self.router.resume(request.match_info["stream"], asked.offer)})

    async def unpublish(self, request: web.Request) -> web.Response:
        await self.router.unpublish(request.match_info["stream"])
        return web.Response(status=204)

    async def reachable(self, request: web.Request) -> web.Response:
        asked = await read_body(request, wire.Reachable)
        return web.json_response({"reachable": await self._producer(request).reachable_within(asked.seconds)})

    async def send_data(self, request: web.Request) -> web.Response:
        asked = await read_body(request, wire.Data)
        self._producer(request).send_data(bytes.fromhex(asked.message) if asked.binary else asked.message)
        return web.Response(status=204)

    async def subscribe(self, request: web.Request) -> web.Response:
        asked = await read_body(request, wire.Subscribe)
        consumer, answer = await self.router.subscribe(request.match_info["stream"], asked.offer, asked.viewer)
        return web.json_response({"consumer": consumer.id, "tracks": list(consumer.tracks), "answer": answer})

    async def unsubscribe(self, request: web.Request) -> web.Response:
        await self.router.unsubscribe(request.match_info["stream"], request.match_info["consumer"])
        return web.Response(status=204)

    async def keepalive(self, request: web.Request) -> web.Response:
        wire.keep_alive(self._consumer(request), await read_body(request, wire.Keepalive))
        return web.Response(status=204)

    async def drop_viewer(self, request: web.Request) -> web.Response:
        asked = await read_body(request, wire.DropViewer)
        await self.router.drop_viewer(asked.viewer, asked.organisation_id)
        return web.Response(status=204)

    async def close(self, request: web.Request) -> web.Response:
        asked = await read_body(request, wire.Close)
        await self._on_close(asked.within)
        self.closed.set()
        return web.Response(status=204)

    async def events(self, request: web.Request) -> web.WebSocketResponse:
        """The worker's events and its streams' status, pushed to the front until it leaves."""
        ws = web.WebSocketResponse()  # a Unix socket: a peer that is gone is an EOF, no heartbeat needed
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            async for _ in ws:
                pass
        finally:
            self._sockets.discard(ws)
        return ws

    async def report_status(self) -> None:
        """Every ``STATUS_INTERVAL_S``: how long each stream has been without media."""
        while True:
            await asyncio.sleep(wire.STATUS_INTERVAL_S)
            await self._send({"type": wire.STATUS, "streams": {
                p.id: [p.quiet_for(), p.received_media] for p in list(self.router.producers.values())}})

    async def _producer_removed(self, producer: Producer) -> None:
        await self._send({"type": wire.PRODUCER_REMOVED, "stream": producer.id})

    async def _consumer_removed(self, consumer: Consumer) -> None:
        await self._send({"type": wire.CONSUMER_REMOVED, "stream": consumer.producer.id, "consumer": consumer.id})

    async def _send(self, message: dict[str, object]) -> None:
        await asyncio.gather(*(ws.send_json(message) for ws in list(self._sockets) if not ws.closed),
                             return_exceptions=True)
