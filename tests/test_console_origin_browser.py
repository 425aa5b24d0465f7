"""The console an organisation hosts on its own origin, in real Chromium (issue 14, part 4):
``bwlive webclient export --console`` writes the web client, a separate static HTTP
server serves it on another loopback port (another origin), an admin adds that origin to
the organisation's console origins, and there the operator signs in (a bearer session
token, no cookie), lists the streams and watches a real camera decrypted with the key
of a link opened on that origin; every script and the worker come from the
organisation's server, only the API from bwlive. Signing out revokes the token. From an
origin no organisation configured, the sign-in page says why it gets no answer. The
API's refusals (other origins, other organisations, viewers, expiry) are in
test_console_origin.py."""
from __future__ import annotations

import functools
import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from bwlive_rtc.cli.admin import bootstrap
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.crypto.system_signing import SigningPublicKey
from bwlive_rtc.kernel.config import Settings
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Camera, Server, admin_call
from tests.test_player_embed_browser import advancing_codes

CAMERA = "Cleo Console"
PASSWORD_B = "organisation b's own password"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class StaticSite:
    """A plain static file server (no bwlive code in it) for ``directory`` on a loopback port of its own."""

    def __init__(self, directory: Path) -> None:
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(directory)))
        self.origin = f"http://127.0.0.1:{self.http.server_address[1]}"
        self.thread = threading.Thread(target=self.http.serve_forever, name="console-site", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        self.thread.join(10)


def call(url: str, method: str = "GET", body: object = None, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, method=method, headers={"Content-Type": "application/json", **(headers or {})},
                                     data=None if body is None else json.dumps(body).encode())
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def set_console_origins(server: Server, origins: list[str]) -> None:
    status, body = admin_call(server.url, "PUT", "/api/organisation/console-origins", {"origins": origins})
    assert status == 200 and body["origins"] == origins, body


@pytest.fixture(scope="module")
def exported(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("console") / "site"
    done = subprocess.run([sys.executable, "-m", "bwlive_rtc", "webclient", "export", str(out), "--console", server.url],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def site(server: Server, exported: Path) -> Iterator[StaticSite]:
    hosted = StaticSite(exported)
    set_console_origins(server, [hosted.origin])
    yield hosted
    hosted.stop()


@pytest.fixture(scope="module")
def camera(start_camera: Callable[..., Camera]) -> Camera:
    return start_camera(CAMERA)


def sign_in(page: Page, origin: str) -> None:
    page.goto(origin + "/web/signin.html")
    page.fill("input[name=email]", ADMIN_EMAIL)
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("#signin-form button[type=submit]")


def test_the_console_on_the_organisations_own_origin_signs_in_and_watches_a_live_camera(
        browser: Browser, server: Server, site: StaticSite, camera: Camera, system_keys: SystemKeyPair,
        workdir: Path) -> None:
    stream = server.wait_for_stream(CAMERA)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    loaded: list[str] = []
    page.on("request", lambda request: loaded.append(request.url))
    ice_servers: list[int] = []  # WHEP's OPTIONS, across origins: the TURN servers a console needs
    page.on("response", lambda answer: ice_servers.append(answer.status) if answer.request.method == "OPTIONS" else None)
    sign_in(page, site.origin)
    page.wait_for_url(site.origin + "/")
    page.evaluate("window.bwlive.ready")
    token = page.evaluate("sessionStorage.getItem('bwlive.session-token')")
    assert token and token.startswith("bws_")
    assert context.cookies(server.url) == []  # no cookie of the bwlive server in this browser

    page.goto("about:blank")
    link = system_keys.link(site.origin, SigningPublicKey.load(workdir / "keys").raw)
    page.goto(link)  # the link with key, opened on the console's origin
    page.evaluate("window.bwlive.ready")
    assert "#key=" not in page.url
    assert page.locator("#keys .thumbprint").first.inner_text() == system_keys.public.thumbprint
    page.click(f'button.stream[data-stream-id="{stream["id"]}"]')
    tile = page.locator(f'.tile[data-stream-id="{stream["id"]}"]')
    page.locator(f'.tile[data-stream-id="{stream["id"]}"][data-state="live"]').wait_for(timeout=20_000)
    assert len(advancing_codes(page, tile)) >= 3  # decrypted by the worker the organisation serves
    page.locator(f'.tile[data-stream-id="{stream["id"]}"][data-verified="yes"]').wait_for(timeout=10_000)
    assert ice_servers and set(ice_servers) == {204}, ice_servers  # the preflight and the call
    page.screenshot(path=str(SCREENSHOTS / "console-own-origin.png"))

    code = [url for url in loaded if url.endswith((".js", ".css", ".html"))]
    assert any(url == site.origin + "/web/e2ee-worker.js" for url in code), code
    assert code and all(url.startswith(site.origin) for url in code), code  # no code from bwlive
    assert call(server.url + "/api/streams", headers={"Authorization": f"Bearer {token}"})[0] == 200
    renewed = page.evaluate("import('/web/api.js').then(({CONSOLE_API}) => CONSOLE_API.call('POST', '/api/session/renew'))")
    assert renewed["expires_at"]  # what the page does every 2 minutes, across origins

    page.click("#sign-out")
    page.wait_for_url("**/web/signin.html*")
    status, body = call(server.url + "/api/streams", headers={"Authorization": f"Bearer {token}"})
    assert status == 401 and "sign in" in body["error"]  # signing out revoked the token
    assert page.evaluate("sessionStorage.getItem('bwlive.session-token')") is None
    context.close()


def test_an_origin_no_organisation_configured_is_told_why_it_gets_no_answer(
        browser: Browser, server: Server, exported: Path, site: StaticSite) -> None:
    elsewhere = StaticSite(exported)  # the same files, an origin nobody added
    try:
        context = browser.new_context()
        page = context.new_page()
        sign_in(page, elsewhere.origin)
        message = page.locator("#signin-message")
        message.filter(has_text="does not answer").wait_for(timeout=10_000)
        assert f"{elsewhere.origin} is not a console origin of your organisation" in message.inner_text()
        assert page.url.startswith(elsewhere.origin + "/web/signin.html")
        page.screenshot(path=str(SCREENSHOTS / "console-origin-not-configured.png"))
        context.close()
    finally:
        elsewhere.stop()
    status, body = call(server.url + "/api/session", "POST", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
                        {"Origin": elsewhere.origin})
    assert status == 403 and "not a console origin of any organisation" in body["error"]


def test_an_admin_sets_the_console_origins_on_the_admin_page(browser: Browser, server: Server, site: StaticSite) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    assert context.request.post(server.url + "/api/session",
                                data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).ok
    page = context.new_page()
    page.goto(server.url + "/web/admin.html")
    field = page.locator("#console-origins-form input[name=origins]")
    page.wait_for_function("(o) => document.querySelector('#console-origins-form input').value === o", arg=site.origin)
    field.fill(f"{site.origin} https://console.example.org")
    page.click("#console-origins-form button[type=submit]")
    page.locator("#console-origins-message").filter(has_text="Saved").wait_for()
    assert server.get_json("/api/organisation/console-origins")["origins"] == sorted(
        [site.origin, "https://console.example.org"])
    page.locator("#console-origins-card").screenshot(path=str(SCREENSHOTS / "admin-console-origins.png"))
    field.fill("https://console.example.org/path")
    page.click("#console-origins-form button[type=submit]")
    page.locator("#console-origins-message").filter(has_text="origins").wait_for()
    assert "Saved" not in page.locator("#console-origins-message").inner_text()
    field.fill(site.origin)
    page.click("#console-origins-form button[type=submit]")
    page.locator("#console-origins-message").filter(has_text="Saved").wait_for()
    assert server.get_json("/api/organisation/console-origins")["origins"] == [site.origin]
    context.close()


def test_a_stolen_session_token_of_another_organisation_sees_nothing_of_this_one(
        server: Server, site: StaticSite, camera: Camera, tmp_path: Path) -> None:
    """Organisation B (its own system, admin and console origin) on the same server: its
    admin's session token, used from B's console origin or from A's, reaches nothing of
    A's live camera."""
    stream = server.wait_for_stream(CAMERA)
    SystemKeyPair.generate().save(tmp_path / "b-keys")
    bootstrap(Settings(data_dir=server.data_dir, keys_dir=tmp_path / "b-keys"), "Org B", "bo@b.test", "Bo B", PASSWORD_B)
    console_b = "https://console.b.example"
    status, body = admin_call(server.url, "PUT", "/api/organisation/console-origins", {"origins": [console_b]},
                              email="bo@b.test", password=PASSWORD_B)
    assert status == 200, body
    status, body = call(server.url + "/api/session", "POST", {"email": "bo@b.test", "password": PASSWORD_B},
                        {"Origin": console_b})
    assert status == 200 and body["organisation"]["name"] == "Org B", body
    stolen = {"Authorization": f"Bearer {body['session_token']}", "Origin": console_b}
    status, body = call(server.url + "/api/streams", headers=stolen)
    assert status == 200 and stream["id"] not in json.dumps(body), body
    for method, path, sent in (("POST", f"/whep/{stream['id']}", None),
                               ("POST", f"/api/streams/{stream['id']}/acknowledge", {"sealed": "x"}),
                               ("POST", f"/api/streams/{stream['id']}/end", None),
                               ("GET", f"/api/recordings/{stream['id']}", None)):
        status, body = call(server.url + path, method, sent, stolen)
        assert status == 404 and body["error"], (path, body)
    status, body = call(server.url + "/api/streams", headers={**stolen, "Origin": site.origin})
    assert status == 403 and f"not at {site.origin}" in body["error"]  # and from A's console origin: refused
    assert server.get_json("/api/streams")["streams"][0]["id"] == stream["id"]  # A's camera streams on
