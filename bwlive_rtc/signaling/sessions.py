"""WHIP sessions: which camera publishes which live stream, under which secret resource URL.

One live stream per camera. A new publish from a camera replaces its running stream once
that stream has gone quiet (no media for ``QUIET_S``: the connection the camera is
replacing is dead, as after a network loss or a restart); while the running stream still
brings media, a second publish with the same credential is refused (409), so a replayed
credential cannot take over a live camera. The resource URL carries a random secret
(RFC 9725 leaves the URL to the server) compared in constant time.

A camera whose path broke continues its running stream over a new connection with a
resume at its resource URL (``whip.resume``); each resume must be signed at a camera time
later than the session's last one, so a captured resume cannot be played again.
"""
from __future__ import annotations

import asyncio
import hmac
import secrets
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from ..kernel.errors import Conflict, NotFound
from ..sfu.port import PRODUCER_REMOVED, ProducerPort, RouterPort

QUIET_S = 2.0


@dataclass(frozen=True)
class WhipSession:
    stream_id: str
    camera_id: str
    secret: str

    @property
    def location(self) -> str:
        return f"/whip/{self.stream_id}/{self.secret}"


class WhipSessions:
    def __init__(self, router: RouterPort) -> None:
        self.router = router
        self._by_camera: dict[str, WhipSession] = {}
        self._signed_at: dict[str, int] = {}  # camera id -> camera time of its session's last publish or resume
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)  # one per camera of the fleet
        router.on(PRODUCER_REMOVED, self._forget)

    @asynccontextmanager
    async def publishing(self, camera_id: str) -> AsyncIterator[None]:
        """Hold while a camera publishes: its running stream is ended first if quiet
        (else ``Conflict``), and no other publish of the same camera runs meanwhile."""
        async with self._locks[camera_id]:
            running = self._by_camera.get(camera_id)
            producer = self.router.producers.get(running.stream_id) if running else None
            if producer is not None:
                if producer.quiet_for() < QUIET_S:
                    raise Conflict("this camera is streaming already; a camera that lost its connection is let in "
                                   f"again once its old stream has brought no media for {QUIET_S:.0f} s",
                                   headers={"Retry-After": str(round(QUIET_S))})
                await self.router.unpublish(producer.id)
            yield

    def open(self, camera_id: str, producer: ProducerPort, camera_time_ms: int) -> WhipSession:
        """Record the camera's new stream; its resource URL is ``session.location``."""
        session = self._by_camera[camera_id] = WhipSession(producer.id, camera_id, secrets.token_urlsafe(32))
        self._signed_at[camera_id] = camera_time_ms
        return session

    @asynccontextmanager
    async def resuming(self, session: WhipSession, camera_time_ms: int) -> AsyncIterator[ProducerPort]:
        """Hold while the camera continues its running stream over a new connection: its
        running stream, if the resume is signed later than the session's last publish
        or resume (else ``Conflict``: a replayed resume), and no other publish meanwhile."""
        async with self._locks[session.camera_id]:
            producer = self.router.producers.get(session.stream_id)
            if producer is None or self._by_camera.get(session.camera_id) != session:
                raise NotFound(f"stream {session.stream_id} has ended; publish a new stream")
            if camera_time_ms <= self._signed_at.get(session.camera_id, 0):
                raise Conflict(f"this resume is signed at camera time {camera_time_ms}, not after the stream's "
                               "last publish or resume: a resume is accepted once")
            yield producer
            self._signed_at[session.camera_id] = camera_time_ms

    def find(self, stream_id: str, secret: str, camera_id: str) -> WhipSession:
        """The camera's session at this resource URL (same answer for every mismatch)."""
        session = self._by_camera.get(camera_id)
        if session is None or session.stream_id != stream_id or not hmac.compare_digest(
                session.secret.encode(), secret.encode(errors="replace")):
            raise NotFound("this camera has no WHIP session at this URL")
        return session

    def stream_of(self, camera_id: str) -> ProducerPort | None:
        """The camera's live stream, if it has one."""
        session = self._by_camera.get(camera_id)
        return self.router.producers.get(session.stream_id) if session else None

    async def end_camera(self, camera_id: str) -> None:
        """End the camera's live stream, if it has one (it was revoked)."""
        session = self._by_camera.get(camera_id)
        if session is not None:
            await self.router.unpublish(session.stream_id)

    def _forget(self, producer: ProducerPort) -> None:
        for camera_id, session in list(self._by_camera.items()):
            if session.stream_id == producer.id:
                del self._by_camera[camera_id]
                self._signed_at.pop(camera_id, None)


WHIP_SESSIONS = web.AppKey("whip_sessions", WhipSessions)
