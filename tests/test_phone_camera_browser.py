"""Issue 14 part 5 in real Chromium: a phone (Chromium's fake camera and microphone, a
fake geolocation) pairs with the code the admin page shows, is docked by the system's
`bwlive camera dock-phones`, streams with one button (Chromium's own VP8 encoder, frames
sealed on the sender in an RTCRtpScriptTransform), appears in the console within 1 s, is
decrypted and verified there (✓ serial), shows on the map at its position, and shows
and vibrates on an operator's acknowledgement."""
from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.crypto.system_signing import SigningPublicKey
from tests.chromium import launch
from tests.processes import Server
from tests.test_console_browser import Console

PHONE_USER = "Nora Phone"
WHERE = {"latitude": 52.3731, "longitude": 4.8926}  # Dam square, Amsterdam
# counts the vibrations the page asks for, and passes each call on to Chromium's own
SPY_VIBRATE = """(() => { const real = navigator.vibrate.bind(navigator); window.vibrationCalls = 0;
  navigator.vibrate = (pattern) => { window.vibrationCalls += 1; return real(pattern); }; })()"""


@pytest.fixture(scope="module")
def phone_browser() -> Iterator[Browser]:
    """Chromium with a fake camera and microphone (a test pattern and a beep)."""
    with sync_playwright() as playwright:
        chromium = launch(playwright, flags=("--use-fake-device-for-media-stream",))
        yield chromium
        chromium.close()


def phone_context(browser: Browser) -> BrowserContext:
    context = browser.new_context(geolocation=WHERE, permissions=["geolocation", "camera", "microphone"],
                                  viewport={"width": 400, "height": 800})
    context.add_init_script(SPY_VIBRATE)
    return context


def wait_state(page: Page, state: str, timeout_ms: float = 15_000) -> None:
    page.locator(f'body[data-state="{state}"]').wait_for(state="attached", timeout=timeout_ms)


def test_a_phone_pairs_streams_is_verified_on_the_map_and_vibrates(
        server: Server, system_keys: SystemKeyPair, phone_browser: Browser) -> None:
    keys_dir = server.data_dir.parent / "keys"
    signing = SigningPublicKey.load(keys_dir).b64u()
    console = Console(phone_browser, f"{system_keys.link(server.url)}&sig={signing}")
    phone = phone_context(phone_browser)
    try:
        profile = console.api("POST", "/api/fleet/profiles", {"name": "Phones"})
        console.api("POST", "/api/fleet/camera-users", {"name": PHONE_USER, "profile_id": profile["id"]})
        admin = console.context.new_page()
        admin.goto(server.url + "/web/admin.html")
        admin.locator(".fleet-user", has_text=PHONE_USER).locator("button.pair-phone").click()
        link = admin.locator("a.pairing-link").get_attribute("href")
        assert link and "/web/camera.html#pair=" in link
        assert (admin.locator("img.pairing-qr").get_attribute("src") or "").startswith("data:image/svg+xml")

        page = phone.new_page()
        page.goto(link)
        assert "#pair=" not in page.url  # the code left the address bar
        assert page.evaluate("navigator.serviceWorker.ready.then((r) => r.active !== null)")
        page.click("#pair-form button[type=submit]")
        wait_state(page, "waiting")
        assert "waits for its system to dock it" in page.locator("#status").inner_text()
        docked = subprocess.run([sys.executable, "-m", "bwlive_rtc", "camera", "dock-phones", "--data-dir",
                                 str(server.data_dir), "--keys-dir", str(keys_dir)], capture_output=True, text=True)
        assert docked.returncode == 0, docked.stderr
        wait_state(page, "ready")
        serial = page.evaluate("window.bwlive.serial")
        assert serial.startswith("PHONE-") and f"{serial} docked for {PHONE_USER}" in docked.stdout

        page.click("#go")
        wait_state(page, "live", 30_000)
        live_at = time.monotonic()
        listed = console.page.locator("button.stream", has_text=PHONE_USER)
        listed.wait_for(timeout=5000)
        appeared = time.monotonic() - live_at
        print(f"phone in the console {appeared * 1000:.0f} ms after its publish was answered")
        assert appeared < 1.0
        answer = page.evaluate("window.bwlive.answer")
        assert re.search(r"a=rtpmap:(\d+) rtx/90000\r\na=fmtp:\1 apt=(\d+)", answer)  # Chromium's RTX, accepted
        assert "H264" not in answer and "transport-cc" not in answer  # VP8 only; aiortc has no transport-wide feedback

        stream_id = listed.get_attribute("data-stream-id")
        listed.click()
        tile = console.page.locator(f'.tile[data-stream-id="{stream_id}"][data-state="live"][data-verified="yes"]')
        tile.wait_for(timeout=20_000)
        assert tile.locator(".tile-verified").inner_text() == f"✓ {serial}"
        video = tile.locator("video")
        decoded = "(v) => v.getVideoPlaybackQuality().totalVideoFrames"
        before = video.evaluate(decoded)
        console.page.wait_for_timeout(2000)
        assert video.evaluate(decoded) - before > 20  # decrypted frames keep being decoded
        assert video.evaluate("(v) => v.videoWidth") == 640
        assert tile.get_attribute("data-verified") == "yes"  # every unit in a signed checkpoint
        assert "52.37" in tile.locator(".tile-position").inner_text()

        console.page.wait_for_timeout(500)  # the data channel opens right after the media
        tile.locator(".tile-ack").click()
        banner = page.locator("#ack-banner")
        banner.wait_for(timeout=5000)
        assert banner.inner_text() == "Acknowledged by Ada Admin"
        assert page.evaluate("window.vibrationCalls") == 1

        console.page.click("button.nav-view[data-view=map]")
        marker = console.page.locator(f'.cam-marker[data-stream-id="{stream_id}"]')
        marker.wait_for(timeout=15_000)
        distance = console.page.evaluate(
            """([id, lat, lon]) => window.bwlive.map.map.distance([lat, lon],
                   window.bwlive.map.entries.get(id).marker.getLatLng())""",
            [stream_id, WHERE["latitude"], WHERE["longitude"]])
        assert distance < 1.0

        page.click("#go")
        wait_state(page, "ready")
        listed.wait_for(state="detached", timeout=10_000)
    finally:
        phone.close()
        console.close()
