"""A system key replaced on the admin page, in real Chromium against the real server and
the real dock command: the docked camera's key change waits under Cameras with both
thumbprints, the dock is refused until an admin confirms it there, then takes the new key."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, expect

from bwlive_rtc.crypto.system_key import SystemKeyPair
from tests.processes import Server
from tests.test_browser_keys import signed_in

SERIAL = "SN-KIM-1"


def dock(server: Server, out: Path) -> subprocess.CompletedProcess[str]:
    """``bwlive camera dock`` at the system, as the camera docks."""
    return subprocess.run([sys.executable, "-m", "bwlive_rtc", "camera", "dock", "--data-dir", str(server.data_dir),
                           "--keys-dir", str(server.data_dir.parent / "keys"), "--serial", SERIAL, "--out", str(out)],
                          capture_output=True, text=True, timeout=60)


def new_key_on_the_page(page: Page) -> str:
    """Generate a key pair in the end-to-end key card; the server's new thumbprint."""
    page.locator("#e2e-form button[type=submit]").click()
    expect(page.locator("#e2e-message.ok")).to_have_text("The system now encrypts new streams to this key.",
                                                         timeout=15_000)
    return page.locator("#e2e-new-thumbprint").inner_text()


def key_change(page: Page) -> Locator:
    return page.locator(f'#key-changes .key-change[data-serial="{SERIAL}"]')


def confirm_step(page: Page) -> Locator:
    return page.locator(f'#key-changes .confirm-step[data-serial="{SERIAL}"]')


def confirm(page: Page) -> None:
    """Confirm…, check the question names both keys, then Yes."""
    row = key_change(page)
    row.locator("button.confirm-key").click()
    old, new = row.locator(".old-thumbprint").inner_text(), row.locator(".new-thumbprint").inner_text()
    expect(confirm_step(page).locator("p")).to_have_text(
        f"Are you sure? Camera {SERIAL} of system local system will encrypt to the new key: {old} → {new}")
    confirm_step(page).locator("button.confirm-yes").click()


def test_a_key_replaced_on_the_admin_page_reaches_the_camera_once_confirmed_there(
        server: Server, workdir: Path, system_keys: SystemKeyPair, browser: Browser) -> None:
    old = system_keys.public.thumbprint
    context, page = signed_in(browser, server.url)
    try:
        page.goto(server.url + "/web/admin.html")
        fleet = page.locator("#fleet")
        fleet.locator("#profile-form input[name=name]").fill("Patrol")
        fleet.locator("#profile-form button").click()
        expect(fleet.locator(".fleet-profile")).to_have_count(1)
        fleet.locator("#user-form input[name=name]").fill("Kim Keychange")
        fleet.locator("#user-form button").click()
        expect(fleet.locator("#camera-form .user-choice option")).to_have_text(["Kim Keychange"])
        camera_form = fleet.locator("#camera-form")
        camera_form.locator("input[name=serial]").fill(SERIAL)
        expect(camera_form.locator("select[name=system_id] option")).to_have_text(["local system"])
        camera_form.locator("select[name=system_id]").select_option(label="local system")
        camera_form.locator("button").click()
        expect(fleet.locator(f'.fleet-camera[data-serial="{SERIAL}"] td')).to_have_text(
            [SERIAL, "", "Kim Keychange", "local system", "never", "Revoke Reassign…"])

        first = dock(server, workdir / "dock-first.json")
        assert first.returncode == 0 and f"key thumbprint {old}" in first.stdout, first.stderr
        expect(page.locator("#key-changes-none")).to_have_text("No key changes waiting.")
        assert page.locator("#key-changes").is_hidden()

        # The admin replaces the system key: the card shows both thumbprints and what
        # cameras need; the camera's change waits under Cameras, and its dock is refused.
        new = new_key_on_the_page(page)
        expect(page.locator("#e2e-previous-thumbprint")).to_have_text(old)
        expect(page.locator("#e2e-changed-thumbprint")).to_have_text(new)
        expect(page.locator("#e2e-change")).to_contain_text(
            "The system's cameras take the new key only after an admin confirms it under Cameras")
        row = key_change(page)
        expect(row.locator("td")).to_have_text([SERIAL, "Kim Keychange", "local system", old, new, "Confirm…"])
        assert page.locator("#key-changes-none").is_hidden()
        refused = dock(server, workdir / "dock-refused.json")
        assert refused.returncode == 1 and f"from {old} to {new}: an admin must confirm" in refused.stderr
        assert not (workdir / "dock-refused.json").exists()
        fleet.screenshot(path="/tmp/bwlive-admin-key-change.png")

        # Cancel goes back; another admin replaces the key meanwhile, so confirming what
        # this page shows is refused with the server's sentence, and the list refreshes.
        row.locator("button.confirm-key").click()
        confirm_step(page).locator("button.confirm-no").click()
        expect(confirm_step(page)).to_have_count(0)
        expect(row.locator("button.confirm-key")).to_be_enabled()
        csrf = context.request.get(server.url + "/api/session").json()["csrf_token"]
        other = SystemKeyPair.generate().public
        system = server.get_json("/api/organisation/systems")["systems"][0]["id"]
        put = context.request.put(f"{server.url}/api/organisation/systems/{system}/public-key",
                                  data={"public_key": other.pem().decode()}, headers={"X-CSRF-Token": csrf})
        assert put.ok, put.text()
        confirm(page)
        expect(page.locator("#key-change-message")).to_have_text(
            f"the new key of system local system is {other.thumbprint}, not {new}: compare the thumbprints again")
        expect(row.locator(".new-thumbprint")).to_have_text(other.thumbprint)

        # Not the key this admin made: they make another and confirm that one.
        newest = new_key_on_the_page(page)
        expect(row.locator(".new-thumbprint")).to_have_text(newest)
        expect(row.locator(".old-thumbprint")).to_have_text(old)
        confirm(page)
        expect(row.locator(".confirmed")).to_have_text("Confirmed: taken at its next dock")
        expect(page.locator("#key-change-message")).to_have_text("")
        assert server.get_json("/api/organisation/audit")["entries"][0]["action"] == "camera key change confirmed"

        docked = dock(server, workdir / "dock-new.json")
        assert docked.returncode == 0 and f"key thumbprint {newest}" in docked.stdout, docked.stderr
        page.reload()
        expect(page.locator("#key-changes-none")).to_be_visible()
        assert page.locator("#key-changes .key-change").count() == 0
    finally:
        context.close()
