"""Two systems sharing one key: the second system's key pair is imported from the
first's password-protected link with key (``bwlive system keys import``); one browser
profile holding that one key watches a camera of each. Real server processes, each with
its own data directory."""
from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from bwlive_rtc.crypto.system_key import SystemKeyPair
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Camera, Server
from tests.test_browser_keys import camera_thumbprint, cli, cli_thumbprint, signed_in, watch

PASSPHRASE = "one key for two systems"


@pytest.fixture(scope="module")
def systems(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server, Camera, Camera]]:
    first, second = tmp_path_factory.mktemp("system-a"), tmp_path_factory.mktemp("system-b")
    SystemKeyPair.generate().save(first / "keys")
    shown = cli("system", "keys", "show", "--keys-dir", str(first / "keys"), "--passphrase-stdin",
                stdin=PASSPHRASE + "\n")
    link = next(line.strip() for line in shown.splitlines() if "#pkey=" in line)
    cli("system", "keys", "import", link, "--keys-dir", str(second / "keys"), "--passphrase-stdin",
        stdin=PASSPHRASE + "\n")
    started: list[Server | Camera] = []
    try:
        server_a = Server(first, first / "keys")
        started.append(server_a)
        server_b = Server(second, second / "keys")
        started.append(server_b)
        camera_a = Camera(first, server_a.url, first / "keys", "Anna of A")
        started.append(camera_a)
        camera_b = Camera(second, server_b.url, second / "keys", "Bram of B")
        started.append(camera_b)
        camera_a.wait_for("streaming")
        camera_b.wait_for("streaming")
        yield server_a, server_b, camera_a, camera_b
    finally:
        for process in reversed(started):
            process.stop()


def test_one_key_watches_a_camera_of_each_system(systems, browser: Browser) -> None:
    server_a, server_b, camera_a, camera_b = systems
    keys_a, keys_b = server_a.data_dir.parent / "keys", server_b.data_dir.parent / "keys"
    thumbprint = cli_thumbprint(keys_a)
    assert cli_thumbprint(keys_b) == thumbprint
    assert server_a.get_json("/api/system")["thumbprint"] == server_b.get_json("/api/system")["thumbprint"] == thumbprint
    assert camera_thumbprint(camera_a) == camera_thumbprint(camera_b) == thumbprint
    stream_a = server_a.wait_for_stream("Anna of A")
    stream_b = server_b.wait_for_stream("Bram of B")
    assert stream_a["key_envelope"]["kid"] == stream_b["key_envelope"]["kid"]

    # One browser profile. Its key store is per web-client address, so the operator opens
    # the one link at each system's address; "localhost" keeps B's session cookie apart
    # from A's (cookies do not tell ports apart).
    url_b = server_b.url.replace("127.0.0.1", "localhost")
    link = SystemKeyPair.load(keys_a).link(server_a.url)
    context, page_a = signed_in(browser, server_a.url)
    try:
        assert context.request.post(f"{url_b}/api/session", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).ok
        page_b = context.new_page()
        for page, base in ((page_a, server_a.url), (page_b, url_b)):
            page.goto(base + "/#" + link.split("#")[1])
            page.evaluate("window.bwlive.ready")
            assert page.locator("#keys .thumbprint").all_text_contents() == [thumbprint]
        watch(page_a, stream_a["id"])
        watch(page_b, stream_b["id"])
        assert not re.search("Anna", page_b.locator("#streams").inner_text())  # each system shows its own
    finally:
        context.close()
