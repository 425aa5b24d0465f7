"""``<bwlive-player>`` in a page of another origin, in real Chromium (issue 14, parts 1
and 3): the integrator's page (another loopback port) loads the player with its
Subresource Integrity (the entry's and, by an import map, every module's, as
``GET /api/player`` publishes them), gets a viewer token from its backend (the one of
docs/EMBEDDING.md), hands the player the key of a password-protected link with key
through the JS API (kept in the page origin's IndexedDB), and plays a real camera's
live stream: frames with their burned-in codes decode, events arrive, ``acknowledge()``
reaches the camera; and a recording, with a key from the page's own key store (a
non-extractable CryptoKey). No key, another key, an expired token, a token for another stream
and an origin the key does not name are each told in the element and by an ``error``
event."""
from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from playwright.sync_api import Browser, Page

from bwlive_rtc.crypto.b64 import b64url_encode
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.crypto.system_signing import SigningPublicKey
from bwlive_rtc.embedding.tokens import TokenSigner
from bwlive_rtc.webclient.player import integrity
from tests.processes import Camera, Server, admin_call
from tests.synthetic_recording import organisation_of, write_recording
from tests.test_browser_live import READ_CODE_JS
from tests.test_embedding_browser import Integrator, bwlive_cli
from tests.test_recordings_browser import picture_code

CAMERA = "Ida Player"
PASSPHRASE = "harbour lights 42"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
EVENTS = ("stream-started", "stream-ended", "acknowledged", "position", "error")
HOST_PAGE = """<!doctype html>
<meta charset="utf-8"><title>Dispatch</title>
<script type="importmap">%(importmap)s</script>
<script type="module" src="%(module)s" integrity="%(integrity)s" crossorigin="anonymous"></script>
<script>
window.events = [];
window.getToken = async () => (await (await fetch('/bwlive-token', {method: 'POST'})).json()).token;
window.Player = () => customElements.whenDefined('bwlive-player');
window.ownKey = async (pkcs8, signingKey = null) => {  // the host's own key store holds it non-extractable
  const ecdh = {name: 'ECDH', namedCurve: 'P-256'};
  const bytes = Uint8Array.from(atob(pkcs8), (c) => c.charCodeAt(0));
  const once = await crypto.subtle.importKey('pkcs8', bytes, ecdh, true, ['deriveBits']);
  const {kty, crv, x, y, d} = await crypto.subtle.exportKey('jwk', once);
  const privateKey = await crypto.subtle.importKey('jwk', {kty, crv, x, y, d}, ecdh, false, ['deriveBits']);
  return {privateKey, publicKey: {kty, crv, x, y}, signingKey};
};
window.embed = async (attributes, key) => {
  document.querySelector('bwlive-player')?.remove();
  window.events = [];
  const player = document.createElement('bwlive-player');
  for (const type of %(events)s) player.addEventListener(type, (event) => window.events.push({type, ...event.detail}));
  for (const [name, value] of Object.entries(attributes)) player.setAttribute(name, value);
  if (key) await player.setKey(key);
  document.body.append(player);
  return true;
};
</script>
<body></body>
"""


def get(url: str) -> tuple[bytes, Any]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read(), answer.headers


@pytest.fixture(scope="module")
def release(server: Server) -> dict[str, Any]:
    body, _ = get(server.url + "/api/player")
    published: dict[str, Any] = json.loads(body)
    return published


@pytest.fixture(scope="module")
def camera(start_camera: Callable[..., Camera]) -> Camera:
    return start_camera(CAMERA)


@pytest.fixture(scope="module")
def site(server: Server, release: dict[str, Any]) -> Iterator[Integrator]:
    """The integrator's page and backend, with an operator API key for its origin."""
    integrator = Integrator(server.url)
    created = bwlive_cli(server, "create", "--name", "Dispatch VMS", "--role", "operator", "--origin", integrator.origin)
    secret = re.search(r"bwk_\S+", created)
    assert secret, created
    integrator.api_key = secret.group(0)  # type: ignore[attr-defined]
    integrator.start(integrator.api_key, HOST_PAGE % {  # type: ignore[attr-defined]
        "importmap": json.dumps({"integrity": release["imports"]}), "module": release["module"],
        "integrity": release["integrity"], "events": json.dumps(EVENTS)})
    yield integrator
    integrator.stop()


def mint(server: Server, site: Integrator, scope: dict[str, list[str]]) -> str:
    """A viewer token as an integrator's backend gets one (the test is that backend here)."""
    request = urllib.request.Request(
        server.url + "/api/tokens", data=json.dumps({"scope": scope, "origin": site.origin}).encode(), method="POST",
        headers={"Authorization": f"Bearer {site.api_key}", "Content-Type": "application/json"})  # type: ignore[attr-defined]
    with urllib.request.urlopen(request, timeout=10) as answer:
        token: str = json.loads(answer.read())["token"]
    return token


def open_site(browser: Browser, url: str) -> Page:
    page = browser.new_context().new_page()
    page.goto(url)
    page.evaluate("Player()")  # the module loaded, its integrity checked
    return page


def player_says(page: Page, text: str, timeout_s: float = 15.0) -> str:
    """The element's message (its status line or its tile's) once it contains ``text``."""
    deadline, said = time.monotonic() + timeout_s, ""
    while time.monotonic() < deadline:
        said = page.evaluate("document.querySelector('bwlive-player')?.message ?? ''")
        if text in said:
            return str(said)
        page.wait_for_timeout(200)
    raise AssertionError(f"the player says {said!r}, not {text!r}")


def embed(page: Page, server: Server, token: str, **attributes: str) -> None:
    """The host page puts a new ``<bwlive-player>`` in, with these attributes (``camera-user``: camera_user)."""
    named = {name.replace("_", "-"): value for name, value in attributes.items()}
    page.evaluate("(attributes) => embed(attributes)", {"server": server.url, "token": token, **named})


def advancing_codes(page: Page, tile: Any, wanted: int = 3) -> list[dict[str, int]]:
    """The burned-in codes of the tile's video, each a later frame, until ``wanted`` (12 s at most)."""
    codes: list[dict[str, int]] = []
    for _ in range(60):
        code = tile.locator("video").evaluate(READ_CODE_JS)
        if code and (not codes or code["frame"] > codes[-1]["frame"]):
            codes.append(code)
        if len(codes) >= wanted:
            break
        page.wait_for_timeout(200)
    return codes


def pkcs8(system_keys: SystemKeyPair) -> str:
    return base64.b64encode(system_keys.pkcs8_der()).decode()


def events(page: Page, kind: str) -> list[dict[str, Any]]:
    return [event for event in page.evaluate("window.events") if event["type"] == kind]


def test_the_published_integrity_is_that_of_the_bytes_served_with_cors(server: Server, release: dict[str, Any]) -> None:
    assert release["module"] == server.url + "/web/player/v1/bwlive-player.js"
    assert release["imports"][release["module"]] == release["integrity"]
    shared = {server.url + f"/web/{name}" for name in ("tile.js", "e2ee-worker.js", "keystore.js", "whep.js")}
    assert shared <= set(release["imports"])  # the console's own modules
    for url, published in release["imports"].items():
        body, headers = get(url)
        assert integrity(body) == published, url
        assert headers["Access-Control-Allow-Origin"] == "*", url


def test_no_key_another_key_and_an_expired_token_are_told(
        browser: Browser, server: Server, site: Integrator, camera: Camera) -> None:
    stream = server.wait_for_stream(CAMERA)
    page = open_site(browser, site.origin + "/")  # a fresh profile: no key in this origin's IndexedDB
    token = page.evaluate("getToken()")
    embed(page, server, token, stream=stream["id"])
    page.locator('bwlive-player .tile[data-error="no-key"]').wait_for(timeout=15_000)
    assert player_says(page, "No decryption key in this browser")
    assert any(e["code"] == "no-key" and e["streamId"] == stream["id"] for e in events(page, "error"))

    other = SystemKeyPair.generate()
    page.evaluate("(link) => { window.events = []; return document.querySelector('bwlive-player').setKey({link}); }",
                  other.link("https://bwlive.example"))
    page.locator('bwlive-player .tile[data-error="other-key"]').wait_for(timeout=15_000)
    said = player_says(page, "another key")
    assert re.search(r"Stream encrypted to another key: .* This browser holds " + re.escape(other.public.thumbprint), said), said
    assert [e["code"] for e in events(page, "error")] == ["other-key"]
    assert page.locator("bwlive-player video").evaluate(READ_CODE_JS) is None  # nothing decoded

    claims = jwt.decode(token, options={"verify_signature": False})
    kept = {name: claims[name] for name in ("aud", "org", "role", "scope", "key", "jti")}
    expired, _ = TokenSigner.in_directory(server.data_dir).issue(kept, datetime.now(UTC) - timedelta(minutes=10), 5)
    embed(page, server, expired, camera_user=CAMERA)
    said = player_says(page, "bwlive refused")
    assert "expired" in said, said
    assert [e["code"] for e in events(page, "error")] == ["token"]
    assert page.locator("bwlive-player .tile").count() == 0
    page.context.close()


def test_a_token_for_another_stream_or_from_another_origin_cannot_play(
        browser: Browser, server: Server, site: Integrator, camera: Camera) -> None:
    stream = server.wait_for_stream(CAMERA)
    page = open_site(browser, site.origin + "/")
    elsewhere = mint(server, site, {"streams": ["Someone Else"]})
    embed(page, server, elsewhere, stream=stream["id"])
    player_says(page, f"Stream {stream['id']} is not live, or this token may not watch it")
    assert page.locator("bwlive-player .tile").count() == 0
    refused = page.evaluate("""async ([server, id, token]) => {
      const answer = await fetch(`${server}/whep/${id}`, {method: 'POST', body: 'v=0',
        headers: {Authorization: `Bearer ${token}`, 'Content-Type': 'application/sdp'}});
      return [answer.status, (await answer.json()).error];
    }""", [server.url, stream["id"], elsewhere])
    assert refused[0] == 404, refused

    tampered = page.evaluate("""(src) => new Promise((done) => {
      const script = Object.assign(document.createElement('script'), {type: 'module', src: src + '?v=2',
        integrity: 'sha384-' + btoa('x'.repeat(48)), crossOrigin: 'anonymous'});
      script.onload = () => done('ran');
      script.onerror = () => done('refused');
      document.head.append(script);
    })""", server.url + "/web/player/v1/bwlive-player.js")
    assert tampered == "refused"
    page.context.close()

    port = site.origin.rsplit(":", 1)[1]
    other_origin = open_site(browser, f"http://localhost:{port}/")  # the page's code still loads (public, CORS *)
    token = other_origin.evaluate("getToken()")
    embed(other_origin, server, token, camera_user=CAMERA)
    said = player_says(other_origin, "does not accept this page's origin")
    assert f"(http://localhost:{port})" in said, said
    assert [e["code"] for e in events(other_origin, "error")] == ["origin"]
    other_origin.context.close()


def test_the_player_plays_a_recording_with_a_key_from_the_pages_own_store(
        browser: Browser, server: Server, site: Integrator, system_keys: SystemKeyPair) -> None:
    recording = write_recording(server.data_dir, system_keys.public, "Rita Record", 8,
                                organisation_id=organisation_of(server.data_dir))
    token = mint(server, site, {"recordings": [recording.id]})
    page = open_site(browser, site.origin + "/")
    page.evaluate("async ([attributes, pkcs8]) => embed(attributes, await ownKey(pkcs8))",
                  [{"server": server.url, "token": token, "recording": recording.id}, pkcs8(system_keys)])
    page.locator('bwlive-player .recording[data-state="playing"]').wait_for(timeout=15_000)
    assert page.evaluate("document.querySelector('bwlive-player').state") == "recording"
    page.evaluate("async () => { const player = document.querySelector('bwlive-player').recordingPlayer; "
                  "player.pause(); await player.seek(5000); }")
    page.locator('bwlive-player .recording[data-state="paused"]').wait_for(timeout=10_000)
    seen = None
    for _ in range(50):
        seen = picture_code(page, "bwlive-player canvas.recording-picture")
        if seen == recording.code_at(5000):
            break
        page.wait_for_timeout(100)
    assert seen == recording.code_at(5000), seen
    assert events(page, "error") == []

    other = mint(server, site, {"recordings": ["Someone Else"]})  # a token for another recording: as if it did not exist
    embed(page, server, other, recording=recording.id)
    assert player_says(page, "bwlive refused").endswith(f"There is no recording '{recording.id}' (it may have been purged).")
    assert page.locator("bwlive-player .recording").count() == 0
    assert [e["code"] for e in events(page, "error")] == ["server"]
    page.context.close()


def test_the_player_hosted_on_the_integrators_own_origin_loads_no_code_from_bwlive(
        browser: Browser, server: Server, camera: Camera, system_keys: SystemKeyPair, tmp_path) -> None:
    """``bwlive webclient export``: the integrator serves the player's files itself (its
    worker too) and the bwlive server only answers the API: it cannot change the code
    that handles the key."""
    done = subprocess.run([sys.executable, "-m", "bwlive_rtc", "webclient", "export", str(tmp_path / "player")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    release = json.loads((tmp_path / "player" / "release.json").read_text())
    stream = server.wait_for_stream(CAMERA)
    hosted = Integrator(server.url)
    created = bwlive_cli(server, "create", "--name", "Self-hosted VMS", "--role", "viewer", "--origin", hosted.origin)
    api_key = re.search(r"bwk_\S+", created)
    assert api_key, created
    static = hosted.origin + "/static/"
    hosted.start(api_key.group(0), HOST_PAGE % {
        "importmap": json.dumps({"integrity": {static + path: value for path, value in release["imports"].items()}}),
        "module": static + release["module"], "integrity": release["integrity"], "events": json.dumps(EVENTS)},
        static=tmp_path / "player")
    try:
        page = browser.new_context().new_page()
        loaded: list[str] = []
        page.on("request", lambda request: loaded.append(request.url) if request.resource_type != "fetch" else None)
        page.goto(hosted.origin + "/")
        page.evaluate("Player()")
        page.evaluate("async ([attributes, pkcs8]) => embed({...attributes, token: await getToken()}, await ownKey(pkcs8))",
                      [{"server": server.url, "stream": stream["id"]}, pkcs8(system_keys)])
        tile = page.locator(f'bwlive-player .tile[data-stream-id="{stream["id"]}"][data-state="live"]')
        tile.wait_for(timeout=20_000)
        assert len(advancing_codes(page, tile)) >= 3  # decrypted by the worker from the integrator's own files
        code_files = [url for url in loaded if url.endswith((".js", ".css"))]
        assert any(url.endswith("/static/e2ee-worker.js") for url in code_files), code_files
        assert code_files and all(url.startswith(static) for url in code_files), code_files
        assert not any(url.startswith(server.url) for url in loaded), loaded  # the API only, by fetch
        page.context.close()
    finally:
        hosted.stop()


def test_a_group_grid_shows_two_live_cameras_decrypted_and_goes_fullscreen(
        browser: Browser, server: Server, site: Integrator, camera: Camera, start_camera: Callable[..., Camera],
        system_keys: SystemKeyPair, workdir: Path) -> None:
    """A token for a console group: the player shows a grid of the group's live cameras
    (two real agents), each decrypted; ``fullscreen()`` from the host page's button makes
    the element the document's fullscreen element (a user's gesture: a real click)."""
    second = start_camera("Jo Grid")
    streams = [server.wait_for_stream(name) for name in (CAMERA, "Jo Grid")]
    status, group = admin_call(server.url, "POST", "/api/groups", {"name": "Harbour", "members": [CAMERA, "Jo Grid"]})
    assert status == 200, group
    page = open_site(browser, site.origin + "/")
    token = mint(server, site, {"groups": [group["id"]]})
    signing = b64url_encode(SigningPublicKey.load(workdir / "keys").raw)
    page.evaluate("async ([attributes, pkcs8, signing]) => embed(attributes, await ownKey(pkcs8, signing))",
                  [{"server": server.url, "token": token, "group": group["id"]}, pkcs8(system_keys), signing])
    for stream in streams:
        tile = page.locator(f'bwlive-player .tile[data-stream-id="{stream["id"]}"]')
        page.locator(f'bwlive-player .tile[data-stream-id="{stream["id"]}"][data-state="live"]').wait_for(timeout=20_000)
        assert len(advancing_codes(page, tile)) >= 3, stream["camera"]  # each decrypted, frames advancing
        page.locator(f'bwlive-player .tile[data-stream-id="{stream["id"]}"][data-verified="yes"]').wait_for(
            timeout=10_000)
    assert page.locator("bwlive-player .tile").count() == 2
    started = {event["camera"] for event in events(page, "stream-started")}
    assert started == {CAMERA, "Jo Grid"} and events(page, "error") == []

    assert page.evaluate("document.fullscreenElement") is None
    page.evaluate("""() => document.body.prepend(Object.assign(document.createElement('button'), {
      id: 'full', textContent: 'Full screen',
      onclick: () => document.querySelector('bwlive-player').fullscreen().then(() => 'done', (e) => e.message)
        .then((outcome) => { window.fullscreenOutcome = outcome; }),
    }))""")
    page.click("#full")  # a trusted click: the gesture the Fullscreen API asks for
    page.wait_for_function("window.fullscreenOutcome !== undefined", timeout=5_000)
    assert page.evaluate("window.fullscreenOutcome") == "done"
    assert page.evaluate("document.fullscreenElement?.tagName") == "BWLIVE-PLAYER"
    page.screenshot(path=str(SCREENSHOTS / "player-group-grid-fullscreen.png"))
    page.evaluate("document.exitFullscreen()")
    page.wait_for_function("document.fullscreenElement === null", timeout=5_000)
    page.context.close()
    second.stop()


def test_the_player_plays_a_live_stream_with_the_key_handed_over(
        browser: Browser, server: Server, site: Integrator, camera: Camera, system_keys: SystemKeyPair, workdir) -> None:
    stream = server.wait_for_stream(CAMERA)
    signing = SigningPublicKey.load(workdir / "keys")
    link = system_keys.protected_link("https://bwlive.example", PASSPHRASE, signing.raw)
    page = open_site(browser, site.origin + "/")
    importing = ("async ([link, passphrase]) => (await Player()).importKey({link, passphrase})"
                 ".then((key) => key.thumbprint, (error) => error.message)")
    assert "Wrong passphrase" in page.evaluate(importing, [link, "not the passphrase"])
    assert page.evaluate(importing, [link, PASSPHRASE]) == system_keys.public.thumbprint
    page.reload()  # typed once: the key stays in this origin's IndexedDB
    page.evaluate("Player()")

    token = page.evaluate("getToken()")
    embed(page, server, token, camera_user=CAMERA)
    tile = page.locator(f'bwlive-player .tile[data-stream-id="{stream["id"]}"]')
    page.locator(f'bwlive-player .tile[data-stream-id="{stream["id"]}"][data-state="live"]').wait_for(timeout=20_000)
    assert len(advancing_codes(page, tile)) >= 3  # frames with their burned-in numbers, advancing
    page.locator(f'bwlive-player .tile[data-stream-id="{stream["id"]}"][data-verified="yes"]').wait_for(timeout=10_000)
    assert events(page, "stream-started") == [{"type": "stream-started", "streamId": stream["id"], "camera": CAMERA}]
    page.wait_for_function("window.events.some((e) => e.type === 'position' && e.fix)", timeout=10_000)
    position = events(page, "position")[-1]
    assert position["streamId"] == stream["id"] and -90 <= position["lat"] <= 90, position
    assert page.evaluate("document.querySelector('bwlive-player').state") == "live"
    assert events(page, "error") == []

    assert page.evaluate("document.querySelector('bwlive-player').acknowledge()") is True
    camera.wait_for(r"acknowledged: by Dispatch VMS \(vibrate\)", timeout=5)
    page.wait_for_function("window.events.some((e) => e.type === 'acknowledged')", timeout=5_000)
    acknowledged = events(page, "acknowledged")[0]
    assert (acknowledged["streamId"], acknowledged["by"]) == (stream["id"], "Dispatch VMS"), acknowledged
    assert "Acknowledged by Dispatch VMS" in tile.locator(".tile-acknowledged").inner_text()

    page.evaluate("document.querySelector('bwlive-player').mute(false)")
    assert tile.locator("video").evaluate("(video) => video.muted") is False

    # taken off the page, the player leaves its subscription at once (DELETE with the token, across origins)
    with page.expect_response(lambda answer: answer.request.method == "DELETE", timeout=5_000) as leaving:
        embed(page, server, token, camera_user=CAMERA)  # the page's next player; the old one is removed
    assert leaving.value.status == 200 and f"/whep/{stream['id']}/" in leaving.value.url, leaving.value
    server.wait_for(rf"viewer \S+ of {re.escape(stream['id'])} left", timeout=5)
    page.wait_for_function("window.events.some((e) => e.type === 'stream-started')", timeout=20_000)

    camera.stop()
    page.wait_for_function("window.events.some((e) => e.type === 'stream-ended')", timeout=15_000)
    ended = events(page, "stream-ended")[0]
    assert ended["streamId"] == stream["id"] and "ended" in ended["message"].lower(), ended
    assert page.evaluate("document.querySelector('bwlive-player').state") == "ended"
    page.screenshot(path="/tmp/bwlive-player-embedded.png")
    page.context.close()
