"""Keys in real Chromium against the real server and camera processes: the
password-protected link, a key pair generated on the admin page, two keys held at once,
a clock that is off, and a browser that lost its key."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, expect

from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.crypto.system_signing import SigningKeyPair
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Camera, Server
from tests.test_browser_live import frame_codes

PASSPHRASE = "seven blue herons"
NO_KEY = "No decryption key in this browser. Open the link with key your administrator gave you."
# Shifts this page's clock 42 s ahead, as a computer with a wrong clock would be.
CLOCK_AHEAD_JS = """
(() => {
  const shift = 42000;
  const RealDate = Date;
  class ShiftedDate extends RealDate {
    constructor(...args) { if (args.length === 0) super(RealDate.now() + shift); else super(...args); }
    static now() { return RealDate.now() + shift; }
  }
  globalThis.Date = ShiftedDate;
})();
"""


def cli(*args: str, stdin: str = "") -> str:
    done = subprocess.run([sys.executable, "-m", "bwlive_rtc", *args], input=stdin, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def cli_thumbprint(keys_dir: Path) -> str:
    return re.search(r"^thumbprint: (.+)$", cli("system", "keys", "show", "--keys-dir", str(keys_dir)), re.M).group(1)


def signed_in(browser: Browser, url: str, init_script: str | None = None) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    if init_script:
        context.add_init_script(init_script)
    response = context.request.post(f"{url}/api/session", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.ok, response.text()
    return context, context.new_page()


def watch(page: Page, stream_id: str) -> None:
    """Open the stream's tile; it must go live and its burned-in frame code advance."""
    page.click(f'button.stream[data-stream-id="{stream_id}"]')
    page.wait_for_selector(f'.tile[data-stream-id="{stream_id}"][data-state="live"]', timeout=15_000)
    numbers = [code["frame"] for code in frame_codes(page, stream_id, 2)]
    assert len(numbers) >= 4 and numbers == sorted(numbers) and numbers[-1] > numbers[0], numbers


def camera_and_console(server: Server, start_camera, link: str, browser: Browser, camera: str,
                       init_script: str | None = None) -> tuple[dict, BrowserContext, Page]:
    """A streaming camera, and a fresh signed-in browser profile that opened ``link``."""
    start_camera(camera)
    stream = server.wait_for_stream(camera)
    context, page = signed_in(browser, server.url, init_script)
    page.goto(link)
    page.evaluate("window.bwlive.ready")
    return stream, context, page


def camera_thumbprint(camera: Camera) -> str:
    return camera.wait_for(r"system key thumbprint: (.+)$").group(1)


def test_password_protected_link_asks_once_plays_and_shows_the_cli_thumbprint(
        server: Server, start_camera, workdir: Path, browser: Browser) -> None:
    keys = workdir / "keys"
    shown = cli("system", "keys", "show", "--keys-dir", str(keys), "--base-url", server.url, "--passphrase-stdin",
                stdin=PASSPHRASE + "\n")
    link = next(line.strip() for line in shown.splitlines() if "#pkey=" in line)
    thumbprint = cli_thumbprint(keys)
    camera = start_camera("Pia Passphrase")
    stream = server.wait_for_stream("Pia Passphrase")
    context, page = signed_in(browser, server.url)
    try:
        page.goto(link)
        page.fill("#passphrase-input", "not the passphrase")
        page.click("#passphrase button[type=submit]")
        expect(page.locator("#passphrase-error")).to_have_text(
            "Wrong passphrase: the key in the link could not be decrypted.", timeout=15_000)
        page.fill("#passphrase-input", PASSPHRASE)
        page.click("#passphrase button[type=submit]")
        page.evaluate("window.bwlive.ready")
        assert "#pkey=" not in page.url and page.locator("#passphrase").is_hidden()
        assert page.locator("#keys .thumbprint").all_text_contents() == [thumbprint]
        stored = page.evaluate("window.bwlive.keys.map((k) => k.privateKey.extractable)")
        assert stored == [False]
        watch(page, stream["id"])

        page.goto(server.url)  # asked once: the key is kept
        page.evaluate("window.bwlive.ready")
        assert page.locator("#passphrase").count() == 0
        assert page.locator("#keys .thumbprint").all_text_contents() == [thumbprint]

        page.goto(server.url + "/web/settings.html")
        expect(page.locator("#browser-keys .thumbprint")).to_have_text([thumbprint])

        page.goto(server.url + "/web/admin.html")
        admin_thumbprints = page.locator("#e2e-keys .e2e-system .thumbprint")
        expect(admin_thumbprints).to_have_count(1)
        assert admin_thumbprints.all_text_contents() == [thumbprint]
        assert camera_thumbprint(camera) == thumbprint
        assert server.get_json("/api/system")["thumbprint"] == thumbprint
    finally:
        context.close()


def test_key_generated_on_the_admin_page_is_used_by_cameras_and_both_keys_play(
        server: Server, start_camera, workdir: Path, system_keys: SystemKeyPair, browser: Browser) -> None:
    old_camera = start_camera("Olga Oldkey")
    old_stream = server.wait_for_stream("Olga Oldkey")
    context, page = signed_in(browser, server.url)
    try:
        page.goto(system_keys.link(server.url))  # this browser holds the old key too
        page.evaluate("window.bwlive.ready")
        page.goto(server.url + "/web/admin.html")
        form = page.locator("#e2e-form")
        form.locator("input[name=passphrase]").fill("eight chars at least")
        form.locator("input[name=again]").fill("something else entirely")
        form.locator("button[type=submit]").click()
        expect(page.locator("#e2e-message")).to_have_text("The two passphrases differ.")
        assert page.locator("#e2e-result").is_hidden()
        form.locator("input[name=passphrase]").fill("eight chars at least")
        form.locator("input[name=again]").fill("eight chars at least")
        form.locator("button[type=submit]").click()
        expect(page.locator("#e2e-message.ok")).to_have_text("The system now encrypts new streams to this key.",
                                                             timeout=15_000)
        new_thumbprint = page.locator("#e2e-new-thumbprint").inner_text()
        assert new_thumbprint != system_keys.public.thumbprint
        expect(page.locator("#e2e-keys .e2e-system .thumbprint")).to_have_text([new_thumbprint])  # list reloads after the change
        plain_link = page.locator("#e2e-link").inner_text()
        protected = page.locator("#e2e-protected-link").inner_text()
        assert SystemKeyPair.from_link(protected, "eight chars at least").public.thumbprint == new_thumbprint
        new_pair = SystemKeyPair.from_link(plain_link)
        assert new_pair.public.thumbprint == new_thumbprint
        # the server holds the public key alone, now as the system's key
        systems = server.get_json("/api/organisation/systems")["systems"]
        assert [s["key_id"] for s in systems] == [new_pair.public.key_id]
        audit = server.get_json("/api/organisation/audit")["entries"]
        assert any(e["action"] == "system key changed" and e["details"]["key_id"] == new_pair.public.key_id
                   for e in audit)

        # A camera set up afterwards encrypts to the new key (its public half written
        # beside the server's data directory, where docking would also take it from).
        new_keys = workdir / "keys-new"
        new_keys.mkdir(exist_ok=True)
        (new_keys / "system-public.pem").write_bytes(new_pair.public.pem())
        SigningKeyPair.load(workdir / "keys").save(new_keys)  # the system signs as before: only the e2e key changed
        new_camera = Camera(workdir, server.url, new_keys, "Nina Newkey")
        try:
            new_camera.wait_for("streaming")
            assert camera_thumbprint(new_camera) == new_thumbprint
            new_stream = server.wait_for_stream("Nina Newkey")
            assert new_stream["key_envelope"]["kid"] == new_pair.public.key_id
            page.goto(server.url)
            page.evaluate("window.bwlive.ready")
            assert sorted(page.locator("#keys .thumbprint").all_text_contents()) == sorted(
                [system_keys.public.thumbprint, new_thumbprint])
            watch(page, new_stream["id"])
            watch(page, old_stream["id"])  # the old key, picked by key id, still opens the old stream
            assert camera_thumbprint(old_camera) == system_keys.public.thumbprint
        finally:
            new_camera.stop()
    finally:
        context.close()


def test_clock_ahead_refuses_to_play_and_says_by_how_much(
        server: Server, start_camera, system_keys: SystemKeyPair, browser: Browser) -> None:
    stream, context, page = camera_and_console(server, start_camera, system_keys.link(server.url), browser,
                                               "Carl Clock", CLOCK_AHEAD_JS)
    try:
        banner = page.locator("#clock-banner")
        expect(banner).to_be_visible(timeout=10_000)
        assert banner.inner_text() == (
            "This computer's clock is 42 s ahead of the server. Playing is blocked until it is within 10 s: "
            "turn on automatic time (NTP) and reload.")
        offset = page.evaluate("window.bwlive.clock.offsetMs")
        assert 40_000 < offset < 44_000
        page.click(f'button.stream[data-stream-id="{stream["id"]}"]')
        page.wait_for_timeout(1000)
        assert page.locator(".tile").count() == 0
    finally:
        context.close()


def test_browser_that_lost_its_key_explains_and_still_lists_streams(
        server: Server, start_camera, system_keys: SystemKeyPair, browser: Browser) -> None:
    stream, context, page = camera_and_console(server, start_camera, system_keys.link(server.url), browser,
                                               "Lea Lost")
    try:
        assert page.locator("#clock-banner").is_hidden()
        # site data cleared: the key store is gone
        page.evaluate("""() => new Promise((resolve, reject) => {
            const request = indexedDB.deleteDatabase('bwlive');
            request.onsuccess = resolve; request.onerror = reject; request.onblocked = resolve;
        })""")
        page.reload()
        page.evaluate("window.bwlive.ready")
        expect(page.locator("#banner")).to_have_text(NO_KEY)
        page.goto(server.url + "/web/settings.html")
        expect(page.locator("#browser-keys-none")).to_be_visible()
        assert page.locator("#browser-keys .thumbprint").count() == 0
        page.go_back()
        page.evaluate("window.bwlive.ready")
        item = page.locator(f'button.stream[data-stream-id="{stream["id"]}"]')
        expect(item).to_contain_text("Lea Lost")
        expect(item.locator(".stream-tag")).to_have_text("no key")
        item.click()
        tile = page.locator(f'.tile[data-stream-id="{stream["id"]}"]')
        expect(tile).to_have_attribute("data-error", "no-key")
        expect(tile.locator(".tile-message")).to_have_text(NO_KEY)

        # A password-protected link whose operator skips the passphrase: still no key,
        # and the link stays in the address bar so that a reload asks again.
        page.goto("about:blank")  # else only the fragment would change, without loading the page
        page.goto(system_keys.protected_link(server.url, PASSPHRASE))
        page.click("#passphrase button.quiet")
        page.evaluate("window.bwlive.ready")
        expect(page.locator("#banner")).to_have_text(NO_KEY)
        assert "#pkey=" in page.url
        page.reload()
        expect(page.locator("#passphrase-input")).to_be_visible()
    finally:
        context.close()
