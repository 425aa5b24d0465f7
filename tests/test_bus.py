"""The node bus on a real Redis (kernel/bus.py): messages reach every node in order, this
one too; the directory lists each live node's streams, and forgets a node that stopped
refreshing them within its TTL; a node whose Redis went away and came back hears again.
And the one-server bus: straight to the handlers, the same interface."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bwlive_rtc.kernel.bus import Bus, BusError, LocalBus, Message, RedisBus, open_bus
from tests.redis_server import RedisServer


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    yield server
    server.stop()


def _collect(bus: Bus, channel: str) -> list[Message]:
    got: list[Message] = []
    bus.on(channel, got.append)
    return got


async def _until(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "never came"
        await asyncio.sleep(0.01)


async def test_messages_reach_every_node_in_order_and_the_directory_lists_live_nodes(redis_server: RedisServer) -> None:
    a, b = RedisBus(redis_server.url, ttl=0.9), RedisBus(redis_server.url, ttl=0.9)
    await a.start()
    await b.start()
    try:
        on_a, on_b = _collect(a, "test"), _collect(b, "test")
        for n in range(20):
            a.publish("test", {"n": n})
        await _until(lambda: len(on_a) == len(on_b) == 20)
        assert on_a == on_b == [{"n": n} for n in range(20)]

        await a.set_streams([{"id": "s1", "camera": "Ann"}])
        assert await b.streams() == {a.node: [{"id": "s1", "camera": "Ann"}], b.node: []}
        await asyncio.sleep(1.5)  # past the TTL: the heartbeat keeps the entry
        assert (await b.streams())[a.node] == [{"id": "s1", "camera": "Ann"}]

        for task in a._tasks:  # node A dies: nothing refreshes its entry
            task.cancel()
        await asyncio.sleep(1.0)
        assert await b.streams() == {b.node: []}
    finally:
        await b.close()
        await a.redis.aclose()


async def test_a_node_hears_again_after_redis_came_back(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis")
    bus = RedisBus(server.url)
    await bus.start()
    got = _collect(bus, "test")
    try:
        port = server.url.rsplit(":", 1)[1].split("/")[0]
        server.stop()
        await asyncio.sleep(0.5)
        server = RedisServer(tmp_path / "redis", port=int(port))
        deadline = time.monotonic() + 10
        while not got:  # it subscribes again within a second or two
            assert time.monotonic() < deadline, "the bus never heard again"
            bus.publish("test", {"again": True})
            await asyncio.sleep(0.3)
        assert got[0] == {"again": True}
    finally:
        await bus.close()
        server.stop()


async def test_one_server_delivers_straight_to_its_handlers() -> None:
    bus = open_bus("")
    assert isinstance(bus, LocalBus)
    got = _collect(bus, "test")
    bus.publish("test", {"n": 1})
    assert got == [{"n": 1}]  # at once, in the publisher's call
    await bus.set_streams([{"id": "s1"}])
    assert await bus.streams() == {bus.node: [{"id": "s1"}]}


async def test_an_unknown_or_unreachable_bus_is_refused_with_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(BusError, match="give a redis:// URL"):
        open_bus("nats://127.0.0.1:4222")
    bus = open_bus("redis://127.0.0.1:1/0")
    with pytest.raises(BusError, match="cannot reach the bus at redis://127.0.0.1:1/0"):
        await bus.start()


async def test_a_dead_node_s_stream_is_found_gone_also_when_another_node_s_word_came_first(
        redis_server: RedisServer) -> None:
    """Node A dies; before node B's next directory check, a third node's streams change
    (a camera of the dead node publishing again there): the read on that word sees A's
    stream gone, and the check still hands it over to be ended (it was lost before)."""
    from bwlive_rtc.sfu.router import Router
    from bwlive_rtc.streams.hub import STREAMS_CHANNEL, StreamHub

    a, b, c = (RedisBus(redis_server.url, ttl=0.9) for _ in range(3))
    for bus in (a, b, c):
        await bus.start()
    hub = StreamHub(Router(), b)
    try:
        await a.set_streams([{"id": "s1", "camera": "Ann"}])
        assert await hub.check_directory() == []
        for task in a._tasks:  # node A dies: nothing refreshes its entry
            task.cancel()
        await asyncio.sleep(1.2)
        await c.set_streams([{"id": "s2", "camera": "Ann"}])
        c.publish(STREAMS_CHANNEL, {})
        await _until(lambda: [e["id"] for e in hub._others] == ["s2"])  # node B followed node C's word
        assert await hub.check_directory() == [{"id": "s1", "camera": "Ann"}]
        assert await hub.check_directory() == []  # once
    finally:
        for bus in (b, c):
            await bus.close()
        await a.redis.aclose()
