"""The security headers in real Chromium (issue 10, hole 8): every page works under the
server's Content-Security-Policy header with no violation reported (live tiles with their
decrypting worker, the map with tiles from another origin, recordings, admin, settings,
sign-in, invitation), no other site can frame a page, and a camera user's name reaches
the map tooltip as text, not HTML."""
from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route

from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.kernel.tls import server_ssl_context
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Server
from tests.test_console_browser import Console, live_tile

PNG = bytes.fromhex(  # 1×1 grey pixel
    "89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b550000000a49444154789c6368000000820081"
    "77cd72b60000000049454e44ae426082")
XSS_NAME = "<img src=x onerror=window.pwned=1>"
# Reported by the page itself (console.error), besides Chromium's own console message.
REPORT_VIOLATIONS = """document.addEventListener('securitypolicyviolation', (e) =>
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`));"""


class TileServer:
    """Map tiles over HTTPS on another origin (another port), counting requests."""

    def __init__(self, data_dir: Path) -> None:
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(PNG)))
                self.end_headers()
                self.wfile.write(PNG)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context: ssl.SSLContext = server_ssl_context(Settings(host="127.0.0.1", data_dir=data_dir, tls=True))
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}/{{z}}/{{x}}/{{y}}.png"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def tiles(workdir: Path) -> Iterator[TileServer]:
    server = TileServer(workdir / "tiles")
    yield server
    server.close()


@pytest.fixture(scope="module")
def server(workdir: Path, system_keys: SystemKeyPair, tiles: TileServer) -> Iterator[Server]:
    srv = Server(workdir, workdir / "keys", "--tile-url", tiles.url)
    yield srv
    srv.stop()


class Watched:
    """A page whose CSP violations, console errors about the policy and script errors
    are collected."""

    def __init__(self, context: BrowserContext) -> None:
        self.problems: list[str] = []
        context.add_init_script(REPORT_VIOLATIONS)
        self.page: Page = context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"{self.page.url}: {error}"))

    def _console(self, message) -> None:  # type: ignore[no-untyped-def]
        if message.type == "error" and ("Content Security Policy" in message.text or "CSP violation" in message.text):
            self.problems.append(f"{self.page.url}: {message.text}")

    def goto(self, url: str) -> None:
        response = self.page.goto(url)
        assert response is not None
        policy = response.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in policy, (url, response.headers)
        self.page.wait_for_load_state("networkidle")


def test_every_page_works_under_the_policy_header_and_none_can_be_framed(
    server: Server, start_camera, system_keys: SystemKeyPair, browser: Browser, tiles: TileServer,
) -> None:
    start_camera("Uma Veld")
    stream = server.wait_for_stream("Uma Veld")
    context = browser.new_context(viewport={"width": 1440, "height": 900}, ignore_https_errors=True)
    assert context.request.post(f"{server.url}/api/session", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).ok
    watched = Watched(context)
    page = watched.page
    try:
        watched.goto(system_keys.link(server.url))
        page.evaluate("window.bwlive.ready")
        page.click(f'button.stream[data-stream-id="{stream["id"]}"]')
        live_tile(page, stream["id"])  # decrypted by the RTCRtpScriptTransform worker
        page.click("button.nav-view[data-view=map]")
        page.locator(f'.cam-marker[data-stream-id="{stream["id"]}"]').wait_for(timeout=30_000)
        page.locator("img.leaflet-tile-loaded").first.wait_for(state="attached", timeout=10_000)
        assert tiles.requests > 0

        watched.goto(server.url + "/web/recordings.html")
        page.evaluate("window.bwlive.ready")  # the list is shown
        for path in ("/web/admin.html", "/web/settings.html"):
            watched.goto(server.url + path)

        stranger = Watched(browser.new_context())
        for path in ("/web/signin.html", "/web/invite.html#token=not-a-real-one"):
            stranger.goto(server.url + path)
        watched.problems += stranger.problems

        # Another site framing a page: Chromium refuses to render it (frame-ancestors 'none').
        framing = Watched(browser.new_context())
        framing.page.set_content(f'<iframe src="{server.url}/web/signin.html"></iframe>')
        framing.page.wait_for_timeout(1500)
        frame = framing.page.frames[1]
        assert frame.url.startswith("chrome-error://"), frame.url  # blocked, not rendered

        assert watched.problems == []
    finally:
        context.close()


def test_a_camera_user_name_reaches_the_map_tooltip_as_text(
    server: Server, start_camera, system_keys: SystemKeyPair, browser: Browser,
) -> None:
    start_camera(XSS_NAME)
    stream = server.wait_for_stream(XSS_NAME)
    console = Console(browser, system_keys.link(server.url))
    page = console.page
    try:
        page.click("button.nav-view[data-view=map]")
        marker = page.locator(f'.cam-marker[data-stream-id="{stream["id"]}"]')
        marker.wait_for(timeout=30_000)
        marker.hover()
        tooltip = page.locator(".leaflet-tooltip", has_text=XSS_NAME)
        tooltip.wait_for(timeout=5000)
        assert tooltip.inner_text().startswith(f"{XSS_NAME}: position last updated")
        assert page.locator(".leaflet-tooltip img").count() == 0
        assert page.evaluate("window.pwned") is None
    finally:
        console.close()


@pytest.mark.parametrize("target", ["//evil.example/steal", "/\\evil.example/steal", "https://evil.example/"])
def test_signing_in_never_sends_the_user_to_another_site(server: Server, browser: Browser, target: str) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        elsewhere: list[str] = []

        def guard(route: Route) -> None:  # never leave the machine; remember the attempt
            if urlsplit(route.request.url).hostname == "evil.example":
                elsewhere.append(route.request.url)
                route.abort()
            else:
                route.continue_()

        page.route("**/*", guard)
        page.goto(f"{server.url}/web/signin.html?next={quote(target, safe='')}")
        page.fill("#signin-form input[name=email]", ADMIN_EMAIL)
        page.fill("#signin-form input[name=password]", ADMIN_PASSWORD)
        page.click("#signin-form button[type=submit]")
        page.wait_for_url(f"{server.url}/", timeout=10_000)
        assert elsewhere == []
    finally:
        context.close()
