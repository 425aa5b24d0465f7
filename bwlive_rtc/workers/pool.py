"""The front's media workers: N processes, each with its own event loop, ICE/media sockets
and recorder, behind the router shape the features use (``sfu/port.py``). A new stream
goes to the least loaded worker (producers plus consumers), its viewers to the same one. A
worker that dies is started again; its streams end as a crash ends them (``PRODUCER_REMOVED``
for each, and ``STREAMS_LOST`` for the recordings to finish from the spool), and their
cameras publish afresh."""
from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Mapping
from pathlib import Path

import aiohttp
from pyee.asyncio import AsyncIOEventEmitter

from ..kernel.config import Settings
from ..kernel.errors import Unavailable
from ..kernel.files import private_directory
from ..sfu.port import CONSUMER_ADDED, CONSUMER_REMOVED, PRODUCER_ADDED, PRODUCER_REMOVED
from ..sfu.router import UnknownStream
from . import wire
from .link import Link
from .remote import RemoteStream, RemoteViewer

log = logging.getLogger(__name__)

STREAMS_LOST = "streams_lost"  # (worker index, [stream ids]): a worker died with these streams
WORKER_MODULE = "bwlive_rtc.media_worker"
START_TIMEOUT_S = 60.0  # a loaded machine imports aiortc slowly
RESTART_PAUSE_S = 1.0
SOCKET_DIRECTORY_MAX = 96  # a Unix socket's path has at most 107 bytes (Linux)


class Worker(Link):
    """One media worker process and the front's connection to it."""

    def __init__(self, pool: MediaWorkers, index: int, socket: Path) -> None:
        super().__init__()
        self.pool, self.index, self.socket = pool, index, socket
        self.process: asyncio.subprocess.Process | None = None
        self.streams: dict[str, RemoteStream] = {}
        self.placing = 0  # publishes sent to it and not answered yet: they count as streams

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    @property
    def load(self) -> int:
        return self.placing + sum(1 + len(stream.consumers) for stream in self.streams.values())

    async def start(self) -> None:
        """Start the process, hand it its settings, wait until it listens, follow its events."""
        self.socket.unlink(missing_ok=True)
        config = wire.worker_settings(self.pool.settings, self.index, self.pool.count, self.socket)
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", WORKER_MODULE, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(config).encode() + b"\n")  # stays open: the worker's lifeline
        await self.process.stdin.drain()
        line = await asyncio.wait_for(self.process.stdout.readline(), START_TIMEOUT_S)
        if line.decode().strip() != wire.READY:
            raise RuntimeError(f"media worker {self.index} did not start (exit code {self.process.returncode})")
        self.session = aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(self.socket)))
        events = await self.session.ws_connect(f"http://worker{wire.EVENTS_PATH}")
        self._spawn(self._follow(events))
        self._spawn(self._watch_exit(self.process))
        log.info("media worker %d started (pid %d)", self.index, self.process.pid)

    async def _follow(self, events: aiohttp.ClientWebSocketResponse) -> None:
        async for message in events:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            event = json.loads(message.data)
            if event["type"] == wire.STATUS:
                for stream_id, (quiet_for, received) in event["streams"].items():
                    if (stream := self.streams.get(stream_id)) is not None:
                        stream.report(quiet_for, received)
            elif event["type"] == wire.PRODUCER_REMOVED:
                self.pool.removed(self, event["stream"])
            elif event["type"] == wire.CONSUMER_REMOVED:
                self.pool.viewer_left(self, event["stream"], event["consumer"])

    async def _watch_exit(self, process: asyncio.subprocess.Process) -> None:
        code = await process.wait()
        if self.process is process:
            await self.pool.died(self, code)

    async def stop(self, within: float) -> None:
        """Ask the worker to end its streams and store its recordings, then to exit."""
        process, self.process = self.process, None
        if process is None:
            return
        try:
            await asyncio.wait_for(self.call("POST", "/close", {"within": within}), within + 10)
        except (Unavailable, TimeoutError) as exc:
            log.warning("media worker %d did not close cleanly: %s", self.index, exc)
        await self.disconnect()
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()

    async def disconnect(self) -> None:
        session, self.session = self.session, None
        for task in list(self._tasks):
            if task is not asyncio.current_task():  # a death is handled in the task that saw it
                task.cancel()
        if session is not None:
            await session.close()


class MediaWorkers(AsyncIOEventEmitter):
    """The router the front's features use when the SFU runs in worker processes."""

    def __init__(self, settings: Settings, count: int) -> None:
        super().__init__()
        self.settings, self.count = settings, count
        directory = settings.data_dir / "workers"
        if len(str(directory.absolute())) > SOCKET_DIRECTORY_MAX:
            raise ValueError(f"the data directory's path is too long for the media workers' sockets ({directory}): "
                             "give a shorter --data-dir, or run the SFU in process with --workers 0")
        private_directory(directory)
        self.workers = [Worker(self, index, directory / f"{index}.sock") for index in range(count)]
        self._streams: dict[str, RemoteStream] = {}
        self._closing = False

    @property
    def producers(self) -> Mapping[str, RemoteStream]:
        return self._streams

    async def open(self) -> None:
        await asyncio.gather(*(worker.start() for worker in self.workers))

    def _least_loaded(self) -> Worker:
        ready = [worker for worker in self.workers if worker.session is not None]
        if not ready:
            raise Unavailable("no media worker is running; try again in a moment")
        return min(ready, key=lambda worker: (worker.load, worker.index))

    def _stream(self, stream_id: str) -> RemoteStream:
        try:
            return self._streams[stream_id]
        except KeyError:
            raise UnknownStream(f"no live stream with id {stream_id!r}") from None

    def _holder(self, stream: RemoteStream) -> Worker:
        """The worker holding ``stream`` (its link is one of these)."""
        return self.workers[self.workers.index(stream.worker)]  # type: ignore[arg-type]

    async def publish(self, offer_sdp: str, camera: str, key_envelope: dict[str, object],
                      organisation_ids: list[str], manifest: str | None = None) -> tuple[RemoteStream, str]:
        worker = self._least_loaded()
        worker.placing += 1  # cameras publishing at once spread over the workers
        try:
            answer = await worker.call("POST", "/streams", {
                "offer": offer_sdp, "camera": camera, "key_envelope": key_envelope,
                "organisation_ids": organisation_ids, "manifest": manifest})
        finally:
            worker.placing -= 1
        stream = RemoteStream(worker, answer["stream"])
        worker.streams[stream.id] = self._streams[stream.id] = stream
        log.info("stream %s of %s placed on media worker %d (pid %s)", stream.id, camera, worker.index, worker.pid)
        self.emit(PRODUCER_ADDED, stream)
        return stream, str(answer["answer"])

    async def resume(self, stream_id: str, offer_sdp: str) -> str:
        stream = self._stream(stream_id)
        answer = await stream.worker.call("POST", f"/streams/{stream_id}/resume", {"offer": offer_sdp})
        return str(answer["answer"])

    async def unpublish(self, stream_id: str) -> None:
        stream = self._streams.get(stream_id)
        if stream is None:
            return
        try:
            await stream.worker.call("DELETE", f"/streams/{stream_id}")
        finally:
            self.removed(self._holder(stream), stream_id)

    async def subscribe(self, stream_id: str, offer_sdp: str, viewer: str | None = None) -> tuple[RemoteViewer, str]:
        stream = self._stream(stream_id)
        consumer, answer = await stream.subscribe(offer_sdp, viewer)
        stream.consumers[consumer.id] = consumer
        self.emit(CONSUMER_ADDED, consumer)
        return consumer, answer

    async def unsubscribe(self, stream_id: str, consumer_id: str) -> None:
        stream = self._streams.get(stream_id)
        if stream is not None and consumer_id in stream.consumers:
            try:
                await stream.unsubscribe(consumer_id)
            finally:
                self.viewer_left(self._holder(stream), stream_id, consumer_id)

    async def drop_viewer(self, viewer: str, organisation_id: str) -> None:
        await asyncio.gather(*(worker.call("POST", "/viewers/drop", {"viewer": viewer, "organisation_id": organisation_id})
                               for worker in self.workers if worker.session is not None), return_exceptions=True)

    def removed(self, worker: Worker, stream_id: str) -> None:
        """A stream of ``worker`` ended (asked, its camera left, or the worker died)."""
        stream = worker.streams.pop(stream_id, None)
        if stream is None:
            return
        self._streams.pop(stream_id, None)
        for consumer_id in list(stream.consumers):
            self.viewer_left(worker, stream_id, consumer_id)
        self.emit(PRODUCER_REMOVED, stream)

    def viewer_left(self, worker: Worker, stream_id: str, consumer_id: str) -> None:
        stream = worker.streams.get(stream_id)
        consumer = stream.consumers.pop(consumer_id, None) if stream is not None else None
        if consumer is not None:
            self.emit(CONSUMER_REMOVED, consumer)

    async def died(self, worker: Worker, code: int | None) -> None:
        """A worker exited unasked: its streams end as a crash ends them, and it starts again."""
        if self._closing:
            return
        lost = list(worker.streams)
        log.error("media worker %d (pid %s) exited with code %s; ending its %d stream(s) and starting it again",
                  worker.index, worker.pid, code, len(lost))
        worker.process = None
        await worker.disconnect()
        for stream_id in lost:
            self.removed(worker, stream_id)
        self.emit(STREAMS_LOST, worker.index, lost)
        while not self._closing:
            try:
                await worker.start()
                return
            except Exception:
                log.exception("media worker %d did not start; trying again", worker.index)
                await asyncio.sleep(RESTART_PAUSE_S)

    async def close(self, within: float = 3.0) -> None:
        """End every live stream (each worker stores its recordings), then stop the workers."""
        self._closing = True
        await asyncio.gather(*(worker.stop(within) for worker in self.workers))
        for worker in self.workers:
            for stream_id in list(worker.streams):
                self.removed(worker, stream_id)
