"""Counts that limit how often people may do something (failed sign-ins; acknowledgements,
``SharedRateLimiter``'s token buckets): this server's own, or, on a cluster's bus (``--bus redis://``), every node's in Redis,
checked and changed under a Redis lock so that two nodes never both let one more through.
While Redis cannot be reached each node counts on its own (never an error for the caller).
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from redis import asyncio as aioredis

from .bus import Bus, RedisBus
from .clock import Clock
from .rate import refilled

log = logging.getLogger(__name__)
MAX_KEYS = 100_000  # beyond, a server's own counts forget the least recently changed
Key = tuple[str, ...]
T = TypeVar("T")


@dataclass
class Count:
    """How many (``value``), as of ``last``."""

    value: float
    last: datetime


class Counts(Protocol):
    """Where counts are kept; ``locked(name)`` holds while the counts ``name`` covers are
    checked and changed."""

    def locked(self, name: str) -> AbstractAsyncContextManager[None]: ...
    async def get(self, key: Key) -> Count | None: ...
    async def put(self, key: Key, count: Count) -> None: ...
    async def forget(self, key: Key) -> None: ...


class LocalCounts:
    """This server's counts, the least recently changed forgotten beyond ``MAX_KEYS`` (one
    event loop: nothing runs between a check and its change)."""

    def __init__(self) -> None:
        self._counts: OrderedDict[Key, Count] = OrderedDict()

    @asynccontextmanager
    async def locked(self, name: str) -> AsyncIterator[None]:
        yield

    async def get(self, key: Key) -> Count | None:
        return self._counts.get(key)

    async def put(self, key: Key, count: Count) -> None:
        self._counts[key] = count
        self._counts.move_to_end(key)
        while len(self._counts) > MAX_KEYS:
            self._counts.popitem(last=False)

    async def forget(self, key: Key) -> None:
        self._counts.pop(key, None)


class RedisCounts:
    """Every node's counts, in Redis hashes ``bwlive:<kind>:<key…>`` that expire
    ``forget_after`` after their last change; ``locked(name)`` is the Redis lock
    ``bwlive:<kind>-lock:<name>``, so one check and change at a time across nodes."""

    def __init__(self, redis: aioredis.Redis, kind: str, forget_after: timedelta) -> None:
        self.redis, self.kind, self.forget_after = redis, kind, forget_after

    def _name(self, key: Key) -> str:
        return ":".join(("bwlive", self.kind, *key))

    @asynccontextmanager
    async def locked(self, name: str) -> AsyncIterator[None]:
        async with self.redis.lock(f"bwlive:{self.kind}-lock:{name}", timeout=5, blocking_timeout=5):
            yield

    async def get(self, key: Key) -> Count | None:
        found = await self.redis.hgetall(self._name(key))  # type: ignore[misc]
        if not found:
            return None
        last = found[b"last"]
        return Count(float(found[b"count"]), datetime.fromisoformat(last.decode() if isinstance(last, bytes) else last))

    async def put(self, key: Key, count: Count) -> None:
        name = self._name(key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(name, mapping={"count": repr(count.value), "last": count.last.isoformat()})
            pipe.expire(name, max(1, int(self.forget_after.total_seconds())))
            await pipe.execute()

    async def forget(self, key: Key) -> None:
        await self.redis.delete(self._name(key))


class SharedCounts:
    """Runs a check-and-change on every node's counts (``RedisCounts`` on a cluster's bus),
    or on this server's own: alone, or while Redis cannot be reached (then said in the log)."""

    def __init__(self, bus: Bus, kind: str, forget_after: timedelta) -> None:
        self.here = LocalCounts()
        self.counts: Counts = (RedisCounts(bus.redis, kind, forget_after) if isinstance(bus, RedisBus)
                               else self.here)
        self.kind = kind

    async def run(self, change: Callable[[Counts], Awaitable[T]]) -> T:
        try:
            return await change(self.counts)
        except (aioredis.RedisError, OSError) as error:
            log.warning("%s counted on this node only: %s", self.kind, error)
            return await change(self.here)


class SharedRateLimiter:
    """``RateLimiter``'s buckets kept in ``SharedCounts`` (``kind`` names them there): one
    budget per key across the nodes of a cluster, each node's own while Redis is away. A
    bucket is forgotten once it would have filled up again."""

    def __init__(self, bus: Bus, kind: str, capacity: float, refill_per_second: float, clock: Clock) -> None:
        self.capacity, self.refill_per_second, self.clock = capacity, refill_per_second, clock
        self.counts = SharedCounts(bus, kind, timedelta(seconds=capacity / refill_per_second + 1))

    async def take(self, key: Key) -> float:
        """Take a token for ``key``: 0.0 when allowed, else the seconds to wait."""
        return await self.counts.run(lambda counts: self._take(counts, key))

    async def _take(self, counts: Counts, key: Key) -> float:
        async with counts.locked(":".join(key)):
            found, now = await counts.get(key), self.clock.now()
            tokens = self.capacity if found is None else refilled(
                found.value, (now - found.last).total_seconds(), self.capacity, self.refill_per_second)
            if tokens < 1.0:
                return (1.0 - tokens) / self.refill_per_second
            await counts.put(key, Count(tokens - 1.0, now))
            return 0.0
