"""Issue 13 in real Chromium against the real server and camera agents: a wearer's help
request raises an alarm (tile, list, sound, notification) that stays until an operator
acknowledges; a stream's start chimes and notifies when the operator switched that on; a
lost camera shows lost in its group and stays on the map where it was last seen; the Map
button is off for a camera without a position."""
from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from bwlive_rtc.crypto.system_key import SystemKeyPair
from tests.test_console_browser import Console, live_tile

SHOTS = "/tmp/shots"


def alerted(page: Page, kind: str, what: str = "sounds") -> list[dict]:
    return [alert for alert in page.evaluate(f"window.bwlive.alerts.{what}") if alert["kind"] == kind]


def test_help_request_start_alerts_and_a_lost_camera(
    server, start_camera, system_keys: SystemKeyPair, browser: Browser
) -> None:
    console = Console(browser, system_keys.link(server.url))
    console.context.grant_permissions(["notifications"], origin=console.base)
    page = console.page
    group = console.api("POST", "/api/groups", {"name": "Patrol", "members": ["Hana Hulp"]})
    try:
        page.click("#alert-start-sound")  # a click: the browser now lets the page sound
        page.click("#alert-start-notify")
        camera = start_camera("Hana Hulp", "--help-after", "8")
        stream = server.wait_for_stream("Hana Hulp")["id"]
        start_camera("Nico Zonder", "--no-gps", "--no-audio")
        nico = server.wait_for_stream("Nico Zonder")["id"]
        page.wait_for_function("window.bwlive.alerts.sounds.some((s) => s.kind === 'start' && s.camera === 'Hana Hulp')",
                               timeout=10_000)
        assert [n["title"] for n in alerted(page, "start", "notifications")][:1] == ["Hana Hulp started streaming"]

        page.click(f'button.stream[data-stream-id="{stream}"]')
        tile = live_tile(page, stream)
        page.wait_for_selector(f'button.stream[data-stream-id="{stream}"][data-help="requested"]', timeout=20_000)
        page.wait_for_selector(f'.tile[data-stream-id="{stream}"][data-help="requested"][data-help-sealed="true"]',
                               timeout=10_000)  # the camera's own sealed request reached the tile too
        assert tile.locator(".tile-help").inner_text().startswith("Hana Hulp asks for help")
        assert alerted(page, "help") and alerted(page, "help", "notifications")
        page.wait_for_timeout(4500)
        assert len(alerted(page, "help")) >= 2, "the alarm sounds again while nobody answers"
        page.screenshot(path=f"{SHOTS}/console-help-request.png")

        page.wait_for_timeout(700)  # the data channel opens right after the media
        page.keyboard.press("a")  # the tile opened last has the keyboard: A acknowledges it
        page.wait_for_selector(f'.tile[data-stream-id="{stream}"]:not([data-help])', timeout=10_000)
        expect(page.locator(f'button.stream[data-stream-id="{stream}"]')).not_to_have_attribute("data-help", "requested")
        camera.wait_for(r"acknowledged: by Ada Admin", timeout=10)

        locate = page.locator(f'button.stream-locate[data-stream-id="{stream}"]')
        expect(locate).to_be_enabled(timeout=10_000)
        expect(page.locator(f'button.stream-locate[data-stream-id="{nico}"]')).to_be_disabled()

        camera.proc.kill()  # the camera dies: its group dot turns as its tile does
        member = page.locator(f'.group[data-group-id="{group["id"]}"] .group-member[data-member="Hana Hulp"]')
        expect(member).to_have_attribute("data-live", "lost", timeout=5000)
        locate.click()  # the map shows where it was last seen, marked lost
        marker = page.locator(f'.cam-marker[data-stream-id="{stream}"][data-camera="lost"]')
        marker.wait_for(timeout=10_000)
        page.screenshot(path=f"{SHOTS}/console-map-camera-lost.png")
    finally:
        console.close()
