"""Issue 13, defect 12, in real Chromium: a viewer is not shown the controls that change
groups (new group, rename, delete, remove a member) and cannot drop a camera user onto a
group; an operator is shown all of them; both can watch and acknowledge."""
from __future__ import annotations

from playwright.sync_api import Browser, expect

from bwlive_rtc.crypto.system_key import SystemKeyPair
from tests.test_console_browser import Console, live_tile
from tests.test_groups import PASSWORD

OPERATOR_ONLY = ("#new-group", ".group-rename", ".group-delete", ".group-member-remove")


def test_each_role_sees_the_controls_it_may_use(server, start_camera, system_keys: SystemKeyPair, browser: Browser) -> None:
    start_camera("Vera Rol")
    stream = server.wait_for_stream("Vera Rol")["id"]
    admin = Console(browser, system_keys.link(server.url))
    admin.api("POST", "/api/groups", {"name": "Roles", "members": ["Vera Rol"]})
    admin.invite(browser, "vivian@example.test", "Vivian Viewer", "viewer")
    admin.invite(browser, "otto@example.test", "Otto Operator", "operator")
    viewer = Console(browser, system_keys.link(server.url), "vivian@example.test", PASSWORD)
    operator = Console(browser, system_keys.link(server.url), "otto@example.test", PASSWORD)
    try:
        for console, shown in ((viewer, False), (operator, True)):
            page = console.page
            page.wait_for_selector(".group-name")
            for selector in OPERATOR_ONLY:
                locator = page.locator(selector).first
                expect(locator).to_be_visible() if shown else expect(locator).to_be_hidden()
            page.click(f'button.stream[data-stream-id="{stream}"]')
            live_tile(page, stream)
            expect(page.locator(f'.tile[data-stream-id="{stream}"] .tile-ack')).to_be_visible()
            if not shown:  # a viewer's console, once the picture plays
                page.wait_for_function("() => document.querySelector('.tile video')?.currentTime > 0.5", timeout=15_000)
                page.screenshot(path="docs/screenshots/console-viewer.png")
        dropped = viewer.page.evaluate("""() => {
            const data = new DataTransfer();
            data.setData('application/x-bwlive-camera', 'Vera Rol');
            const event = new DragEvent('dragover', { dataTransfer: data, cancelable: true });
            document.querySelector('.group').dispatchEvent(event);
            return event.defaultPrevented;
        }""")
        assert dropped is False  # the viewer's group is no drop target
    finally:
        for console in (viewer, operator, admin):
            console.close()
