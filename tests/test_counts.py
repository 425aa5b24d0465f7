"""Shared counts on a real Redis (kernel/counts.py), through ``SharedRateLimiter``: two
nodes' limiters draw on one budget per key, checked and taken under the Redis lock (many
takes at once through both let exactly the budget through), refilled on the clock; with
Redis gone each node counts on its own, without an error; alone (a ``LocalBus``) the
counts are this process's."""
from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from bwlive_rtc.kernel.bus import LocalBus, RedisBus
from bwlive_rtc.kernel.clock import ManualClock
from bwlive_rtc.kernel.counts import LocalCounts, RedisCounts, SharedRateLimiter
from tests.redis_server import RedisServer


async def test_two_nodes_draw_on_one_budget_and_count_alone_when_redis_is_gone(tmp_path: Path) -> None:
    redis_server = RedisServer(tmp_path / "redis")
    clock = ManualClock()
    a, b = RedisBus(redis_server.url), RedisBus(redis_server.url)
    try:
        on_a, on_b = (SharedRateLimiter(bus, "test", capacity=3, refill_per_second=0.5, clock=clock) for bus in (a, b))
        assert isinstance(on_a.counts.counts, RedisCounts)
        key = ("user", "stream")
        assert [await limiter.take(key) for limiter in (on_a, on_b, on_a)] == [0.0, 0.0, 0.0]
        assert await on_b.take(key) == 2.0 and await on_a.take(key) == 2.0  # refused: nothing taken
        assert await on_b.take(("someone else", "stream")) == 0.0  # another key, its own budget
        clock.advance(timedelta(seconds=1))
        assert await on_b.take(key) == 1.0
        clock.advance(timedelta(seconds=1))
        assert await on_b.take(key) == 0.0 and await on_a.take(key) == 2.0

        clock.advance(timedelta(minutes=1))  # full again
        many = await asyncio.gather(*(limiter.take(("many", "stream")) for limiter in (on_a, on_b) * 10))
        assert many.count(0.0) == 3, many  # one at a time across the nodes: exactly the budget
        assert 0 < await redis_server_ttl(redis_server, "bwlive:test:many:stream") <= 7  # forgotten once full again

        redis_server.stop()  # each node on its own now, never an error
        assert [await on_a.take(key) for _ in range(4)] == [0.0, 0.0, 0.0, 2.0]
        assert await on_b.take(key) == 0.0
    finally:
        redis_server.stop()
        for bus in (a, b):
            await bus.redis.aclose()


async def redis_server_ttl(server: RedisServer, name: str) -> int:
    bus = RedisBus(server.url)
    try:
        return int(await bus.redis.ttl(name))
    finally:
        await bus.redis.aclose()


async def test_a_server_alone_counts_in_its_own_memory() -> None:
    limiter = SharedRateLimiter(LocalBus(), "test", capacity=1, refill_per_second=1.0, clock=ManualClock())
    assert isinstance(limiter.counts.counts, LocalCounts)
    assert await limiter.take(("k",)) == 0.0 and await limiter.take(("k",)) == 1.0
