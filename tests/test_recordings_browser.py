"""Playing a recording back in real Chromium: decrypted with WebCrypto, decoded with
WebCodecs, frames in order, pause, seek, and the position trail."""
from __future__ import annotations

import asyncio
import base64
import io
from concurrent.futures import ThreadPoolExecutor

import av
from playwright.sync_api import Browser, Page

from bwlive_rtc.camera.framecode import read_code
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.viewer.session import ApiClient
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Server
from tests.test_recordings import fetch_recording, played_back


def expected_codes(server: Server, recording_id: str, keys: SystemKeyPair) -> list[tuple[int, int]]:
    """(ms, frame number) of every picture, decoded in Python from the same API."""

    async def fetch() -> list[tuple[int, int]]:
        api = await ApiClient.signed_in(server.url, ADMIN_EMAIL, ADMIN_PASSWORD)
        try:
            recording, frames = await fetch_recording(api, recording_id)
        finally:
            await api.close()
        return played_back(recording, frames, keys).codes

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's event loop
        return pool.submit(asyncio.run, fetch()).result()


def picture_code(page: Page, canvas: str = "#picture") -> int | None:
    """The burned-in frame number on a player's canvas, read by the camera's own reader."""
    return code_of_png(page.locator(canvas).evaluate("canvas => canvas.toDataURL('image/png')"))


def code_of_png(url: str) -> int | None:
    """The burned-in frame number of a PNG data URL."""
    with av.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])), format="png_pipe") as image:
        picture = next(image.decode(video=0))
    code = read_code(picture.to_ndarray(format="gray"))
    return None if code is None else code[0]


def wait_for_code(page: Page, expected: int, timeout_s: float = 5.0) -> None:
    seen = None
    for _ in range(int(timeout_s / 0.1)):
        seen = picture_code(page)
        if seen == expected:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"picture shows frame {seen}, expected {expected}")


def test_recording_plays_back_decrypted_with_pause_and_seek(
    server: Server, start_camera, system_keys: SystemKeyPair, browser: Browser
) -> None:
    camera = start_camera("Replay Rita", "--duration", "6")
    camera.proc.wait(30)
    for _ in range(100):
        listed = server.get_json("/api/recordings?camera=Replay%20Rita")["recordings"]
        recordings = [r for r in listed if r["state"] == "complete"]
        if recordings:
            break
        camera.wait_for("", timeout=0.1)
    recording = recordings[0]
    codes = expected_codes(server, recording["id"], system_keys)

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    response = context.request.post(f"{server.url}/api/session", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.ok, response.text()
    page = context.new_page()
    page.goto(system_keys.link(server.url))  # the live page takes the key into IndexedDB
    page.evaluate("window.bwlive.ready")
    page.click('a[href="/web/recordings.html"]')
    page.wait_for_url("**/web/recordings.html")
    page.evaluate("window.bwlive.ready")
    try:
        assert page.locator("#keys .thumbprint").inner_text() == system_keys.public.thumbprint
        page.click(f'button.recording[data-recording-id="{recording["id"]}"]')
        page.wait_for_selector('#player[data-state="playing"]', timeout=10_000)

        # Playing: the burned-in frame numbers advance, in order.
        seen = []
        for _ in range(14):
            code = picture_code(page)
            if code is not None:
                seen.append(code)
            page.wait_for_timeout(150)
        assert len(seen) >= 8, f"frame code readable in only {len(seen)} samples"
        assert seen == sorted(seen) and seen[-1] - seen[0] >= 20, seen
        assert {number for _, number in codes} >= set(seen)
        assert int(page.get_attribute("#player", "data-audio")) >= 50  # Opus decoded into Web Audio

        # Pause: the picture and the position stand still.
        page.click("#play-pause")
        page.wait_for_selector('#player[data-state="paused"]')
        before = (picture_code(page), page.get_attribute("#player", "data-position"))
        page.wait_for_timeout(700)
        assert (picture_code(page), page.get_attribute("#player", "data-position")) == before

        # Seek (while paused) forward and back: the picture at that time, decoded from a key frame.
        for target in (4500, 700):
            page.locator("#seek").fill(str(target))
            wait_for_code(page, max(number for ms, number in codes if ms <= target))
            assert page.get_attribute("#player", "data-state") == "paused"

        # Play on from there.
        page.click("#play-pause")
        page.wait_for_selector('#player[data-state="playing"]')
        page.wait_for_timeout(1000)
        later = picture_code(page)
        at_700 = max(number for ms, number in codes if ms <= 700)
        assert later is not None and later > at_700 + 10

        assert page.get_attribute("#player", "data-undecryptable") == "0"
        assert "52." in page.inner_text("#position")  # decrypted positions on the trail
        # the trail on the live map's Leaflet view: the camera's marker and a polyline of its positions
        page.wait_for_selector("#trail-map .leaflet-marker-icon")
        trail = page.locator("#trail-map path.cam-trail")
        trail.first.wait_for()
        trail_points = "() => [...window.bwlive.trailMap.entries.values()][0].points.length"
        for _ in range(60):  # positions come once a second; those up to the playback position show
            if page.evaluate(trail_points) >= 3:
                break
            page.wait_for_timeout(100)
        assert page.evaluate(trail_points) >= 3
        page.screenshot(path="/tmp/bwlive-recordings.png")
    finally:
        context.close()
