"""Chromium: an admin invites an operator, who signs in, picks the organisation and
watches a live stream; a viewer cannot reach the admin page or its APIs."""
from __future__ import annotations

from playwright.sync_api import Browser, Page

from bwlive_rtc.crypto.system_key import SystemKeyPair
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD

OPERATOR_PASSWORD = "operator password 1"


def sign_in(page: Page, url: str, email: str, password: str, organisation: str | None = None) -> None:
    """Sign in through the page; pick ``organisation`` if the picker asks."""
    page.goto(url)
    page.wait_for_url("**/web/signin.html**")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("#signin-form button[type=submit]")
    if organisation:  # the picker appears only for members of several organisations
        choice = page.locator(f"#organisations button:has-text('{organisation}')")
        for _ in range(100):
            if "/web/signin.html" not in page.url:
                return
            if choice.count():
                choice.click()
                return
            page.wait_for_timeout(100)


def invite(admin: Page, server_url: str, email: str, role: str) -> str:
    admin.goto(server_url + "/web/admin.html")
    admin.fill("#invite-form input[name=email]", email)
    admin.select_option("#invite-form select[name=role]", role)
    admin.click("#invite-form button[type=submit]")
    link = admin.locator("#invite-link")
    link.wait_for()
    return link.inner_text()


def accept(browser: Browser, link: str, name: str, password: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(link)
    page.locator("#accept-form").wait_for()
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("#accept-form button[type=submit]")
    page.wait_for_url(link.split("/web/")[0] + "/")
    context.close()


def test_invited_operator_picks_organisation_and_watches(
        server, start_camera, system_keys: SystemKeyPair, browser: Browser) -> None:
    start_camera("Noor Smit")
    stream = server.wait_for_stream("Noor Smit")
    admin_ctx = browser.new_context()
    admin = admin_ctx.new_page()
    sign_in(admin, server.url + "/", ADMIN_EMAIL, ADMIN_PASSWORD)
    admin.wait_for_url(server.url + "/")
    first_link = invite(admin, server.url, "olga@example.test", "operator")
    assert "Members" in admin.content()
    accept(browser, first_link, "Olga Operator", OPERATOR_PASSWORD)
    # the admin (in another browser) founds a second organisation that invites her too,
    # so she has to pick one
    founder_ctx = browser.new_context()
    founder = founder_ctx.new_page()
    sign_in(founder, server.url + "/", ADMIN_EMAIL, ADMIN_PASSWORD)
    founder.wait_for_url(server.url + "/")
    csrf = founder.evaluate("fetch('/api/session').then(r => r.json()).then(s => s.csrf_token)")
    response = founder_ctx.request.post(server.url + "/api/organisations", data={"name": "Second organisation"},
                                        headers={"X-CSRF-Token": csrf})
    assert response.status == 201
    second_link = invite(founder, server.url, "olga@example.test", "viewer")
    accept(browser, second_link, "", OPERATOR_PASSWORD)
    founder_ctx.close()

    operator_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    operator = operator_ctx.new_page()
    sign_in(operator, system_keys.link(server.url), "olga@example.test", OPERATOR_PASSWORD)
    picker = operator.locator("#organisations button")
    picker.first.wait_for()
    assert sorted(picker.all_inner_texts()) == ["Second organisation (viewer)", "Test organisation (operator)"]
    operator.click("#organisations button:has-text('Test organisation')")
    operator.wait_for_url(server.url + "/")
    operator.evaluate("window.bwlive.ready")
    assert operator.locator("#keys .thumbprint").first.inner_text() == system_keys.public.thumbprint
    operator.click(f'button.stream[data-stream-id="{stream["id"]}"]')
    operator.wait_for_selector(f'.tile[data-stream-id="{stream["id"]}"][data-state="live"]', timeout=10_000)
    operator.screenshot(path="/tmp/bwlive-operator.png")
    audit = admin_ctx.request.get(server.url + "/api/organisation/audit").json()["entries"]
    assert any(e["action"] == "stream viewed" and e["user_name"] == "Olga Operator" for e in audit)
    operator_ctx.close()
    admin_ctx.close()


def test_viewer_cannot_reach_administration(server, browser: Browser) -> None:
    admin_ctx = browser.new_context()
    admin = admin_ctx.new_page()
    sign_in(admin, server.url + "/", ADMIN_EMAIL, ADMIN_PASSWORD, organisation="Test organisation")
    admin.wait_for_url(server.url + "/")
    link = invite(admin, server.url, "vic@example.test", "viewer")
    accept(browser, link, "Vic Viewer", "viewer password 1")
    viewer_ctx = browser.new_context()
    viewer = viewer_ctx.new_page()
    sign_in(viewer, server.url + "/web/admin.html", "vic@example.test", "viewer password 1")
    viewer.wait_for_url(server.url + "/web/admin.html")
    banner = viewer.locator("#banner")
    banner.wait_for()
    assert "needs the admin role; you are viewer" in banner.inner_text()
    assert viewer.locator("#admin").is_hidden()
    for path in ("/api/organisation/members", "/api/organisation/audit", "/api/organisation/systems"):
        response = viewer_ctx.request.get(server.url + path)
        assert response.status == 403, path
        assert "needs the admin role" in response.json()["error"]
    viewer_ctx.close()
    admin_ctx.close()


def test_admin_manages_cameras_and_profiles(server, browser: Browser, tmp_path) -> None:
    import json
    import subprocess
    import sys

    from tests.processes import Process

    admin_ctx = browser.new_context(viewport={"width": 1280, "height": 1400})
    admin = admin_ctx.new_page()
    sign_in(admin, server.url + "/web/admin.html", ADMIN_EMAIL, ADMIN_PASSWORD, organisation="Test organisation")
    admin.wait_for_url(server.url + "/web/admin.html")
    card = admin.locator("#fleet")
    card.wait_for()
    card.locator("#profile-form input[name=name]").fill("Patrol")
    card.locator("#profile-form button").click()
    profile = card.locator(".fleet-profile", has_text="Patrol")
    profile.wait_for()
    card.locator("#user-form input[name=name]").fill("Pia Patrol")
    card.locator("#user-form select").select_option(label="Patrol")
    card.locator("#user-form button").click()
    card.locator("#fleet-users td", has_text="Pia Patrol").wait_for()
    card.locator("#camera-form input[name=serial]").fill("PAT-1")
    card.locator("#camera-form input[name=model]").fill("BodyCam 3")
    card.locator("#camera-form select[name=camera_user_id]").select_option(label="Pia Patrol")
    card.locator("#camera-form button").click()
    card.locator('.fleet-camera[data-serial="PAT-1"]').wait_for()
    card.locator("#network-form input[name=ssid]").fill("Pia-Phone")
    card.locator("#network-form input[name=password]").fill("hotspot pw")
    card.locator("#network-form select").select_option(label="camera user Pia Patrol (overrides)")
    card.locator("#network-form button").click()
    card.locator(".fleet-network", has_text="Pia-Phone").wait_for()
    profile.locator("input.streaming").uncheck()
    admin.wait_for_timeout(500)
    admin.screenshot(path="/tmp/bwlive-admin.png", full_page=True)
    dock = subprocess.run([sys.executable, "-m", "bwlive_rtc", "camera", "dock", "--data-dir", str(server.data_dir),
                           "--keys-dir", str(server.data_dir.parent / "keys"), "--serial", "PAT-1",
                           "--out", str(tmp_path / "pat.json")], capture_output=True, text=True)
    assert dock.returncode == 0, dock.stderr
    assert json.loads((tmp_path / "pat.json").read_text())["networks"] == [{"ssid": "Pia-Phone", "password": "hotspot pw"}]
    camera = Process(["camera", "stream", "--server", server.url, "--dock-file", str(tmp_path / "pat.json")], cwd=tmp_path)
    camera.wait_for(r"error: server refused the stream \(403\): streaming is off in profile Patrol of camera user Pia Patrol")
    assert camera.proc.wait(10) == 1
    card.locator('.fleet-camera[data-serial="PAT-1"] button.revoke').click()
    card.locator('.fleet-camera[data-serial="PAT-1"] button.revoke:disabled').wait_for()
    actions = [e["action"] for e in admin_ctx.request.get(server.url + "/api/organisation/audit").json()["entries"]]
    assert {"profile added", "camera user added", "camera added", "profile changed", "camera revoked"} <= set(actions)
    admin_ctx.close()
