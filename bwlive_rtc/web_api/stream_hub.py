"""Pushes the list of live streams to every connected browser over WebSockets."""
from __future__ import annotations

import asyncio
import weakref

from aiohttp import web

from ..sfu.router import Router


class StreamHub:
    """Sends ``{"type": "streams", "streams": [...]}`` on connect and on every change."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.sockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()
        router.on("producer_added", self._changed)
        router.on("producer_removed", self._changed)

    def snapshot(self) -> dict[str, object]:
        streams = sorted(self.router.producers.values(), key=lambda p: p.started_at)
        return {"type": "streams", "streams": [p.describe() for p in streams]}

    async def _changed(self, _producer: object) -> None:
        message = self.snapshot()
        await asyncio.gather(
            *(ws.send_json(message) for ws in list(self.sockets) if not ws.closed),
            return_exceptions=True,
        )

    async def serve(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=20)
        await ws.prepare(request)
        self.sockets.add(ws)
        await ws.send_json(self.snapshot())
        async for _ in ws:  # browsers send nothing yet; keep the socket open
            pass
        return ws

    async def close(self) -> None:
        for ws in list(self.sockets):
            await ws.close()
