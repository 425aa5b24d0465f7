"""Issue 13's tile features in real Chromium against the real server and camera agents:
the stats overlay (latency glass to glass, bitrate, loss, recording, the camera's battery
and signal), the Live label off the picture, layouts remembered, keyboard shortcuts with
their help, fullscreen per tile, and the stream list's search."""
from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from bwlive_rtc.crypto.system_key import SystemKeyPair
from tests.test_browser_live import READ_CODE_JS
from tests.test_console_browser import Console, live_tile

NAMES = ["Sam de Vries", "Robin Bakker", "Kim Visser", "Alex Jansen"]
SHOTS = "/tmp/shots"


def stat(page: Page, stream: str, name: str) -> str | None:
    return page.locator(f'.tile[data-stream-id="{stream}"] [data-stat="{name}"]').get_attribute("data-value")


# The overlay's latency beside the age of the picture shown (its burned-in capture time
# against the page's clock), read at one moment.
LATENCY_PAIR_JS = f"""
(video) => {{
  const now = Date.now();
  const code = ({READ_CODE_JS})(video);
  const shown = Number(video.closest('.tile').querySelector('[data-stat=latency]').dataset.value);
  return code && [shown, ((now % 2 ** 32) - code.captureMs + 2 ** 32) % 2 ** 32];
}}
"""


def latency_pairs(page: Page, stream: str, count: int = 5) -> list[tuple[int, int]]:
    """Pairs of (the overlay's latency, the reference) of a tile."""
    video = page.locator(f'.tile[data-stream-id="{stream}"] video')
    pairs = []
    for _ in range(count * 5):
        pair = video.evaluate(LATENCY_PAIR_JS)
        if pair:
            pairs.append(tuple(pair))
            if len(pairs) == count:
                break
        page.wait_for_timeout(700)
    assert len(pairs) == count, "no decrypted picture"
    return pairs


def test_four_tiles_with_stats_layouts_keys_fullscreen_and_search(
    server, start_camera, system_keys: SystemKeyPair, browser: Browser
) -> None:
    start_camera(NAMES[0], "--battery", "87")
    for name in NAMES[1:]:
        start_camera(name)
    streams = {name: server.wait_for_stream(name)["id"] for name in NAMES}
    console = Console(browser, system_keys.link(server.url))
    page = console.page
    try:
        for name in NAMES:
            page.click(f'button.stream[data-stream-id="{streams[name]}"]')
        for stream in streams.values():
            live_tile(page, stream)
        assert not page.locator('.tile[data-state="live"] .tile-message').first.is_visible()  # nothing over the picture
        for stream in streams.values():
            toggle = page.locator(f'.tile[data-stream-id="{stream}"] .tile-stats-toggle')
            toggle.click()
            expect(toggle).to_have_attribute("aria-pressed", "true")
        sam = streams["Sam de Vries"]
        wanted = [(sam, name) for name in ("latency", "bitrate", "loss", "recording", "battery", "signal")]
        wanted += [(stream, "bitrate") for stream in streams.values()]
        missing: list[tuple[str, str]] = []
        for _ in range(120):  # the stats come within a few seconds (more on a loaded machine)
            missing = [(stream, name) for stream, name in wanted if stat(page, stream, name) is None]
            if not missing:
                break
            page.wait_for_timeout(500)
        assert not missing, missing
        assert stat(page, sam, "battery") == "87"
        assert -70 <= int(stat(page, sam, "signal") or 0) <= -50
        assert stat(page, sam, "recording") == "on"
        assert int(stat(page, sam, "bitrate") or 0) > 0  # a still test pattern needs little
        assert 0 <= float(stat(page, sam, "loss") or -1) <= 5
        page.screenshot(path=f"{SHOTS}/console-tile-stats.png")
        pairs = latency_pairs(page, sam)  # the same measure, two ways
        assert all(latency > 0 for latency, _ in pairs), pairs
        # The overlay shows a figure of the last half second, the reference is of this
        # moment: on a shared, loaded machine latency swings, so most pairs must agree.
        agree = [abs(latency - reference) < max(300, reference * 0.35) for latency, reference in pairs]
        assert sum(agree) >= 3, pairs

        page.keyboard.press("2")  # the second tile takes the keyboard's focus
        second = page.locator(".tile").nth(1)
        expect(second).to_have_attribute("data-focused", "true")
        page.keyboard.press("f")
        page.wait_for_function("document.fullscreenElement?.matches('.tile[data-focused=true]')", timeout=5000)
        page.keyboard.press("f")
        page.wait_for_function("document.fullscreenElement === null", timeout=5000)
        page.keyboard.press("?")
        expect(page.locator("#keys-help")).to_be_visible()
        page.screenshot(path=f"{SHOTS}/console-keys-help.png")
        page.keyboard.press("Escape")
        expect(page.locator("#keys-help")).to_be_hidden()

        page.fill("#stream-search", "rob")
        expect(page.locator("button.stream")).to_have_count(1)
        assert page.locator("button.stream .stream-camera").inner_text() == "Robin Bakker"
        page.fill("#stream-search", "")
        expect(page.locator("button.stream")).to_have_count(4)

        page.click('.layout-choice[data-size="3"]')
        expect(page.locator("#tiles")).to_have_attribute("data-layout", "3")
        page.reload()
        page.evaluate("window.bwlive.ready")
        expect(page.locator("#tiles")).to_have_attribute("data-layout", "3")  # remembered
        for name in NAMES[:2]:
            page.click(f'button.stream[data-stream-id="{streams[name]}"]')
        live_tile(page, streams[NAMES[1]])
        page.click('.layout-choice[data-size="1"]')  # the focused (last opened) tile stays
        expect(page.locator(".tile")).to_have_count(1)
        assert page.locator(".tile").get_attribute("data-stream-id") == streams[NAMES[1]]
        page.click('.layout-choice[data-size="2"]')
    finally:
        console.close()
