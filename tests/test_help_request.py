"""Issue 13: a wearer's help request. A real camera process asks (its long press simulated
by --help-after, then SIGUSR1); the server, told in clear at the stream's WHIP resource,
shows it to every operator until someone acknowledges the stream and sends the SOC a
signed ``stream.help_requested``. The help route refused to everyone but the camera."""
from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.integrations.signing import signature
from tests.processes import Server, dock_camera
from tests.test_integrations import SECRET, Receiver, api_call, receiver, until  # noqa: F401


@pytest.fixture(scope="module")
def server(workdir: Path, system_keys: SystemKeyPair) -> Iterator[Server]:
    """The real server, allowed to deliver to this test's receiver on loopback."""
    srv = Server(workdir, workdir / "keys", "--allow-private-integration-targets")
    yield srv
    srv.stop()


async def stream_of(api, camera: str) -> dict:  # type: ignore[no-untyped-def]
    streams = (await api_call(api, "GET", "/api/streams"))["streams"]
    return next(stream for stream in streams if stream["camera"] == camera)


async def test_a_help_request_alerts_every_operator_and_the_soc_until_acknowledged(
    start_camera, api, receiver: Receiver,  # type: ignore[no-untyped-def]
) -> None:
    await api_call(api, "POST", "/api/integrations", {"url": receiver.url, "secret": SECRET}, expect=201)
    camera = await asyncio.to_thread(start_camera, "Hana Hulp", "--help-after", "2")
    stream = await stream_of(api, "Hana Hulp")
    assert stream["help_requested_at"] is None

    async def asked() -> str | None:
        return (await stream_of(api, "Hana Hulp"))["help_requested_at"]

    first = await until(asked, timeout=20)
    await asyncio.to_thread(camera.wait_for, "help requested: operators alerted", 10)
    await until(lambda: _delivered(receiver, 1), timeout=30)
    event = next(e for e in receiver.events() if e["type"] == "stream.help_requested")
    assert (event["stream_id"], event["camera"]) == (stream["id"], "Hana Hulp")
    for headers, body in receiver.requests:
        assert headers["Bwlive-Signature"] == signature(SECRET, int(headers["Bwlive-Timestamp"]), body)

    camera.proc.send_signal(signal.SIGUSR1)  # pressed again while the first waits: nothing new
    await asyncio.sleep(2)
    assert await asked() == first
    assert len(_help_events(receiver)) == 1

    # An operator acknowledges (the seal is for the camera to open; the server only relays it).
    await api_call(api, "POST", f"/api/streams/{stream['id']}/acknowledge", {"sealed": "A" * 40})
    assert await asked() is None
    camera.proc.send_signal(signal.SIGUSR1)  # a new request after the answer
    assert await until(asked, timeout=10) != first
    await until(lambda: _delivered(receiver, 2), timeout=30)


async def test_only_the_camera_asks_for_help_for_its_stream(
    start_camera, api, server: Server, workdir: Path,  # type: ignore[no-untyped-def]
) -> None:
    camera = await asyncio.to_thread(start_camera, "Vera Veilig")
    sid = (await stream_of(api, "Vera Veilig"))["id"]
    own = json.loads(camera.dock_file.read_text())["credential"]  # stolen from the camera
    other = json.loads(dock_camera(workdir / "data", "Otto Ander", workdir / "otto.json").read_text())["credential"]
    cookie_session = api  # an admin's session: a person, not the camera
    async with aiohttp.ClientSession() as http:
        for path, headers, status, words in [
            (f"/whip/{sid}/guess/help", {}, 401, "no device credential"),
            (f"/whip/{sid}/guess/help", {"Authorization": f"Bearer {other}"}, 404, "no WHIP session at this URL"),
            (f"/whip/{sid}/guess/help", {"Authorization": f"Bearer {own}"}, 404, "no WHIP session at this URL"),
            (f"/whip/{sid}/guess/help?credential={own}", {}, 400, "Authorization header, never in the URL"),
            (f"/whip/{'x' * 300}/guess/help", {"Authorization": f"Bearer {own}"}, 400, "stream_id"),
            (f"/whip/{sid}/guess/help", {"Authorization": "Bearer bwlive-cred-v1.e30.AAAA"}, 403, "not valid for this system"),
        ]:
            async with http.post(server.url + path, headers=headers) as response:
                body = await response.text()
                assert response.status == status, (path, body)
                assert words in json.loads(body)["error"], (path, body)
    async with cookie_session.request("POST", f"/whip/{sid}/guess/help") as response:
        assert response.status == 401, await response.text()
    assert (await stream_of(api, "Vera Veilig"))["help_requested_at"] is None


def _help_events(receiver: Receiver) -> list[dict]:
    return [e for e in receiver.events() if e["type"] == "stream.help_requested"]


async def _delivered(receiver: Receiver, count: int) -> bool:
    return len(_help_events(receiver)) >= count
