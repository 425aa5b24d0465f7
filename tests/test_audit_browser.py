"""Chromium: the map's position-only subscriptions are not logged as views, opening a tile
is (once, by name); the audit log has its own page with server-side filters, paging and a
CSV export; the admin page is no longer the audit log's length (issue 13, defect 10)."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from playwright.sync_api import Browser, expect

from bwlive_rtc.crypto.system_key import SystemKeyPair
from tests.test_console_browser import Console, live_tile

TRACKS = Path(__file__).parent / "data"


def viewed(console: Console, camera: str) -> list[dict]:
    entries = console.api("GET", f"/api/organisation/audit?action=stream%20viewed&camera={camera.replace(' ', '%20')}",
                          None)["entries"]
    return entries


def test_map_is_not_a_view_and_the_audit_page_filters_pages_and_exports(
        server, start_camera, system_keys: SystemKeyPair, browser: Browser) -> None:
    console = Console(browser, system_keys.link(server.url))
    page = console.page
    try:
        start_camera("Gus Gps", "--gpx", str(TRACKS / "dam-square.gpx"))
        stream = server.wait_for_stream("Gus Gps")
        page.click("button.nav-view[data-view=map]")
        page.locator(f'.cam-marker[data-stream-id="{stream["id"]}"]').wait_for(timeout=30_000)
        page.wait_for_timeout(1000)
        assert viewed(console, "Gus Gps") == []  # positions came over a data-only subscription
        page.click("button.nav-view[data-view=live]")
        page.click(f'button.stream[data-stream-id="{stream["id"]}"]')
        live_tile(page, stream["id"])
        entries = viewed(console, "Gus Gps")
        assert len(entries) == 1
        assert (entries[0]["user_name"], entries[0]["user_email"]) == ("Ada Admin", "admin@example.test")

        page.goto(server.url + "/web/admin.html")
        page.locator("#fleet").wait_for()
        assert page.locator("#audit").count() == 0  # the audit log is not on the admin page
        height = page.evaluate("document.documentElement.scrollHeight")
        for number in range(55):  # more than a page
            console.api("POST", "/api/fleet/profiles", {"name": f"Shift {number}"})
        page.click("#audit-link")
        page.wait_for_url("**/web/audit.html")
        rows = page.locator("#audit tr")
        expect(rows).to_have_count(50)
        position = page.locator("#audit-position")
        expect(position).to_contain_text("Page 1 of ")
        assert page.locator("#audit-newer").is_disabled()
        page.click("#audit-older")
        expect(position).to_contain_text("Page 2 of ")
        page.screenshot(path="docs/screenshots/audit-log.png", full_page=True)

        page.select_option("#audit-filter select[name=person]", label="Ada Admin <admin@example.test>")
        page.fill("#audit-filter input[name=camera]", "Gus Gps")
        page.click("#audit-filter button[type=submit]")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("Ada Admin <admin@example.test>")
        expect(rows.first).to_contain_text("stream viewed")
        expect(position).to_have_text("Page 1 of 1 (1 entries)")

        page.fill("#audit-filter input[name=camera]", "")
        page.select_option("#audit-filter select[name=action]", "profile added")
        page.fill("#audit-filter input[name=since]", "2000-01-01T00:00")
        page.fill("#audit-filter input[name=until]", "2000-01-02T00:00")
        page.click("#audit-filter button[type=submit]")
        expect(position).to_have_text("Page 1 of 1 (0 entries)")
        page.fill("#audit-filter input[name=until]", "")
        page.click("#audit-filter button[type=submit]")
        expect(position).to_have_text("Page 1 of 2 (55 entries)")
        with page.expect_download() as download:
            page.click("#audit-export")
        text = Path(download.value.path()).read_text()
        exported = list(csv.reader(io.StringIO(text)))
        assert exported[0] == ["time", "person", "e-mail", "action", "details"]
        assert len(exported) == 56 and {r[3] for r in exported[1:]} == {"profile added"}
        assert height < 3500, height  # its cards only (the audit log made it 5,000 px); ~3,050 with console origins
    finally:
        console.close()
