"""Issue 10, hole 4, tried as an attacker would: nobody makes the camera vibrate with a
forged, replayed or stale acknowledgement, nor with a name of their choosing, and a
viewer's data channel speaks to no camera. Real server, real camera process, real WebRTC."""
from __future__ import annotations

import asyncio
import json
import time

import pytest

from bwlive_rtc.crypto.acknowledgement import seal_acknowledgement, viewer_sender
from bwlive_rtc.crypto.b64 import b64url_encode
from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.sframe import StreamKey
from tests.processes import Camera
from tests.test_groups import invite
from tests.viewing import DecodingViewer

ACKNOWLEDGED = "acknowledged: by "


def _now_ms() -> int:
    return int(time.time() * 1000)


def _acknowledged(camera: Camera) -> list[str]:
    return [line for line in camera.lines if ACKNOWLEDGED in line]


async def _quiet(camera: Camera, before: int, seconds: float = 2.0) -> None:
    """The camera shows no new acknowledgement for ``seconds``."""
    await asyncio.sleep(seconds)
    assert len(_acknowledged(camera)) == before, _acknowledged(camera)


@pytest.fixture(scope="module")
def live(server, start_camera, system_keys):
    camera = start_camera("Tess Target")
    stream = server.wait_for_stream("Tess Target")
    return camera, stream, KeyEnvelope.from_json(stream["key_envelope"]).open(system_keys)


async def _acknowledge(client, stream_id: str, sealed: str) -> tuple[int, dict]:
    async with client.request("POST", f"/api/streams/{stream_id}/acknowledge", json={"sealed": sealed}) as response:
        return response.status, await response.json()


async def test_a_viewers_data_channel_reaches_no_camera(live, api, system_keys) -> None:
    camera, stream, stream_key = live
    before = len(_acknowledged(camera))
    viewer = DecodingViewer(api, stream, system_keys, media=False)
    await viewer.start()
    try:
        for _ in range(50):
            if viewer.client.channel.readyState == "open" and viewer.messages:
                break
            await asyncio.sleep(0.1)
        # a correctly sealed press, and the old raw format, straight down the data channel
        viewer.client.channel.send(seal_acknowledgement(viewer_sender(stream_key), _now_ms()))
        old = viewer_sender(stream_key)
        viewer.client.channel.send(old.encrypt(json.dumps({"type": "acknowledge", "by": "Mallory"}).encode()))
        await _quiet(camera, before)
        assert viewer.messages, "the viewer still gets the camera's positions"
    finally:
        await viewer.stop()


async def test_a_replayed_acknowledgement_vibrates_once(live, api) -> None:
    camera, stream, stream_key = live
    before = len(_acknowledged(camera))
    sealed = seal_acknowledgement(viewer_sender(stream_key), _now_ms())
    colleague = await invite(api, "replayer@example.test", "Ray Replayer", "operator")
    try:
        assert (await _acknowledge(api, stream["id"], sealed))[0] == 200
        await asyncio.to_thread(camera.wait_for, f"{ACKNOWLEDGED}Ada Admin", 5)
        assert (await _acknowledge(colleague, stream["id"], sealed))[0] == 200  # the server is blind to the seal
        await asyncio.to_thread(camera.wait_for, "already received", 5)
        await _quiet(camera, before + 1)
    finally:
        await colleague.close()


async def test_a_stale_acknowledgement_is_refused_by_the_camera(live, api) -> None:
    camera, stream, stream_key = live
    before = len(_acknowledged(camera))
    sealed = seal_acknowledgement(viewer_sender(stream_key), _now_ms() - 5 * 60_000)
    assert (await _acknowledge(api, stream["id"], sealed))[0] == 200
    await asyncio.to_thread(camera.wait_for, r"acknowledgement is 300 s old", 5)
    await _quiet(camera, before)


async def test_the_name_shown_is_the_signed_in_users_not_the_browsers(live, api) -> None:
    camera, stream, stream_key = live
    await asyncio.sleep(2)  # the admin's bucket refills after the tests above
    spoof = viewer_sender(stream_key)
    sealed = b64url_encode(spoof.encrypt(json.dumps({"type": "acknowledge", "t": _now_ms(), "by": "Chief"}).encode()))
    assert (await _acknowledge(api, stream["id"], sealed))[0] == 200
    line = await asyncio.to_thread(camera.wait_for, f"{ACKNOWLEDGED}Ada Admin", 5)
    assert "Chief" not in line.string


async def test_a_key_it_does_not_hold_opens_nothing(live, api) -> None:
    camera, stream, _stream_key = live
    await asyncio.sleep(2)
    before = len(_acknowledged(camera))
    sealed = seal_acknowledgement(viewer_sender(StreamKey.new()), _now_ms())
    assert (await _acknowledge(api, stream["id"], sealed))[0] == 200
    await asyncio.to_thread(camera.wait_for, "does not open with this stream's key", 5)
    await _quiet(camera, before)


async def test_acknowledgements_are_rate_limited_and_checked(live, api) -> None:
    _camera, stream, stream_key = live
    flood = await invite(api, "flood@example.test", "Flo Flood", "viewer")
    try:
        statuses = [(await _acknowledge(flood, stream["id"], seal_acknowledgement(viewer_sender(stream_key), _now_ms())))[0]
                    for _ in range(5)]
        assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
        async with flood.request("POST", f"/api/streams/{stream['id']}/acknowledge",
                                 json={"sealed": seal_acknowledgement(viewer_sender(stream_key), _now_ms())}) as response:
            assert response.status == 429 and int(response.headers["Retry-After"]) >= 1
            assert "again in" in (await response.json())["error"]
        for bad in ({"sealed": "x" * 300}, {"sealed": "not base64url!!!!!"}, {"sealed": 5}, {}, {"sealed": "A" * 20, "by": "x"}):
            status, answer = await _acknowledge_raw(flood, stream["id"], bad)
            assert status == 400 and answer["error"], bad
    finally:
        await flood.close()


async def _acknowledge_raw(client, stream_id: str, body: dict) -> tuple[int, dict]:
    async with client.request("POST", f"/api/streams/{stream_id}/acknowledge", json=body) as response:
        return response.status, await response.json()


async def test_another_organisation_cannot_acknowledge(live, api) -> None:
    camera, stream, stream_key = live
    before = len(_acknowledged(camera))
    mallory = await invite(api, "mallory@example.test", "Mallory", "viewer")
    try:
        async with mallory.request("POST", "/api/organisations", json={"name": "Mallory's own"}) as response:
            assert response.status == 201  # now signed in to her own organisation, as its admin
        status, answer = await _acknowledge(mallory, stream["id"], seal_acknowledgement(viewer_sender(stream_key), _now_ms()))
        assert status == 404 and "no live stream" in answer["error"]
        await _quiet(camera, before, 1.0)
    finally:
        await mallory.close()
