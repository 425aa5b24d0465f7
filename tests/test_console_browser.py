"""The operator's console in real Chromium against the real server and camera agents:
acknowledge (reaches the camera end to end, shows on a second operator's page), a group
of four playing four decrypted streams smoothly, drag and drop onto groups and the grid."""
from __future__ import annotations

import re

from playwright.sync_api import Browser, BrowserContext, Page, expect

from bwlive_rtc.crypto.system_key import SystemKeyPair
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.test_browser_live import READ_CODE_JS
from tests.test_groups import PASSWORD

FPS_WINDOW_MS = 5000
MIN_FPS = 25

# Decoded frames per second of each tile's <video>, over the same window.
TILE_FPS_JS = """
async (windowMs) => {
  const videos = [...document.querySelectorAll('.tile video')];
  const count = () => videos.map((v) => v.getVideoPlaybackQuality().totalVideoFrames);
  const before = count(), started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const after = count(), seconds = (performance.now() - started) / 1000;
  return videos.map((v, i) => ({
    stream: v.closest('.tile').dataset.streamId, fps: (after[i] - before[i]) / seconds,
  }));
}
"""


class Console:
    """One operator's browser profile, signed in, on the console page."""

    def __init__(self, browser: Browser, link: str, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> None:
        self.base = link.split("/#")[0].rstrip("/")
        self.context: BrowserContext = browser.new_context(viewport={"width": 1440, "height": 900})
        response = self.context.request.post(f"{self.base}/api/session", data={"email": email, "password": password})
        assert response.ok, response.text()
        self.csrf = response.json()["csrf_token"]
        self.page: Page = self.context.new_page()
        self.page.goto(link)
        self.page.evaluate("window.bwlive.ready")

    def api(self, method: str, path: str, body: dict) -> dict:
        response = self.context.request.fetch(
            self.base + path, method=method, data=body, headers={"X-CSRF-Token": self.csrf}
        )
        assert response.ok, response.text()
        return response.json()

    def invite(self, browser: Browser, email: str, name: str, role: str) -> None:
        """Add a member to this (admin's) organisation, who sets their password at once."""
        link = self.api("POST", "/api/organisation/invitations", {"email": email, "role": role})["link"]
        invitee = browser.new_context()
        response = invitee.request.post(
            f"{self.base}/api/invitations/{link.split('#token=')[1]}", data={"name": name, "password": PASSWORD}
        )
        assert response.ok, response.text()
        invitee.close()

    def close(self) -> None:
        self.context.close()


def live_tile(page: Page, stream_id: str):  # type: ignore[no-untyped-def]
    tile = page.locator(f'.tile[data-stream-id="{stream_id}"][data-state="live"]')
    tile.wait_for(timeout=15_000)
    return tile


def test_acknowledge_vibrates_the_camera_and_every_operator_sees_it(
    server, start_camera, system_keys: SystemKeyPair, browser: Browser
) -> None:
    camera = start_camera("Alex Jansen")
    stream = server.wait_for_stream("Alex Jansen")
    admin = Console(browser, system_keys.link(server.url))  # Ada Admin
    admin.invite(browser, "eli@example.test", "Eli Kok", "operator")
    other = Console(browser, system_keys.link(server.url), "eli@example.test", PASSWORD)
    first, second = admin.page, other.page
    try:
        for page in (first, second):
            page.click(f'button.stream[data-stream-id="{stream["id"]}"]')
        tile = live_tile(first, stream["id"])
        live_tile(second, stream["id"])
        first.wait_for_timeout(500)  # the data channel opens right after the media
        tile.locator(".tile-ack").click()

        line = camera.wait_for(r"acknowledged: by Ada Admin \(vibrate\) (\d+) ms after the press", timeout=5)
        assert int(line.group(1)) < 500, line.group(0)

        seen = second.locator(f'.tile[data-stream-id="{stream["id"]}"] .tile-acknowledged')
        seen.wait_for(timeout=5000)
        assert re.fullmatch(r"Acknowledged by Ada Admin at \S+( [AP]M)?", seen.inner_text()), seen.inner_text()
        listed = second.locator(f'button.stream[data-stream-id="{stream["id"]}"] .stream-ack')
        assert "Ada Admin" in listed.inner_text()
        assert first.locator(f'.tile[data-stream-id="{stream["id"]}"]').get_attribute("data-acknowledged") == "true"
    finally:
        admin.close()
        other.close()


def test_a_group_of_four_plays_four_decrypted_streams_smoothly(
    server, start_camera, system_keys: SystemKeyPair, browser: Browser
) -> None:
    names = ["Alex Jansen", "Sam de Vries", "Robin Bakker", "Kim Visser"]
    for name in names[1:]:
        start_camera(name)
    streams = {name: server.wait_for_stream(name)["id"] for name in names}
    console = Console(browser, system_keys.link(server.url))
    page = console.page
    group = console.api("POST", "/api/groups", {"name": "North team", "members": names})
    try:
        page.click(f'.group[data-group-id="{group["id"]}"] .group-name')
        tiles = {name: live_tile(page, stream_id) for name, stream_id in streams.items()}
        assert page.locator(".tile").count() == 4
        assert "North team: 4 of 4 streaming" in page.inner_text("#grid-title")
        for name, tile in tiles.items():
            assert tile.locator(".tile-camera").inner_text() == name
            code = None
            for _ in range(25):
                code = tile.locator("video").evaluate(READ_CODE_JS)
                if code:
                    break
                page.wait_for_timeout(200)
            assert code is not None, f"{name}: no decrypted picture"
        page.wait_for_timeout(2000)  # past the start-up, as an operator watches
        windows = []
        for _ in range(6):  # the machine is shared: a window spoilt by someone else's load is retried
            rates = page.evaluate(TILE_FPS_JS, FPS_WINDOW_MS)
            windows.append([round(rate["fps"], 1) for rate in rates])
            if len(rates) == 4 and min(rate["fps"] for rate in rates) >= MIN_FPS:
                break
        else:
            raise AssertionError(f"a tile below {MIN_FPS} fps in every window: {windows}")

        tiles["Alex Jansen"].locator(".tile-mute").click()
        tiles["Sam de Vries"].locator(".tile-mute").click()  # one tile's audio at a time
        audible = [name for name, tile in tiles.items() if not tile.locator("video").evaluate("(v) => v.muted")]
        assert audible == ["Sam de Vries"]
    finally:
        console.close()


def test_drag_and_drop_makes_groups_and_fills_the_grid(
    server, start_camera, system_keys: SystemKeyPair, browser: Browser
) -> None:
    start_camera("Noor Smit")
    noor = server.wait_for_stream("Noor Smit")["id"]
    console = Console(browser, system_keys.link(server.url))
    page = console.page
    full = console.api("POST", "/api/groups", {"name": "Full", "members": ["A", "B", "C", "D"]})
    try:
        stream_button = f'button.stream[data-stream-id="{noor}"]'
        page.wait_for_selector(stream_button)
        before = {g.get_attribute("data-group-id") for g in page.locator(".group").all()}
        page.drag_and_drop(stream_button, "#new-group")
        made = page.locator('.group:has(.group-member[data-member="Noor Smit"])')
        made.wait_for(timeout=5000)
        assert made.get_attribute("data-group-id") not in before
        assert re.fullmatch(r"Group \d+", made.locator(".group-name").inner_text())

        page.drag_and_drop(stream_button, f'.group[data-group-id="{full["id"]}"]')
        message = page.locator("#groups-message")
        message.wait_for(timeout=5000)
        assert "already has 4 camera users" in message.inner_text()
        assert page.locator(f'.group[data-group-id="{full["id"]}"] .group-member').count() == 4

        page.drag_and_drop(stream_button, "#tiles")
        live_tile(page, noor)

        page.mouse.move(0, 0)  # Rename and Delete are there without hovering (issue 13, polish)
        expect(made.locator(".group-rename")).to_be_visible()
        expect(made.locator(".group-delete")).to_be_visible()
        made.locator(".group-rename").click()
        made.locator(".group-name-input").fill("Harbour watch")
        made.locator(".group-name-input").press("Enter")
        renamed = page.locator('.group:has(.group-name:text-is("Harbour watch"))')
        renamed.wait_for(timeout=5000)
        renamed.locator(".group-delete").click()
        renamed.locator(".group-delete").click()  # the second click confirms
        renamed.wait_for(state="detached", timeout=5000)
    finally:
        console.close()
