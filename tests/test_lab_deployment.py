"""Deployable networking in the lab (issue 12, part 4): a media port range, an announced
address behind a 1:1 NAT, and TURN (coturn) when direct UDP from the camera is blocked."""
from __future__ import annotations

import re
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.signaling.ice_servers import turn_credential
from tests.lab_console import open_lab_console, playback, watch
from tests.netlab import SERVER_NAT, Lab, coturn
from tests.processes import Camera, Server

MEDIA_PORTS = (41000, 41099)
TURN_SECRET = secrets.token_hex(16)


@pytest.fixture(scope="module")
def turn_secret_file(workdir: Path) -> Path:
    path = workdir / "turn-secret"
    path.write_text(TURN_SECRET + "\n")
    return path


@pytest.fixture(scope="module")
def lab_server_options(lab: Lab, turn_secret_file: Path) -> tuple[str, ...]:
    turn = lab.address("turn")
    return ("--media-ports", "{}-{}".format(*MEDIA_PORTS), "--announce-address", SERVER_NAT,
            "--ice-server", f"turn:{turn}:3478?transport=udp", "--ice-server", f"turn:{turn}:3478?transport=tcp",
            "--turn-secret-file", str(turn_secret_file))


@pytest.fixture(scope="module")
def turn(lab: Lab, workdir: Path) -> Iterator[subprocess.Popen[str]]:
    """Debian's coturn on the lab's turn host (UDP and TCP on 3478)."""
    with coturn(lab, workdir / "coturn", TURN_SECRET) as proc:
        yield proc


def _options(url: str, headers: dict[str, str]) -> tuple[int, list[str]]:
    request = urllib.request.Request(url, headers=headers, method="OPTIONS")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers.get_all("Link") or []
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get_all("Link") or []


def test_camera_streams_through_turn_over_tcp_when_udp_is_blocked(
        lab: Lab, turn, lab_server: Server, lab_browser: Browser, system_keys: SystemKeyPair, workdir: Path) -> None:
    """The camera relays over TCP (aiortc takes the TURN/TCP link first), Chromium over
    UDP to coturn: both only had the servers from the WHIP/WHEP Link headers."""
    lab.block_udp("camera", "server")
    lab.block_udp("viewer", "server")
    camera = Camera(workdir, lab_server.url, workdir / "keys", "Behind Firewall", prefix=lab.prefix("camera"))
    try:
        camera.wait_for("streaming", timeout=45)
        assert "transport=tcp" in camera.wait_for("ICE servers: (.*)").group(1)
        relayed = [line for line in lab.run("turn", "ss", "-Htn", "state", "established").splitlines()
                   if f"{lab.address('turn')}:3478" in line]
        assert any(lab.address("camera") in line for line in relayed), relayed  # the camera's TCP to coturn
        stream = lab_server.wait_for_stream("Behind Firewall")
        context, page = open_lab_console(lab_browser, lab_server, system_keys.link(lab_server.url))
        try:
            with page.expect_response(lambda r: r.request.method == "POST" and "/whep/" in r.url) as answered:
                watch(page, stream["id"])
            links = answered.value.headers_array()
            ice_links = [h["value"] for h in links if h["name"].lower() == "link"]
            assert any('rel="ice-server"' in link and "credential=" in link for link in ice_links), ice_links
            frames = [s["frame"] for s in playback(page, 3) if s["frame"] is not None]
            assert len(frames) >= 10 and frames[-1] - frames[0] >= 40, frames
            pair = page.evaluate("""async () => {
                const stats = await window.bwliveLabPeers.at(-1).getStats();
                const pair = [...stats.values()].find(
                    (s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
                return pair && stats.get(pair.localCandidateId).address;
            }""")
            assert pair == lab.address("turn"), pair  # Chromium's media goes through coturn too
            answer = page.evaluate("window.bwliveLabPeers.at(-1).remoteDescription.sdp")
            candidates = re.findall(r"a=candidate:\S+ \d+ udp \d+ (\S+) (\d+) typ host", answer)
            assert candidates and all(address == SERVER_NAT for address, _ in candidates), answer
            assert all(MEDIA_PORTS[0] <= int(port) <= MEDIA_PORTS[1] for _, port in candidates), candidates
            for line in lab.run("server", "ss", "-Huan").splitlines():  # every UDP socket of the server
                port = int(line.split()[3].rsplit(":", 1)[1])
                assert MEDIA_PORTS[0] <= port <= MEDIA_PORTS[1], line
        finally:
            context.close()
    finally:
        camera.stop()
        lab.clear("block camera server")
        lab.clear("block viewer server")


def test_ice_servers_only_for_callers_with_credentials(lab: Lab, lab_server: Server, workdir: Path) -> None:
    camera = Camera(workdir, lab_server.url, workdir / "keys", "Link Checker", prefix=lab.prefix("camera"))
    try:
        camera.wait_for("streaming", timeout=45)
        stream = lab_server.wait_for_stream("Link Checker")
        base = lab_server.url
        status, links = lab.call("viewer", _options, f"{base}/whep/{stream['id']}", {"Cookie": lab_server.cookie})
        assert status == 204 and len(links) == 2, (status, links)
        username, password = re.search(r'username="([^"]+)"; credential="([^"]+)"', links[0]).groups()
        expiry, _who = username.split(":", 1)
        assert turn_credential(TURN_SECRET, _who, int(expiry) - 24 * 3600, 24 * 3600) == (username, password)
        for url, headers, expected in [
            (f"{base}/whep/{stream['id']}", {}, 401),  # no session
            (f"{base}/whep/not-a-stream", {"Cookie": lab_server.cookie}, 404),
            (f"{base}/whip", {}, 401),  # no camera credential
            (f"{base}/whip", {"Authorization": "Bearer forged"}, 403),
        ]:
            status, links = lab.call("viewer", _options, url, headers)
            assert (status, links) == (expected, []), (url, status, links)
    finally:
        camera.stop()


@pytest.mark.parametrize("option, words", [
    (["--media-ports", "5-3"], "is not a port range"),
    (["--media-ports", "40000"], "is not a port range"),
    (["--announce-address", "nonsense"], "is not an IP address"),
    (["--ice-server", "http://turn.example.org"], "is not a STUN or TURN URL"),
    (["--ice-server", "turn:turn.example.org:3478"], "needs --turn-secret-file"),
])
def test_bad_network_options_are_a_sentence(tmp_path: Path, option: list[str], words: str) -> None:
    done = subprocess.run([sys.executable, "-m", "bwlive_rtc", "serve", "--data-dir", str(tmp_path), *option],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode != 0 and words in done.stderr and "Traceback" not in done.stderr, done.stderr
