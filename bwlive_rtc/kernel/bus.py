"""What the nodes of one system tell each other, and which node holds which live stream:
in this process for a server alone (the default), over Redis for several nodes
(``bwlive serve --bus redis://…``; docs/DEPLOYMENT.md, "A cluster"). Messages and the
directory carry ids, names and times, never keys or media: what the stream list shows."""
from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import socket
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis

from .tokens import new_id

log = logging.getLogger(__name__)

Message = dict[str, Any]
Handler = Callable[[Message], Awaitable[None] | None]
DIRECTORY_TTL_S = 6.0  # a node that stopped refreshing its streams this long is gone, and its streams too


class BusError(RuntimeError):
    """The bus cannot be reached or is not one bwlive knows."""


class Bus(ABC):
    """``on(channel, handler)``; ``publish(channel, message)`` reaches the handlers of every
    node, this one included, in the order published. ``set_streams`` puts this node's
    live streams in the directory; ``streams()`` reads every live node's."""

    def __init__(self, node: str | None = None) -> None:
        self.node = node or f"{socket.gethostname()}-{os.getpid()}-{new_id()[:8]}"
        self._handlers: dict[str, list[Handler]] = {}
        self._running: set[asyncio.Future[None]] = set()

    def on(self, channel: str, handler: Handler) -> None:
        self._handlers.setdefault(channel, []).append(handler)

    def _deliver(self, channel: str, message: Message) -> None:
        for handler in self._handlers.get(channel, ()):
            result = handler(message)
            if inspect.isawaitable(result):
                future = asyncio.ensure_future(result)
                self._running.add(future)
                future.add_done_callback(self._done)

    def _done(self, future: asyncio.Future[None]) -> None:
        self._running.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.error("a bus handler failed", exc_info=future.exception())

    @abstractmethod
    def publish(self, channel: str, message: Message) -> None: ...

    @abstractmethod
    async def publish_now(self, channel: str, message: Message) -> None:
        """Publish and wait until the bus took it (it may overtake messages still queued by
        ``publish``); ``BusError`` when the bus cannot be reached, so the caller can say so."""

    @abstractmethod
    async def set_streams(self, entries: list[Message]) -> None: ...

    @abstractmethod
    async def streams(self) -> dict[str, list[Message]]: ...

    async def stream_ids(self) -> set[str]:
        """The ids of every live node's streams (this one's too)."""
        return {entry["id"] for entries in (await self.streams()).values() for entry in entries}

    @abstractmethod
    async def start(self) -> None:
        """Connect (a bus that cannot be reached raises ``BusError``)."""

    @abstractmethod
    async def close(self) -> None:
        """Leave the directory and disconnect."""


class LocalBus(Bus):
    """One server: messages go straight to this process's handlers."""

    def __init__(self) -> None:
        super().__init__("local")
        self._entries: list[Message] = []

    def publish(self, channel: str, message: Message) -> None:
        self._deliver(channel, message)

    async def publish_now(self, channel: str, message: Message) -> None:
        self._deliver(channel, message)

    async def set_streams(self, entries: list[Message]) -> None:
        self._entries = entries

    async def streams(self) -> dict[str, list[Message]]:
        return {self.node: self._entries}

    async def start(self) -> None:
        """Nothing to connect to."""

    async def close(self) -> None:
        """Nothing to leave."""


class RedisBus(Bus):
    """Several nodes: messages on Redis pub/sub channels ``bwlive:bus:<channel>``; each
    node's streams under ``bwlive:streams:<node>``, rewritten every third of
    ``DIRECTORY_TTL_S`` and gone when it stops (a dead node's within the TTL), the live
    nodes in the set ``bwlive:nodes``."""

    PREFIX = "bwlive:bus:"
    NODES = "bwlive:nodes"

    def __init__(self, url: str, ttl: float = DIRECTORY_TTL_S) -> None:
        super().__init__()
        self.url, self.ttl = url, ttl
        self.redis: aioredis.Redis = aioredis.from_url(url)
        self._outbox: asyncio.Queue[tuple[str, Message]] = asyncio.Queue()
        self._entries: list[Message] = []
        self._tasks: list[asyncio.Task[None]] = []

    def _key(self, node: str) -> str:
        return f"bwlive:streams:{node}"

    async def start(self) -> None:
        pubsub = self.redis.pubsub()
        try:
            await pubsub.psubscribe(self.PREFIX + "*")
            await self._write()
        except (aioredis.RedisError, OSError) as error:
            raise BusError(f"cannot reach the bus at {self.url}: {error}") from error
        self._tasks = [asyncio.create_task(self._receive(pubsub)), asyncio.create_task(self._send()),
                       asyncio.create_task(self._heartbeat())]

    async def _receive(self, pubsub: Any) -> None:
        """Deliver what arrives; when Redis goes away, subscribe again every second (what
        was published meanwhile is lost; the directory is read again anyway)."""
        while True:
            try:
                async with pubsub:
                    async for item in pubsub.listen():
                        if item["type"] == "pmessage":
                            self._deliver(item["channel"].decode()[len(self.PREFIX):], json.loads(item["data"]))
            except (aioredis.RedisError, OSError) as error:
                log.warning("lost the bus (%s); subscribing again", error)
            await asyncio.sleep(1.0)
            pubsub = self.redis.pubsub()
            try:
                await pubsub.psubscribe(self.PREFIX + "*")
            except (aioredis.RedisError, OSError):
                continue

    async def _send(self) -> None:
        while True:
            channel, message = await self._outbox.get()
            try:
                await self.redis.publish(self.PREFIX + channel, json.dumps(message))
            except (aioredis.RedisError, OSError):
                log.exception("a message on the bus was lost (%s)", channel)
            finally:
                self._outbox.task_done()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                await self._write()
            except (aioredis.RedisError, OSError):
                log.exception("the stream directory could not be refreshed")

    async def _write(self) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key(self.node), json.dumps(self._entries), px=int(self.ttl * 1000))
            pipe.sadd(self.NODES, self.node)
            await pipe.execute()

    def publish(self, channel: str, message: Message) -> None:
        self._outbox.put_nowait((channel, message))

    async def publish_now(self, channel: str, message: Message) -> None:
        try:
            await self.redis.publish(self.PREFIX + channel, json.dumps(message))
        except (aioredis.RedisError, OSError) as error:
            raise BusError(f"cannot reach the bus at {self.url}: {error}") from error

    async def set_streams(self, entries: list[Message]) -> None:
        self._entries = entries
        await self._write()

    async def streams(self) -> dict[str, list[Message]]:
        nodes = sorted(member.decode() if isinstance(member, bytes) else member
                       for member in await self.redis.smembers(self.NODES))
        if not nodes:
            return {}
        values = await self.redis.mget([self._key(node) for node in nodes])
        gone = [node for node, value in zip(nodes, values, strict=True) if value is None]
        if gone:
            await self.redis.srem(self.NODES, *gone)
        return {node: json.loads(value) for node, value in zip(nodes, values, strict=True) if value is not None}

    async def close(self) -> None:
        if self._tasks:  # what was published goes out first
            try:
                await asyncio.wait_for(self._outbox.join(), 1.0)
            except TimeoutError:
                log.warning("messages still unsent to the bus at the stop were dropped")
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            await self.redis.delete(self._key(self.node))
            await self.redis.srem(self.NODES, self.node)
        except (aioredis.RedisError, OSError):
            log.warning("could not leave the stream directory; it expires within %.0f s", self.ttl)
        await self.redis.aclose()


def open_bus(url: str) -> Bus:
    """The bus ``url`` names (``redis://`` or ``rediss://``), else this process's own."""
    if not url:
        return LocalBus()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBus(url)
    raise BusError(f"unknown bus {url!r}: give a redis:// URL")
