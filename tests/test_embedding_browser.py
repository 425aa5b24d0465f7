"""A page of another origin, in real Chromium, uses bwlive with a viewer token (issue 14,
part 2): it gets the token from the integrator backend of docs/EMBEDDING.md (that exact
file, run here), lists the live streams and subscribes over WHEP to a live camera, whose
packets arrive. From an origin the key does not name, the browser refuses (CORS) and the
page says so; after the key is revoked, the page reads the server's reason."""
from __future__ import annotations

import asyncio
import importlib.util
import json
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from playwright.sync_api import Browser, Page, expect

from tests.processes import Camera, Server

DOCS = Path(__file__).resolve().parents[1] / "docs"
BACKEND_FILE = DOCS / "examples" / "integrator_backend.py"

PAGE = """<!doctype html>
<meta charset="utf-8"><title>A VMS</title>
<p id="message"></p>
<script>
const BWLIVE = %(bwlive)s;
const message = document.getElementById('message');
let token = null;

async function bwlive(path, init = {}) {
  let answer;
  try {
    answer = await fetch(BWLIVE + path, {...init, headers: {...init.headers, Authorization: `Bearer ${token}`}});
  } catch (error) {  // the browser withheld the answer: no CORS for this origin
    message.textContent = `bwlive does not accept this page's origin (${location.origin})`;
    throw error;
  }
  if (!answer.ok) {
    message.textContent = `bwlive refused: ${(await answer.json()).error}`;
    throw new Error(message.textContent);
  }
  return answer;
}

window.getToken = async () => {
  token = (await (await fetch('/bwlive-token', {method: 'POST'})).json()).token;
  return token;
};

window.listStreams = async () => (await (await bwlive('/api/streams')).json()).streams;

window.watch = async (streamId) => {
  const pc = new RTCPeerConnection();
  pc.addTransceiver('video', {direction: 'recvonly'});
  pc.addTransceiver('audio', {direction: 'recvonly'});
  pc.createDataChannel('bwlive');
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((done) => {
    if (pc.iceGatheringState === 'complete') done();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && done();
    setTimeout(done, 2000);
  });
  const answer = await bwlive(`/whep/${streamId}`, {
    method: 'POST', headers: {'Content-Type': 'application/sdp'}, body: pc.localDescription.sdp});
  window.resource = answer.headers.get('Location');
  await pc.setRemoteDescription({type: 'answer', sdp: await answer.text()});
  window.pc = pc;
  return window.resource;
};

window.videoPackets = async () => {
  let packets = 0;
  (await window.pc.getStats()).forEach((report) => {
    if (report.type === 'inbound-rtp' && report.kind === 'video') packets += report.packetsReceived;
  });
  return packets;
};
</script>
"""


def load_backend() -> Callable[[str, str, str], web.Application]:
    """``token_backend`` from the file docs/EMBEDDING.md shows."""
    spec = importlib.util.spec_from_file_location("integrator_backend", BACKEND_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.token_backend


class Integrator:
    """The integrator's site on a loopback port of its own: its page and its backend."""

    def __init__(self, bwlive: str) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self.bwlive = bwlive
        self.loop = asyncio.new_event_loop()

    def start(self, api_key: str, page: str | None = None, static: Path | None = None) -> None:
        """Serve ``page`` (default: this file's) at ``/`` and the backend beside it, and the
        files of ``static`` under ``/static/``."""
        app = load_backend()(self.bwlive, api_key, self.origin)
        page = page or PAGE % {"bwlive": json.dumps(self.bwlive)}

        async def index(_request: web.Request) -> web.Response:
            return web.Response(text=page, content_type="text/html")

        app.router.add_get("/", index)
        if static is not None:
            app.router.add_static("/static/", static)
        started = threading.Event()
        self.runner = web.AppRunner(app)

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self.runner.setup())
            self.loop.run_until_complete(web.SockSite(self.runner, self.sock).start())
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=serve, name="integrator", daemon=True)
        self.thread.start()
        assert started.wait(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def bwlive_cli(server: Server, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "bwlive_rtc", "apikeys", *args, "--data-dir", str(server.data_dir)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def integrator(server: Server) -> Iterator[Integrator]:
    site = Integrator(server.url)
    created = bwlive_cli(server, "create", "--name", "Dispatch VMS", "--role", "viewer", "--origin", site.origin)
    secret = re.search(r"bwk_\S+", created)
    assert secret, created
    site.start(secret.group(0))
    yield site
    site.stop()


def open_page(browser: Browser, url: str) -> Page:
    page = browser.new_context().new_page()
    page.goto(url)
    return page


def test_a_page_of_another_origin_lists_and_watches_with_a_token(
        browser: Browser, server: Server, start_camera: Callable[..., Camera], integrator: Integrator) -> None:
    start_camera("Ida Embed")
    stream = server.wait_for_stream("Ida Embed")
    page = open_page(browser, integrator.origin + "/")
    assert page.evaluate("getToken()").count(".") == 2
    assert [s["camera"] for s in page.evaluate("listStreams()")] == ["Ida Embed"]
    resource = page.evaluate("(id) => watch(id)", stream["id"])
    assert resource.startswith(f"/whep/{stream['id']}/")  # the Location header is exposed to the page
    page.wait_for_function("async () => (await videoPackets()) > 20", timeout=15_000)
    assert page.locator("#message").text_content() == ""

    # the same page and backend, from an origin the key does not name: the browser refuses
    elsewhere = open_page(browser, f"http://localhost:{integrator.port}/")
    elsewhere.evaluate("getToken()")
    with pytest.raises(Exception, match="Failed to fetch"):
        elsewhere.evaluate("listStreams()")
    assert elsewhere.locator("#message").text_content() == (
        f"bwlive does not accept this page's origin (http://localhost:{integrator.port})")

    # revoked: the page's next call is refused, and it can read why
    listed = bwlive_cli(server, "list")
    key_id = re.search(r"^(\S+)\s+Dispatch VMS", listed, re.MULTILINE)
    assert key_id, listed
    bwlive_cli(server, "revoke", "--id", key_id.group(1))
    with pytest.raises(Exception, match="revoked"):
        page.evaluate("listStreams()")
    assert "bwlive refused: the API key bwk_" in page.locator("#message").text_content()
    assert "was revoked" in page.locator("#message").text_content()


def test_an_admin_creates_and_revokes_a_key_on_the_admin_page(browser: Browser, server: Server) -> None:
    from tests.test_browser_live import open_console

    context, page = open_console(browser, server.url)
    page.goto(server.url + "/web/admin.html")
    card = page.locator("#api-keys-card")
    card.locator("input[name=name]").fill("Harbour dashboard")
    card.locator("select[name=role]").select_option("operator")
    card.locator("input[name=origins]").fill("https://dash.harbour.example  http://127.0.0.1:9999")
    card.locator("button[type=submit]").click()
    secret = card.locator("#api-key-secret")
    secret.wait_for()
    assert re.fullmatch(r"bwk_[\w-]{55}", secret.text_content() or "")
    assert "not shown again" in card.locator("#api-key-message").text_content()
    listed = card.locator("#api-keys tr", has_text="Harbour dashboard")
    assert "https://dash.harbour.example http://127.0.0.1:9999" in listed.text_content()
    assert (secret.text_content() or "")[:16] in listed.text_content()  # the prefix, never the secret
    assert "never" in listed.text_content() and "Ada Admin" in listed.text_content()
    card.locator("input[name=name]").fill("Bad origin")
    card.locator("input[name=origins]").fill("dash.harbour.example")
    card.locator("button[type=submit]").click()
    expect(card.locator("#api-key-message")).to_contain_text("origins")
    assert card.locator("#api-key-secret").is_hidden()
    listed.get_by_role("button", name="Revoke").click()
    expect(listed).to_contain_text("revoked")
    page.goto(server.url + "/web/audit.html")
    expect(page.locator("#audit")).to_contain_text("API key revoked")
    context.close()
