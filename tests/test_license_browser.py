"""Chromium: the License card shows the licensed total, the cameras counting now and
their 7-day average, and the organisation id the issuer's CLI needs (copyable); a server
without an issuer key says how to install one (issue 13, defect 11)."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from bwlive_rtc.crypto.system_key import SystemKeyPair
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Server
from tests.test_browser_accounts import sign_in


@pytest.fixture(scope="module")
def licensed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose keys directory holds a license issuer's public key."""
    workdir = tmp_path_factory.mktemp("licensed")
    SystemKeyPair.generate().save(workdir / "keys")
    made = subprocess.run([sys.executable, "-m", "bwlive_rtc", "license", "issuer-keys", "--keys-dir",
                           str(workdir / "issuer")], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    (workdir / "keys" / "license-issuer-public.pem").write_bytes((workdir / "issuer" / "license-issuer-public.pem").read_bytes())
    server = Server(workdir, workdir / "keys")
    server.issuer_dir = workdir / "issuer"  # type: ignore[attr-defined]
    yield server
    server.stop()


def test_license_card_shows_total_usage_and_organisation_id(licensed_server, browser: Browser) -> None:
    server = licensed_server
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    sign_in(page, server.url + "/web/admin.html", ADMIN_EMAIL, ADMIN_PASSWORD)
    page.wait_for_url("**/web/admin.html")
    organisation_id = page.locator("#organisation-id")
    expect(organisation_id).not_to_be_empty()
    assert page.locator("#license-issuer").is_hidden()
    page.click("#copy-organisation-id")
    expect(page.locator("#copy-organisation-id")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == organisation_id.inner_text()

    card = page.locator("#fleet")
    card.locator("#profile-form input[name=name]").fill("Patrol")
    card.locator("#profile-form button").click()
    card.locator(".fleet-profile", has_text="Patrol").wait_for()
    card.locator("#user-form input[name=name]").fill("Lou License")
    card.locator("#user-form select").select_option(label="Patrol")
    card.locator("#user-form button").click()
    card.locator("#fleet-users td", has_text="Lou License").wait_for()
    for serial in ("LIC-1", "LIC-2"):
        card.locator("#camera-form input[name=serial]").fill(serial)
        card.locator("#camera-form select[name=camera_user_id]").select_option(label="Lou License")
        card.locator("#camera-form button").click()
        card.locator(f'.fleet-camera[data-serial="{serial}"]').wait_for()
    expect(page.locator("#license-now")).to_have_text("2")  # redrawn after each fleet change
    expect(page.locator("#license-average")).to_have_text("0.3")  # two cameras today, none the 6 days before

    issuer_key = str(server.issuer_dir / "license-issuer-private.pem")
    organisation = f"--organisation={organisation_id.inner_text()}"  # an id may start with '-'
    issued = subprocess.run([sys.executable, "-m", "bwlive_rtc", "license", "issue", "--issuer-key", issuer_key,
                             organisation, "--cameras", "5"], capture_output=True, text=True)
    assert issued.returncode == 0, issued.stderr
    page.fill("#license-form input[name=license]", issued.stdout.strip())
    page.click("#license-form button")
    expect(page.locator("#license-total")).to_have_text("5")
    expect(page.locator("#licenses tr")).to_have_count(1)
    page.locator("#license-form").evaluate("form => form.closest('section').scrollIntoView()")
    page.locator("#license-form").locator("xpath=ancestor::section").screenshot(path="docs/screenshots/admin-license.png")
    context.close()


def test_a_server_without_issuer_key_says_how_to_install_one(server, browser: Browser) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, server.url + "/web/admin.html", ADMIN_EMAIL, ADMIN_PASSWORD, organisation="Test organisation")
    page.wait_for_url("**/web/admin.html")
    warning = page.locator("#license-issuer")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("keys/license-issuer-public.pem")
    context.close()


def test_readme_says_how_to_install_the_issuer_key() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert "license-issuer-public.pem" in readme and "--license-issuer-key" in readme
