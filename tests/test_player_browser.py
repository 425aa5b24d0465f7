"""The recordings player in real Chromium on a longer recording (3 minutes, written by the
recorder's segment writer from real encrypted frames with burned-in numbers): segments
fetched on demand with a bounded cache, a seek into a part not fetched yet shows the
right picture (and never another time's), speed, frame steps, buffered ranges, the time
of day and the markers for acknowledgements and GPS loss (issue 13, defect 4)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page

from bwlive_rtc.crypto.system_key import SystemKeyPair
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Server
from tests.synthetic_recording import SyntheticRecording, organisation_of, write_recording
from tests.test_recordings_browser import picture_code

MAX_SEGMENTS = 12  # web/segment-cache.js
RATE_JS = """async () => {  // the clock's rate over a second of playing without waiting (3 tries)
  for (let tries = 0; tries < 3; tries++) {
    await new Promise((done) => setTimeout(done, 300));
    const player = window.bwlive.player, t0 = performance.now(), p0 = player.position;
    let waited = false;
    while (performance.now() - t0 < 1000) {
      await new Promise((done) => setTimeout(done, 50));
      waited ||= document.querySelector('#player').dataset.state !== 'playing';
    }
    const rate = (player.position - p0) / (performance.now() - t0) * 1000;
    if (!waited) return rate;
  }
  return null;
}"""
WATCH_JS = """() => {
  const player = document.querySelector('#player');
  window.seen = [];
  new MutationObserver(() => window.seen.push({state: player.dataset.state, pictureMs: Number(player.dataset.pictureMs),
                                                 position: Number(player.dataset.position)}))
    .observe(player, {attributes: true, attributeFilter: ['data-state', 'data-picture-ms']});
}"""


@pytest.fixture(scope="module")
def recording(server: Server, system_keys: SystemKeyPair) -> SyntheticRecording:
    return write_recording(server.data_dir, system_keys.public, "Long Lou", 180, organisation_id=organisation_of(server.data_dir),
                           gps_lost=((60, 75),), acknowledged_at=((30, "Ada Admin"), (130, "Ada Admin")))


def play(server: Server, system_keys: SystemKeyPair, browser: Browser, recording: SyntheticRecording) -> Page:
    """A new browser profile with the key, signed in, playing ``recording`` on the recordings page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    response = context.request.post(f"{server.url}/api/session", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.ok, response.text()
    page = context.new_page()
    page.goto(system_keys.link(server.url))  # the key goes into IndexedDB
    page.evaluate("window.bwlive.ready")
    page.goto(f"{server.url}/web/recordings.html")
    page.evaluate("window.bwlive.ready")
    page.click(f'button.recording[data-recording-id="{recording.id}"]')
    page.wait_for_selector('#player[data-state="playing"]', timeout=10_000)
    return page


@pytest.fixture(scope="module")
def page(server: Server, system_keys: SystemKeyPair, browser: Browser, recording: SyntheticRecording) -> Iterator[Page]:
    page = play(server, system_keys, browser, recording)
    yield page
    page.context.close()


def state(page: Page, name: str) -> str:
    return str(page.get_attribute("#player", f"data-{name}"))


def settle(page: Page, expected_state: str = "paused", timeout_ms: int = 10_000) -> None:
    page.wait_for_selector(f'#player[data-state="{expected_state}"]', timeout=timeout_ms)


def shows(page: Page, recording: SyntheticRecording, at_ms: int, timeout_s: float = 5.0) -> None:
    """The picture of ``at_ms`` is on the canvas, with its time."""
    expected, seen = recording.code_at(at_ms), None
    for _ in range(int(timeout_s / 0.1)):
        seen = picture_code(page), int(state(page, "picture-ms"))
        if seen == (expected, recording.ms_of(expected)):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"picture (number, ms) {seen}, expected {(expected, recording.ms_of(expected))} for {at_ms} ms")


def pause(page: Page) -> None:
    if state(page, "state") != "paused":
        page.click("#play-pause")
    settle(page)


def test_a_seek_into_a_part_not_fetched_waits_and_shows_that_times_picture(page: Page, recording: SyntheticRecording) -> None:
    pause(page)
    assert int(state(page, "cached")) <= MAX_SEGMENTS  # not the whole recording (90 segments)
    page.evaluate(WATCH_JS)
    page.locator("#seek").fill("150100")
    settle(page)
    shows(page, recording, 150_100)
    seen = page.evaluate("window.seen")
    loading = [entry for entry in seen if entry["state"] == "loading"]
    assert loading, seen  # it said it was loading ...
    assert all(entry["pictureMs"] == -1 for entry in loading), seen  # ... over no picture of another time
    assert all(entry["pictureMs"] in (-1, recording.ms_of(recording.code_at(150_100))) for entry in seen), seen
    assert page.locator(".picture-loading").is_hidden()

    # The buffered range on the timeline covers the position, and is not the whole recording.
    ranges = [(int(str(span.get_attribute("data-ms"))), int(str(span.get_attribute("data-to-ms"))))
              for span in page.locator(".timeline-buffered").all()]
    assert any(start <= 150_100 <= end for start, end in ranges), ranges
    assert sum(end - start for start, end in ranges) <= MAX_SEGMENTS * 2100, ranges

    # The time of day, from the recording's start: UTC and local.
    at = recording.started_at + timedelta(milliseconds=150_100)
    assert page.inner_text("#time-of-day").startswith(f"{at:%H:%M:%S} UTC (")
    page.screenshot(path="/tmp/bwlive-recordings-player.png")


def test_frame_steps_while_paused_also_across_a_key_frame(page: Page, recording: SyntheticRecording) -> None:
    pause(page)
    page.locator("#seek").fill(str(recording.ms_of(90)))  # frame 90 is a key frame (every 45)
    settle(page)
    shows(page, recording, recording.ms_of(90))
    page.click("#step-forward")
    shows(page, recording, recording.ms_of(91))
    page.click("#step-back")
    shows(page, recording, recording.ms_of(90))
    page.click("#step-back")  # decoded from the key frame before: frame 45
    shows(page, recording, recording.ms_of(89))
    for _ in range(3):  # quick clicks add up, though each decodes again from the key frame
        page.click("#step-back")
    shows(page, recording, recording.ms_of(86))
    assert state(page, "state") == "paused"


def test_speed_half_to_eight_times(page: Page, recording: SyntheticRecording) -> None:
    pause(page)
    page.locator("#seek").fill("20000")
    settle(page)
    for speed in ("8", "0.5", "1"):
        page.select_option("#speed", speed)
        page.click("#play-pause")
        settle(page, "playing")
        rate = page.evaluate(RATE_JS)  # media ms per wall second, measured in the page
        pause(page)
        assert state(page, "speed") == speed
        assert rate is not None, "kept waiting for segments"
        assert 0.85 * float(speed) * 1000 <= rate <= 1.1 * float(speed) * 1000, (speed, rate)
        shows(page, recording, int(state(page, "position")))  # the picture is the clock's
        assert int(state(page, "cached-most")) <= MAX_SEGMENTS


def test_the_cache_stays_bounded_seeking_across_the_recording(page: Page, recording: SyntheticRecording) -> None:
    pause(page)
    for target in (175_000, 3_000, 95_000, 141_500, 47_000, 179_000, 120_000, 9_000):
        page.locator("#seek").fill(str(target))
        settle(page)
        shows(page, recording, target)
        assert int(state(page, "cached")) <= MAX_SEGMENTS
    page.select_option("#speed", "8")
    page.click("#play-pause")
    page.wait_for_timeout(3000)  # 24 s of media at 8x
    pause(page)
    assert int(state(page, "position")) >= 20_000
    assert int(state(page, "cached-most")) <= MAX_SEGMENTS, "more segments held than the bound"
    page.select_option("#speed", "1")


def test_markers_for_acknowledgements_and_gps_loss(page: Page, recording: SyntheticRecording) -> None:
    page.wait_for_selector('#player[data-markers="loaded"]')
    acks = page.locator(".timeline .marker-ack")
    assert [a.get_attribute("data-ms") for a in acks.all()] == ["30000", "130000"]
    assert "Acknowledged by Ada Admin" in str(acks.first.get_attribute("title"))
    lost = page.locator(".timeline .marker-gps-lost")
    assert [(m.get_attribute("data-ms"), m.get_attribute("data-to-ms")) for m in lost.all()] == [("60500", "75500")]
    left = page.evaluate("() => document.querySelectorAll('.timeline .marker-ack')[1].style.left")
    assert abs(float(left.rstrip("%")) - 100 * 130_000 / recording.duration_ms) < 0.2
    pause(page)
    acks.nth(1).click()  # jumps there
    settle(page)
    shows(page, recording, 130_000)
    page.locator(".timeline").screenshot(path="/tmp/bwlive-timeline.png")


# Where the recording's map looks and where its marker is: (centre lat, marker lat, marker in view).
TRAIL_VIEW_JS = """() => {
  const trail = window.bwlive.trailMap;
  const entry = trail && [...trail.entries.values()][0];
  if (!entry) return null;
  const marker = entry.marker.getLatLng();
  return [trail.map.getCenter().lat, marker.lat, trail.map.getBounds().contains(marker)];
}"""


def test_the_recording_map_follows_its_marker(server: Server, system_keys: SystemKeyPair, browser: Browser) -> None:
    """A camera that walks off the map's view (55 m a second, the map 350 m tall): the map pans with it."""
    walker = write_recording(server.data_dir, system_keys.public, "Walking Wim", 24,
                             organisation_id=organisation_of(server.data_dir), walk_deg=0.0005, audio=False)
    page = play(server, system_keys, browser, walker)
    try:
        page.select_option("#speed", "2")
        views = []
        for _ in range(60):
            view = page.evaluate(TRAIL_VIEW_JS)
            if view and (views or view[2]):  # from when the new map first shows the marker
                views.append(view)
            if int(state(page, "position")) >= 18_000:
                break
            page.wait_for_timeout(200)
        assert len(views) >= 10, views
        first_centre, first_marker, _ = views[0]
        last_centre, last_marker, _ = views[-1]
        assert last_marker - first_marker >= 0.005, views  # the camera went ~600 m north during playback ...
        assert last_centre - first_centre >= 0.004, views  # ... and the map went with it,
        assert all(in_view for _, _, in_view in views), views  # never leaving it out of sight
        page.locator("#trail-map").screenshot(path="docs/screenshots/recording-map-follows.png")
    finally:
        page.context.close()
