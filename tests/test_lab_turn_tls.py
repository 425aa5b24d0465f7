"""TURN over TLS in the lab (issue 12, part 4): where only TLS to the TURN server gets
through (UDP blocked everywhere, the server handing out a ``turns:`` URL only), the camera
relays its stream through coturn over TLS on 5349, and refuses a TURN server whose
certificate it does not trust."""
from __future__ import annotations

import datetime
import ipaddress
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from playwright.sync_api import Browser

from bwlive_rtc.crypto.system_key import SystemKeyPair
from tests.chromium import chromium_path, launch
from tests.lab_console import open_lab_console, playback, watch
from tests.netlab import Lab, coturn
from tests.processes import Camera, Server

TURN_SECRET = secrets.token_hex(16)


def _self_signed(address: str, directory: Path) -> tuple[Path, Path]:
    """A certificate for ``address`` (an IP SAN), and its key, as a TURN operator's."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bwlive lab TURN")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "turn-cert.pem", directory / "turn-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture(scope="module")
def turn_certificate(lab: Lab, workdir: Path) -> tuple[Path, Path]:
    return _self_signed(lab.address("turn"), workdir)


@pytest.fixture(scope="module")
def lab_server_options(lab: Lab, workdir: Path) -> tuple[str, ...]:
    secret_file = workdir / "turn-secret"
    secret_file.write_text(TURN_SECRET + "\n")
    return ("--ice-server", f"turns:{lab.address('turn')}:5349?transport=tcp", "--turn-secret-file", str(secret_file))


@pytest.fixture(scope="module")
def turn_tls(lab: Lab, workdir: Path, turn_certificate: tuple[Path, Path]) -> Iterator[subprocess.Popen[str]]:
    with coturn(lab, workdir / "coturn", TURN_SECRET, *turn_certificate) as proc:
        yield proc


def _tls_to_turn(lab: Lab) -> list[str]:
    """The camera's established TCP connections to coturn's TLS port."""
    return [line for line in lab.run("turn", "ss", "-Htn", "state", "established").splitlines()
            if f"{lab.address('turn')}:5349" in line and lab.address("camera") in line]


def test_camera_streams_through_turn_over_tls_when_only_tls_gets_through(
        lab: Lab, turn_tls, turn_certificate: tuple[Path, Path], lab_server: Server, lab_browser: Browser,
        system_keys: SystemKeyPair, workdir: Path) -> None:
    lab.block_udp("camera", "server")
    lab.block_udp("camera", "turn")
    trusting = [*lab.prefix("camera"), "env", f"SSL_CERT_FILE={turn_certificate[0]}"]  # the operator's CA
    camera = Camera(workdir, lab_server.url, workdir / "keys", "Behind TLS Only", prefix=trusting)
    try:
        camera.wait_for("streaming", timeout=45)
        assert "turns:" in camera.wait_for("ICE servers: (.*)").group(1)
        assert _tls_to_turn(lab), lab.run("turn", "ss", "-Htn", "state", "established")
        stream = lab_server.wait_for_stream("Behind TLS Only")
        context, page = open_lab_console(lab_browser, lab_server, system_keys.link(lab_server.url))
        try:
            watch(page, stream["id"])
            frames = [s["frame"] for s in playback(page, 3) if s["frame"] is not None]
            assert len(frames) >= 10 and frames[-1] - frames[0] >= 40, frames  # relayed frames play
        finally:
            context.close()
    finally:
        camera.stop()
        lab.clear("block camera server")
        lab.clear("block camera turn")


def test_a_turn_server_with_an_untrusted_certificate_is_not_used(
        lab: Lab, turn_tls, lab_server: Server, workdir: Path) -> None:
    lab.block_udp("camera", "server")
    lab.block_udp("camera", "turn")
    camera = Camera(workdir, lab_server.url, workdir / "keys", "Untrusting Camera", prefix=lab.prefix("camera"))
    try:
        camera.wait_for("ICE servers: .*turns:", timeout=45)
        with pytest.raises(AssertionError):
            camera.wait_for("streaming", timeout=15)
        assert not _tls_to_turn(lab)  # the handshake failed: no relay was allocated over it
    finally:
        camera.stop()
        lab.clear("block camera server")
        lab.clear("block camera turn")


def test_chromium_relays_over_turn_tls_when_only_tls_gets_through(
        lab: Lab, turn_tls, turn_certificate: tuple[Path, Path], lab_server: Server, lab_playwright,
        system_keys: SystemKeyPair, workdir: Path, tmp_path: Path) -> None:
    """The viewer's network lets only TLS out too: Chromium relays through coturn's TLS
    port (this lab's certificate is self-signed, so this Chromium is told to accept it:
    a deployment uses a certificate of a public CA)."""
    trusting = [*lab.prefix("camera"), "env", f"SSL_CERT_FILE={turn_certificate[0]}"]
    camera = Camera(workdir, lab_server.url, workdir / "keys", "Both Behind TLS", prefix=trusting)
    lab.block_udp("camera", "server")
    lab.block_udp("camera", "turn")
    lab.block_udp("viewer", "server")
    lab.block_udp("viewer", "turn")
    chromium = launch(lab_playwright, lab.wrapper("viewer", chromium_path(), tmp_path / "chromium-on-viewer"),
                      (f"--unsafely-treat-insecure-origin-as-secure={lab_server.url}", "--ignore-certificate-errors"))
    try:
        camera.wait_for("streaming", timeout=45)
        stream = lab_server.wait_for_stream("Both Behind TLS")
        context, page = open_lab_console(chromium, lab_server, system_keys.link(lab_server.url))
        try:
            watch(page, stream["id"])
            frames = [s["frame"] for s in playback(page, 3) if s["frame"] is not None]
            assert len(frames) >= 10 and frames[-1] - frames[0] >= 40, frames
            relay = page.evaluate("""async () => {
                const stats = await window.bwliveLabPeers.at(-1).getStats();
                const pair = [...stats.values()].find(
                    (s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
                const local = pair && stats.get(pair.localCandidateId);
                return local && [local.candidateType, local.relayProtocol];
            }""")
            assert relay == ["relay", "tls"], relay
        finally:
            context.close()
    finally:
        chromium.close()
        camera.stop()
        for rule in ("block camera server", "block camera turn", "block viewer server", "block viewer turn"):
            lab.clear(rule)
