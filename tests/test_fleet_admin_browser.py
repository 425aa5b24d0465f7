"""Chromium: the admin edits the fleet (rename, delete with "Are you sure?", a profile in
use refused with a sentence, a camera reassigned after confirming, a network's new
password) and reads the camera status table (online and streaming from the live streams,
last docked, credential expiry, battery "—") (issue 13, "what operators expect")."""
from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.test_browser_accounts import sign_in


def test_admin_edits_the_fleet_and_reads_camera_status(server, start_camera, browser: Browser) -> None:
    start_camera("Sol Status")
    server.wait_for_stream("Sol Status")
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    sign_in(page, server.url + "/web/admin.html", ADMIN_EMAIL, ADMIN_PASSWORD, organisation="Test organisation")
    page.wait_for_url("**/web/admin.html")

    status = page.locator('#camera-status .camera-status[data-serial="SN-SOL-STATUS"]')
    expect(status.locator(".online")).to_have_text("online")
    expect(status.locator(".streaming")).to_have_text("streaming", timeout=10_000)
    expect(status.locator(".expires")).not_to_have_text("—")
    expect(status.locator(".battery")).to_have_text("—")
    page.locator("#camera-status").screenshot(path="docs/screenshots/admin-camera-status.png")

    card = page.locator("#fleet")
    message = card.locator("#fleet-message")
    streaming = card.locator(".fleet-profile", has_text="Streaming")
    streaming.locator("button.delete").click()
    card.locator(".confirm-step button.confirm-yes").click()
    expect(message).to_have_text(
        "profile Streaming is in use by 1 camera user(s) (Sol Status): give them another profile first")

    card.locator("#profile-form input[name=name]").fill("Spare profile")
    card.locator("#profile-form button").click()
    named = card.locator(".fleet-profile", has_text="Spare profile")
    named.wait_for()
    spare = card.locator(f'.fleet-profile[data-profile-id="{named.get_attribute("data-profile-id")}"]')
    spare.locator("button.rename-start").click()
    spare.locator("form.rename input[name=name]").fill("Reserve")
    spare.locator("form.rename button", has_text="Save").click()
    reserve = card.locator(".fleet-profile", has_text="Reserve")
    reserve.wait_for()
    reserve.locator("button.delete").click()
    step = card.locator(".confirm-step")
    expect(step).to_contain_text("Are you sure? Delete profile Reserve and its Wi-Fi networks?")
    step.locator("button.confirm-no").click()  # cancelled: nothing happens
    expect(card.locator(".confirm-step")).to_have_count(0)
    expect(reserve).to_have_count(1)
    reserve.locator("button.delete").click()
    card.locator(".confirm-step button.confirm-yes").click()
    expect(reserve).to_have_count(0)
    expect(message).to_have_text("")

    card.locator("#user-form input[name=name]").fill("Rik Relief")
    card.locator("#user-form select").select_option(label="Streaming")
    card.locator("#user-form button").click()
    camera = card.locator('.fleet-camera[data-serial="SN-SOL-STATUS"]')
    camera.locator("button.reassign").click()
    reassign = card.locator(".confirm-step")
    reassign.locator("select.user-of-camera").select_option(label="Rik Relief")
    expect(reassign).to_contain_text("Give camera SN-SOL-STATUS (now Sol Status) to")
    page.screenshot(path="docs/screenshots/admin-fleet-reassign.png", full_page=True)
    reassign.locator("button.confirm-yes").click()
    expect(camera.locator("td").nth(2)).to_have_text("Rik Relief")
    expect(status.locator("td").nth(1)).to_have_text("Rik Relief")

    card.locator("#network-form input[name=ssid]").fill("Van-WLAN")
    card.locator("#network-form input[name=password]").fill("old van pw")
    card.locator("#network-form button").click()
    network = card.locator(".fleet-network", has_text="Van-WLAN")
    network.locator("form.network-password input").fill("new van pw")
    network.locator("form.network-password button").click()
    expect(message).to_have_text("")
    network.locator("button.delete").click()
    card.locator(".confirm-step button.confirm-yes").click()
    expect(network).to_have_count(0)

    entries = context.request.get(server.url + "/api/organisation/audit?page_size=200").json()["entries"]
    actions = {e["action"] for e in entries}
    assert {"profile renamed", "profile deleted", "camera reassigned", "Wi-Fi network changed",
            "Wi-Fi network deleted"} <= actions
    context.close()
