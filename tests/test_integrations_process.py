"""SOC integrations in the real server process on the system clock: a camera process's
stream is announced to a real receiver, retried in real time after a 500, and signed."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.integrations.signing import signature
from tests.processes import Server
from tests.test_integrations import SECRET, Receiver, api_call, receiver, until  # noqa: F401


@pytest.fixture(scope="module")
def server(workdir: Path, system_keys: SystemKeyPair) -> Iterator[Server]:
    """The real server, allowed to deliver to this test's receiver on loopback."""
    srv = Server(workdir, workdir / "keys", "--allow-private-integration-targets")
    yield srv
    srv.stop()


async def test_a_camera_process_stream_reaches_the_receiver_after_a_real_time_retry(
    start_camera, api, receiver: Receiver,  # type: ignore[no-untyped-def]
) -> None:
    receiver.statuses = [500]
    await api_call(api, "POST", "/api/integrations", {"url": receiver.url, "secret": SECRET}, expect=201)
    camera = await asyncio.to_thread(start_camera, "Officer Process")  # (keeps this loop, and the receiver, running)

    async def started_delivered() -> dict | None:
        deliveries = (await api_call(api, "GET", "/api/integrations/deliveries"))["deliveries"]
        return next((d for d in deliveries if d["event_type"] == "stream.started" and d["status"] == "delivered"), None)

    delivered = await until(started_delivered, timeout=30)
    first, second = delivered["attempts"]
    assert (first["response_code"], second["response_code"]) == (500, 200)
    gap = datetime.fromisoformat(second["at"]) - datetime.fromisoformat(first["at"])
    assert timedelta(seconds=2.5) <= gap <= timedelta(seconds=12), gap  # backoff: 2.5-5 s, plus load

    await asyncio.to_thread(camera.stop)
    await until(lambda: _types(receiver, "stream.ended"), timeout=30)
    events = receiver.events()
    assert [e["type"] for e in events] == ["stream.started", "stream.started", "stream.ended"]
    assert {e["camera"] for e in events} == {"Officer Process"} and events[0] == events[1]
    for headers, body in receiver.requests:
        assert headers["Bwlive-Signature"] == signature(SECRET, int(headers["Bwlive-Timestamp"]), body)


async def _types(receiver: Receiver, event_type: str) -> bool:
    return any(e["type"] == event_type for e in receiver.events())
