"""Chromium: the admin edits the fleet (rename, delete with "Are you sure?", a profile or a
camera user in use refused with a sentence, a camera reassigned after confirming, a network's new
password) and reads the camera status table (online and streaming from the live streams,
last docked, credential expiry; the camera's battery and signal opened with the admin's
end-to-end key, or "no key in this browser") (issue 13, "what operators expect")."""
from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, expect

from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.crypto.system_signing import SigningPublicKey
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.test_browser_accounts import sign_in
from tests.test_console_browser import Console


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
    expect(status.locator(".battery")).to_have_text("no key in this browser")  # this browser holds no key
    expect(status.locator(".signal")).to_have_text("—")
    page.locator("#camera-status").screenshot(path="docs/screenshots/admin-camera-status-no-key.png")

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
    expect(card).to_have_attribute("aria-busy", "false")
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
    expect(card.locator(".fleet-user", has_text="Rik Relief")).to_have_count(1)  # the card is redrawn with them
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
    expect(card).to_have_attribute("aria-busy", "false")  # changed, and the card redrawn
    expect(message).to_have_text("")
    network.locator("button.delete").click()
    card.locator(".confirm-step button.confirm-yes").click()
    expect(network).to_have_count(0)

    # Camera users: one with a camera is kept, with the reason; another is renamed, then deleted after asking.
    rik = card.locator(".fleet-user", has_text="Rik Relief")
    rik.locator("button.delete").click()
    card.locator(".confirm-step button.confirm-yes").click()
    expect(message).to_contain_text("camera user Rik Relief still has camera(s) SN-SOL-STATUS")
    card.locator("#user-form input[name=name]").fill("Tess Temp")
    card.locator("#user-form button").click()
    tess = card.locator(".fleet-user", has_text="Tess Temp")
    expect(tess).to_have_count(1)
    tess_id = tess.get_attribute("data-user-id")
    user = card.locator(f'.fleet-user[data-user-id="{tess_id}"]')
    user.locator("button.rename-start").click()
    user.locator("form.rename input[name=name]").fill("Tara Temp")
    user.locator("form.rename button", has_text="Save").click()
    expect(card).to_have_attribute("aria-busy", "false")
    expect(user.locator("td").first).to_contain_text("Tara Temp")
    user.locator("button.delete").click()
    step = card.locator(".confirm-step")
    expect(step).to_contain_text("Are you sure? Delete camera user Tara Temp and their own Wi-Fi networks?")
    step.locator("button.confirm-no").click()
    expect(user).to_have_count(1)
    user.locator("button.delete").click()
    card.locator(".confirm-step button.confirm-yes").click()
    expect(user).to_have_count(0)

    entries = context.request.get(server.url + "/api/organisation/audit?page_size=200").json()["entries"]
    actions = {e["action"] for e in entries}
    assert {"profile renamed", "profile deleted", "camera reassigned", "Wi-Fi network changed",
            "Wi-Fi network deleted", "camera user renamed", "camera user deleted"} <= actions
    context.close()


def test_the_admin_page_opens_the_cameras_battery_with_the_admins_key(
    server, start_camera, system_keys: SystemKeyPair, workdir: Path, browser: Browser
) -> None:
    """The battery and signal are sealed end to end: the admin's browser opens them with the
    key of its link (and checks them against the camera's signatures), the server cannot."""
    start_camera("Bea Battery", "--battery", "64")
    server.wait_for_stream("Bea Battery")
    signing_key = SigningPublicKey.load(workdir / "keys").b64u()
    console = Console(browser, f"{system_keys.link(server.url)}&sig={signing_key}")  # the key, in this browser
    try:
        page = console.page
        page.goto(server.url + "/web/admin.html")
        status = page.locator('#camera-status .camera-status[data-serial="SN-BEA-BATTERY"]')
        expect(status.locator(".battery")).to_have_attribute("data-value", "64", timeout=20_000)
        expect(status.locator(".battery")).to_have_text("64 %")
        signal = int(status.locator(".signal").get_attribute("data-value") or 0)
        assert -70 <= signal <= -50, signal
        expect(status.locator(".signal")).to_have_text(f"{signal} dBm")
        reported = status.locator(".reported")
        expect(reported).to_have_text(re.compile(r"\d{1,2}:\d{2}:\d{2}"))
        first = reported.inner_text()
        expect(reported).not_to_have_text(first, timeout=10_000)  # a new report each second
        fleet = console.context.request.get(server.url + "/api/fleet/status").json()["cameras"]
        assert all("battery" not in camera for camera in fleet)  # the server never has it
        page.locator("#camera-status").screenshot(path="docs/screenshots/admin-camera-status.png")
    finally:
        console.close()
