"""Rewinding a live tile in real Chromium (issue 13, "what operators expect"): the tile
plays the stream's running recording from a little before now, up to five minutes back,
with the pictures of those times, while segments keep landing; one click on "Live"
returns to the live picture."""
from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Browser

from bwlive_rtc.crypto.system_key import SystemKeyPair
from tests.processes import Server
from tests.test_browser_live import READ_CODE_JS, open_console, open_tile
from tests.test_recordings_browser import code_of_png, expected_codes


def test_rewind_a_live_tile_and_back_to_live(server: Server, start_camera, system_keys: SystemKeyPair,
                                             browser: Browser) -> None:
    start_camera("Rewind Ray")
    stream = server.wait_for_stream("Rewind Ray")
    context, page = open_console(browser, system_keys.link(server.url))
    try:
        tile = open_tile(page, stream["id"])
        page.wait_for_selector(f'.tile[data-stream-id="{stream["id"]}"][data-state="live"]', timeout=10_000)
        page.wait_for_timeout(20_000)  # 20 s recorded, in two-second segments
        recorded = server.get_json(f"/api/recordings/{stream['id']}")
        assert recorded["state"] == "recording" and recorded["duration_ms"] >= 16_000

        tile.locator(".tile-rewind").click()
        replay = tile.locator(".tile-replay")
        page.wait_for_selector(f'.tile[data-stream-id="{stream["id"]}"] .tile-replay[data-state="playing"]', timeout=10_000)
        assert tile.get_attribute("data-rewind") == "on"
        assert replay.bounding_box() == tile.locator(".tile-media").bounding_box()  # over the live picture

        # From about 15 s before the end of what is recorded, with the pictures of that time.
        page.wait_for_timeout(1500)
        position = int(str(replay.get_attribute("data-position")))
        duration = server.get_json(f"/api/recordings/{stream['id']}")["duration_ms"]
        assert 8_000 <= duration - position <= 20_000, (duration, position)
        recording = lambda: expected_codes(server, stream["id"], system_keys)  # noqa: E731
        shown = _replay_shows(page, recording, replay)
        live_code = tile.locator("video").evaluate(READ_CODE_JS)["frame"]
        assert live_code > shown  # the live picture went on meanwhile

        # The slider goes back to the start (less than 5 minutes recorded), still the right pictures.
        assert int(str(tile.locator(".tile-replay-seek").get_attribute("min"))) == 0
        tile.locator(".tile-replay-seek").fill("1000")
        page.wait_for_timeout(300)
        page.wait_for_selector(f'.tile[data-stream-id="{stream["id"]}"] .tile-replay[data-state="playing"]')
        _replay_shows(page, recording, replay)
        page.screenshot(path="/tmp/bwlive-rewind.png")

        # One click back to live.
        tile.locator(".tile-live").click()
        assert tile.get_attribute("data-rewind") is None
        assert replay.is_hidden()
        assert tile.get_attribute("data-state") == "live"
        page.wait_for_timeout(300)
        now_live = tile.locator("video").evaluate(READ_CODE_JS)["frame"]
        assert now_live >= live_code
    finally:
        context.close()


def _replay_shows(page, recording: Callable[[], list[tuple[int, int]]], replay) -> int:  # type: ignore[no-untyped-def]
    """The replay's picture is the recording's at the picture's time; returns its number.
    ``recording``: (ms, number) of each picture recorded so far, decoded in Python."""
    codes = recording()
    code = with_ms = expected = None
    for _ in range(30):
        # the picture and its time at one instant (the replay plays on between two reads)
        url, with_ms = replay.evaluate("""replay => [replay.querySelector('.tile-replay-picture').toDataURL('image/png'),
                                                     Number(replay.dataset.pictureMs)]""")
        code = code_of_png(url)
        if with_ms > codes[-1][0]:  # played on past what was decoded: the recording grew
            codes = recording()
        if code is not None and with_ms >= 0:
            expected = max(number for ms, number in codes if ms <= with_ms)
            if abs(code - expected) <= 1:  # the picture's time is read in whole ms: one frame of rounding
                return code
        page.wait_for_timeout(100)
    raise AssertionError(f"the replay shows {code} at {with_ms} ms, where the recording has {expected}")
