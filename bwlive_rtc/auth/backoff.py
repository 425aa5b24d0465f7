"""Back-off after failed sign-ins, per account *and* address, and per address.

Failures from address X for account A make X wait before its next try at A (after
``FREE_PER_ACCOUNT`` failures) and before any try from X (after ``FREE_PER_ADDRESS``);
each further failure doubles the wait, up to ``LONGEST``. Nothing is kept per account
alone, so the owner signing in from another address is never locked out by an attacker.
Each attempt counts as a failure from the moment it starts (so concurrent guesses
cannot slip past the count) and is taken back when the password was right; a right
password forgets the account's failures from that address, not the address's.

The failures are this server's (``LocalFailures``), or, on a cluster's bus
(``--bus redis://``), every node's (``RedisFailures``: one count whichever node a guess
reaches; an address's attempts are checked and counted under its lock in Redis).
"""
from __future__ import annotations

import logging
import math
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from redis import asyncio as aioredis

from ..kernel.bus import Bus, RedisBus
from ..kernel.clock import Clock
from ..kernel.errors import TooManyRequests

log = logging.getLogger(__name__)
FREE_PER_ACCOUNT = 3
FREE_PER_ADDRESS = 20
FIRST_WAIT = timedelta(seconds=1)
LONGEST = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)  # a key quiet this long starts afresh
MAX_KEYS = 100_000  # beyond, the least recently failed keys are forgotten
ANY = ""  # in a key (account, address): the address's failures for every account


@dataclass
class _Failures:
    count: int
    last: datetime


Key = tuple[str, str]  # (account or ANY, address)


class Failures(Protocol):
    """Where failures are counted; ``locked(address)`` holds while one attempt from the
    address is checked and counted."""

    def locked(self, address: str) -> AbstractAsyncContextManager[None]: ...
    async def get(self, key: Key) -> _Failures | None: ...
    async def put(self, key: Key, failures: _Failures) -> None: ...
    async def forget(self, key: Key) -> None: ...


class LocalFailures:
    """This server's failures, the least recently failed forgotten beyond ``MAX_KEYS``
    (one event loop: nothing runs between a check and its count)."""

    def __init__(self) -> None:
        self._failures: OrderedDict[Key, _Failures] = OrderedDict()

    @asynccontextmanager
    async def locked(self, address: str) -> AsyncIterator[None]:
        yield

    async def get(self, key: Key) -> _Failures | None:
        return self._failures.get(key)

    async def put(self, key: Key, failures: _Failures) -> None:
        self._failures[key] = failures
        self._failures.move_to_end(key)
        while len(self._failures) > MAX_KEYS:
            self._failures.popitem(last=False)

    async def forget(self, key: Key) -> None:
        self._failures.pop(key, None)


class RedisFailures:
    """Every node's failures, in Redis hashes ``bwlive:sign-in:<account>:<address>`` that
    expire ``FORGET_AFTER`` after their last failure; an address's attempts go one at a
    time across nodes (a Redis lock, ``bwlive:sign-in-lock:<address>``)."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    @staticmethod
    def _name(key: Key) -> str:
        return f"bwlive:sign-in:{key[0]}:{key[1]}"

    @asynccontextmanager
    async def locked(self, address: str) -> AsyncIterator[None]:
        async with self.redis.lock(f"bwlive:sign-in-lock:{address}", timeout=5, blocking_timeout=5):
            yield

    async def get(self, key: Key) -> _Failures | None:
        found = await self.redis.hgetall(self._name(key))  # type: ignore[misc]
        if not found:
            return None
        last = found[b"last"]
        return _Failures(int(found[b"count"]), datetime.fromisoformat(last.decode() if isinstance(last, bytes) else last))

    async def put(self, key: Key, failures: _Failures) -> None:
        name = self._name(key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(name, mapping={"count": failures.count, "last": failures.last.isoformat()})
            pipe.expire(name, int(FORGET_AFTER.total_seconds()))
            await pipe.execute()

    async def forget(self, key: Key) -> None:
        await self.redis.delete(self._name(key))


def failures_on(bus: Bus) -> Failures:
    """Every node's failures on a cluster's bus, else this server's."""
    return RedisFailures(bus.redis) if isinstance(bus, RedisBus) else LocalFailures()


class SignInBackoff:
    """Counts in ``failures``; while they cannot be reached (Redis away), in this server's."""

    def __init__(self, clock: Clock, failures: Failures | None = None) -> None:
        self.clock = clock
        self.failures = failures or LocalFailures()
        self._here = self.failures if isinstance(self.failures, LocalFailures) else LocalFailures()

    async def attempt(self, account: str, address: str) -> None:
        """Refuse (429, ``Retry-After``) while ``address`` must wait for ``account`` or at
        all; else count this attempt as a failure until ``succeeded``."""
        try:
            await self._attempt(self.failures, account, address)
        except (aioredis.RedisError, OSError) as error:
            log.warning("sign-in failures counted on this node only: %s", error)
            await self._attempt(self._here, account, address)

    async def succeeded(self, account: str, address: str) -> None:
        """The password was right: forget ``account``'s failures from ``address`` and take
        this attempt back from the address's count."""
        try:
            await self._succeeded(self.failures, account, address)
        except (aioredis.RedisError, OSError) as error:
            log.warning("sign-in failures counted on this node only: %s", error)
            await self._succeeded(self._here, account, address)

    async def _attempt(self, failures: Failures, account: str, address: str) -> None:
        pair, whole = (account, address), (ANY, address)
        async with failures.locked(address):
            found = {key: await self._current(failures, key) for key in (pair, whole)}
            wait = max(self._wait(found[pair], FREE_PER_ACCOUNT), self._wait(found[whole], FREE_PER_ADDRESS))
            if wait > 0:
                seconds = math.ceil(wait)
                raise TooManyRequests(f"too many failed sign-ins from this address: try again in {seconds} s",
                                      headers={"Retry-After": str(seconds)})
            for key, counted in found.items():
                await failures.put(key, _Failures((counted.count if counted else 0) + 1, self.clock.now()))

    @staticmethod
    async def _succeeded(failures: Failures, account: str, address: str) -> None:
        async with failures.locked(address):
            await failures.forget((account, address))
            whole = await failures.get((ANY, address))
            if whole is not None:
                await failures.put((ANY, address), _Failures(max(0, whole.count - 1), whole.last))

    async def _current(self, failures: Failures, key: Key) -> _Failures | None:
        counted = await failures.get(key)
        if counted is not None and self.clock.now() - counted.last >= FORGET_AFTER:
            await failures.forget(key)
            return None
        return counted

    def _wait(self, failures: _Failures | None, free: int) -> float:
        if failures is None or failures.count < free:
            return 0.0
        doublings = min(failures.count - free, 32)
        delay = min(FIRST_WAIT * 2**doublings, LONGEST)
        return max(0.0, (failures.last + delay - self.clock.now()).total_seconds())
