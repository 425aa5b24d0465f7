"""The live map in real Chromium: markers from positions decrypted in the browser, a
cluster with its count, trails, the lost-GPS indicator with its last update, centring on
a camera, and nothing for a camera whose profile has location off."""
from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, expect

from bwlive_rtc.crypto.system_key import SystemKeyPair
from tests.test_console_browser import Console

TRACKS = Path(__file__).parent / "data"


def test_the_map_shows_cameras_clusters_trails_and_lost_gps(
    server, start_camera, system_keys: SystemKeyPair, browser: Browser
) -> None:
    console = Console(browser, system_keys.link(server.url))
    page = console.page
    try:
        no_location = console.api("POST", "/api/fleet/profiles", {"name": "Streaming, no location", "location": False})
        console.api("POST", "/api/fleet/camera-users", {"name": "Pim Vos", "profile_id": no_location["id"]})
        start_camera("Pim Vos")  # its profile forbids location: the camera sends none, the map shows nothing
        start_camera("Mia Dekker", "--gpx", str(TRACKS / "dam-square.gpx"))
        start_camera("Ivo Bos")  # Ivo and Bo walk the same small circle: one cluster when zoomed out
        start_camera("Bo Peters", "--no-audio")  # no audio: its positions still come (data-only subscription)
        start_camera("Lex Jong", "--gpx", str(TRACKS / "canal-ring.gpx"), "--gps-lost-after", "25")
        ids = {s["camera"]: s["id"] for s in server.get_json("/api/streams")["streams"]}
        page.click("button.nav-view[data-view=map]")
        marker = lambda name: page.locator(f'.cam-marker[data-stream-id="{ids[name]}"]')  # noqa: E731
        for name in ["Mia Dekker", "Lex Jong"]:
            marker(name).wait_for(timeout=30_000)

        lost = page.locator(f'.cam-marker[data-stream-id="{ids["Lex Jong"]}"][data-gps="lost"]')
        lost.wait_for(timeout=45_000)
        assert "no GPS" in lost.inner_text()
        # the map was fitted to the first camera placed: bring Lex into view (the canal ring may be off it)
        page.evaluate("(id) => window.bwlive.map.centreOn(id)", ids["Lex Jong"])
        expect(lost).to_be_in_viewport()
        lost.hover()
        tooltip = page.locator(".leaflet-tooltip", has_text="Lex Jong")
        tooltip.wait_for(timeout=5000)
        assert re.search(r"GPS lost\. Position last updated \S+.*\(\d+ s ago\)", tooltip.inner_text()), tooltip.inner_text()

        page.click(".map-trails")
        assert page.get_attribute(".map-trails", "aria-pressed") == "true"
        trails = page.locator("path.cam-trail")
        trails.first.wait_for(state="attached", timeout=5000)
        assert any("L" in (t.get_attribute("d") or "") for t in trails.all())  # a line through several fixes
        page.click(".map-trails")
        assert page.locator("path.cam-trail").count() == 0

        page.evaluate("window.bwlive.map.map.setZoom(13, {animate: false})")
        cluster = page.locator(".cam-cluster")
        cluster.first.wait_for(timeout=5000)
        # read at once: clusters are redrawn as positions come, a cluster found may be gone a moment later
        counts = [int(text) for text in page.eval_on_selector_all(".cam-cluster", "(cs) => cs.map((c) => c.innerText)")]
        assert max(counts) >= 2, counts

        assert page.evaluate("(id) => window.bwlive.map.entries.has(id)", ids["Pim Vos"]) is False
        assert marker("Pim Vos").count() == 0

        page.click("button.nav-view[data-view=live]")
        page.click(f'.stream-locate[data-stream-id="{ids["Mia Dekker"]}"]')
        page.wait_for_timeout(1500)
        distance = page.evaluate(
            """(id) => { const m = window.bwlive.map;
                         return m.map.distance(m.map.getCenter(), m.entries.get(id).marker.getLatLng()); }""",
            ids["Mia Dekker"],
        )
        assert distance < 50, f"map centred {distance:.0f} m away from Mia"
        assert page.locator("#view-map").is_visible()
    finally:
        console.close()
