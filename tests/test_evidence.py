"""Evidence packages (issue 11 part 5): a real recording, made by a real camera publishing
over WebRTC, exported by the command line and the API, verifies offline with only the
system's public signing key or its thumbprint; each kind of tampering fails naming what is
wrong; the API's routes are scoped to the organisation and to operators."""
from __future__ import annotations

import io
import json
import re
import struct
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from bwlive_rtc.crypto.signing import MANIFEST, sign_token, token_payload
from bwlive_rtc.crypto.system_signing import SigningKeyPair, SigningPublicKey
from bwlive_rtc.evidence.package import INDEX, MANIFEST_FILE, Package, system_key_by_thumbprint, verify_package
from bwlive_rtc.evidence.verify import EvidenceError
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.recordings.rtplog import BLOCK, MAGIC, RECORD, RecordKind
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, TEST_ORGANISATION_ID, Server, sign_in_cookie

CAMERA = "Evi Dence"
SERIAL = "SN-EVI-DENCE"


def bwlive(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bwlive_rtc", *map(str, args)], capture_output=True, text=True,
                          timeout=120)


def http(server: Server, path: str, cookie: str | None) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(server.url + path, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read(), dict(refused.headers)


@pytest.fixture(scope="module")
def recording(server: Server, start_camera: Callable) -> dict:
    """A complete recording of a real camera's stream (about 9 s, so four segments or more)."""
    camera = start_camera(CAMERA, "--duration", "9")
    camera.proc.wait(40)
    for _ in range(200):
        done = [r for r in server.get_json("/api/recordings?camera=Evi%20Dence")["recordings"] if r["state"] == "complete"]
        if done:
            return server.get_json(f"/api/recordings/{done[0]['id']}")
        camera.wait_for("", timeout=0.1)
    raise AssertionError("no complete recording")


@pytest.fixture(scope="module")
def signing_key(workdir: Path) -> SigningPublicKey:
    return SigningPublicKey.load(workdir / "keys")


@pytest.fixture(scope="module")
def package(server: Server, recording: dict, workdir: Path) -> Path:
    """The recording's package as the API sends it to an operator."""
    status, body, headers = http(server, f"/api/recordings/{recording['id']}/evidence", server.cookie)
    assert status == 200, server.output[-3000:]
    assert headers["Content-Type"] == "application/zip"
    assert f'filename="bwlive-evidence-{recording["id"]}.zip"' in headers["Content-Disposition"]
    path = workdir / "evidence-api.zip"
    path.write_bytes(body)
    return path


def test_an_exported_package_verifies_offline_with_the_key_or_its_thumbprint(
        server: Server, recording: dict, package: Path, signing_key: SigningPublicKey, workdir: Path) -> None:
    assert len(recording["segments"]) >= 4
    # The command line's export, beside the running server, holds the same segments byte for byte.
    exported = workdir / "evidence-cli.zip"
    done = bwlive("evidence", "export", recording["id"], "--out", exported, "--data-dir", server.data_dir)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(exported) as cli, zipfile.ZipFile(package) as api:
        segments = [name for name in api.namelist() if name.startswith("segments/")]
        assert segments == [f"segments/{s['seq']:06d}.rtp" for s in recording["segments"]]
        stored = server.data_dir / "recordings" / recording["id"]
        assert all(api.read(name) == cli.read(name) == (stored / name.split("/")[1]).read_bytes() for name in segments)
        assert api.read(MANIFEST_FILE).decode() == recording["manifest"]
        assert b"bwlive evidence verify" in api.read("README.txt")
        audit = [json.loads(line) for line in api.read("audit.jsonl").splitlines()]
        assert [entry["action"] for entry in audit] == ["evidence exported"]  # its own export, by the admin
        assert audit[0]["user_name"] == "Ada Admin" and audit[0]["details"]["recording"] == recording["id"]
        cli_audit = [json.loads(line)["action"] for line in cli.read("audit.jsonl").splitlines()]
        assert cli_audit == ["evidence exported", "evidence exported"]  # the API's, then its own
        assert len(cli.read("checkpoints.jsonl").splitlines()) >= 10  # two a second
        assert len(cli.read("positions.jsonl").splitlines()) >= 5  # one a second
    for args in (("--thumbprint", signing_key.thumbprint), ("--signing-key", workdir / "keys" / "system-signing-public.pem")):
        for path in (package, exported):
            done = bwlive("evidence", "verify", path, *args)
            assert done.returncode == 0, done.stdout + done.stderr
            assert done.stdout.startswith("Verified: ") and f"as camera {SERIAL} ({CAMERA})" in done.stdout, done.stdout
    verified = verify_package(Package.open(package), signing_key)
    assert verified.units > 300 and verified.checkpoints >= 10 and verified.unsigned_tail < 60
    assert verified.closed and verified.sentence().endswith("; complete: the camera closed the stream.")


def tampered(package: Path, out: Path, change: Callable[[dict[str, bytes], dict], None]) -> Package:
    """A copy of ``package`` with ``change(files, index)`` applied."""
    with zipfile.ZipFile(package) as source:
        files = {name: source.read(name) for name in source.namelist()}
    index = json.loads(files[INDEX])
    change(files, index)
    files[INDEX] = json.dumps(index).encode()
    with zipfile.ZipFile(out, "w") as target:
        for name, data in files.items():
            target.writestr(name, data)
    return Package.open(out)


def flip_video_byte(log: bytes, fix_checksum: bool) -> bytes:
    """A segment log with one byte of a video packet's ciphertext flipped; with
    ``fix_checksum`` its block's CRC is made to match again (as an attacker would)."""
    data = bytearray(log)
    (length,) = struct.unpack_from(">I", data, len(MAGIC))
    offset = len(MAGIC) + 4 + length
    while offset < len(data):
        size, _ = BLOCK.unpack_from(data, offset)
        start, end = offset + BLOCK.size, offset + BLOCK.size + size
        position = start
        while position < end:
            kind, _, body_length = RECORD.unpack_from(data, position)
            body = position + RECORD.size
            if kind == RecordKind.VIDEO and body_length > 400:
                data[body + 300] ^= 0x01
                if fix_checksum:
                    struct.pack_into(">I", data, offset + 4, zlib.crc32(bytes(data[start:end])))
                return bytes(data)
            position = body + body_length
        offset = end
    raise AssertionError("no video packet to alter")


def reason(package: Package, key: SigningPublicKey) -> str:
    with pytest.raises(EvidenceError) as failed:
        verify_package(package, key)
    return str(failed.value)


def test_tampering_fails_naming_the_first_thing_wrong(package: Path, signing_key: SigningPublicKey, tmp_path: Path) -> None:
    def altered(change: Callable[[dict[str, bytes], dict], None]) -> str:
        return reason(tampered(package, tmp_path / "altered.zip", change), signing_key)

    def flip(fix_checksum: bool) -> Callable[[dict[str, bytes], dict], None]:
        def change(files: dict[str, bytes], index: dict) -> None:
            files["segments/000001.rtp"] = flip_video_byte(files["segments/000001.rtp"], fix_checksum)
        return change

    assert re.fullmatch(rf"Segment 1: video frame \d+ is not as camera {SERIAL} signed it \(checkpoint \d+ lists "
                        r"another hash\)\.", altered(flip(fix_checksum=True)))
    assert re.fullmatch(r"Segment file segments/000001\.rtp is damaged: its bytes from offset \d+ on fail their checksum\.",
                        altered(flip(fix_checksum=False)))

    def drop(files: dict[str, bytes], index: dict) -> None:
        del files[index["segments"].pop(2)["file"]]
    assert altered(drop) == "Segment 2 is missing: segment 1 is followed by segment 3."

    def cut_short(files: dict[str, bytes], index: dict) -> None:
        """The last segment dropped (and its lines of the lists): what is left is as signed,
        but no longer closed by the camera."""
        last = index["segments"].pop()
        del files[last["file"]]
        for name in ("checkpoints.jsonl", "positions.jsonl"):
            files[name] = b"".join(line for line in files[name].splitlines(keepends=True)
                                   if json.loads(line)["segment"] != last["seq"])
    shortened = verify_package(tampered(package, tmp_path / "short.zip", cut_short), signing_key)
    assert not shortened.closed and "the camera did not close the stream (it was lost, or the recording was cut " \
        "short after" in shortened.sentence()

    def swap(files: dict[str, bytes], index: dict) -> None:
        segments = index["segments"]
        segments[1], segments[2] = segments[2], segments[1]
    assert altered(swap) == "Segments are out of order: segment 2 comes where segment 1 belongs."

    def drop_and_renumber(files: dict[str, bytes], index: dict) -> None:
        """The segment numbers are not signed: renumbered after a drop, the checkpoints still tell."""
        del files[index["segments"].pop(2)["file"]]
        for segment in index["segments"][2:]:
            log = files[segment["file"]]
            files[segment["file"]] = log.replace(b'"seq": %d' % segment["seq"], b'"seq": %d' % (segment["seq"] - 1), 1)
    assert re.fullmatch(r"Segment 2: checkpoint \d+ where checkpoint \d+ was due \(the chain of checkpoints is broken\)\.",
                        altered(drop_and_renumber))

    def forge_manifest(files: dict[str, bytes], index: dict) -> None:
        """A manifest naming the same camera and certificate, signed by a key that is not the camera's."""
        _, payload = token_payload(files[MANIFEST_FILE].decode(), MANIFEST)
        files[MANIFEST_FILE] = sign_token(SigningKeyPair.generate().private_key, MANIFEST, payload).encode()
    assert altered(forge_manifest) == "The stream manifest does not verify: the manifest signature is not valid."

    genuine = Package.open(package)
    other = SigningKeyPair.generate().public
    assert reason(genuine, other) == (f"The camera's certificate was issued by system key {signing_key.thumbprint}, "
                                      f"not by the system key {other.thumbprint} it is checked against.")
    with pytest.raises(EvidenceError, match="not the thumbprint given: it is not your system's key"):
        system_key_by_thumbprint(genuine, other.thumbprint)


def test_the_command_line_names_what_is_wrong_and_exits_non_zero(
        package: Path, signing_key: SigningPublicKey, tmp_path: Path) -> None:
    def drop(files: dict[str, bytes], index: dict) -> None:
        del files[index["segments"].pop(1)["file"]]
    tampered(package, tmp_path / "dropped.zip", drop)
    done = bwlive("evidence", "verify", tmp_path / "dropped.zip", "--thumbprint", signing_key.thumbprint)
    assert (done.returncode, done.stdout) == (1, "NOT VERIFIED: Segment 1 is missing: segment 0 is followed by segment 2.\n")
    other = SigningKeyPair.generate().public
    done = bwlive("evidence", "verify", package, "--thumbprint", other.thumbprint)
    assert done.returncode == 1 and "not the thumbprint given" in done.stdout
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    done = bwlive("evidence", "verify", tmp_path / "junk.zip", "--thumbprint", other.thumbprint)
    assert done.returncode == 1 and "is not an evidence package" in done.stdout


def test_the_recordings_page_shows_the_verification_and_downloads_the_package(
        server: Server, recording: dict, browser: Browser, signing_key: SigningPublicKey, tmp_path: Path) -> None:
    context = browser.new_context(accept_downloads=True)
    try:
        response = context.request.post(f"{server.url}/api/session", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        assert response.ok, response.text()
        page = context.new_page()
        page.goto(f"{server.url}/web/recordings.html")
        page.evaluate("window.bwlive.ready")
        page.click(f'button.recording[data-recording-id="{recording["id"]}"]')
        page.wait_for_selector('#evidence[data-verified="yes"]', timeout=30_000)
        shown = page.locator("#evidence-result").inner_text()
        assert shown.startswith("✓ Verified: ") and f"as camera {SERIAL} ({CAMERA})" in shown, shown
        with page.expect_download() as downloading:
            page.click("#evidence-download")
        saved = tmp_path / downloading.value.suggested_filename
        downloading.value.save_as(saved)
    finally:
        context.close()
    assert saved.name == f"bwlive-evidence-{recording['id']}.zip"
    assert verify_package(Package.open(saved), signing_key).serial == SERIAL


def test_the_routes_are_scoped_to_the_organisation_and_to_operators(server: Server, recording: dict) -> None:
    from bwlive_rtc.auth.accounts import Accounts  # the data directory's accounts, beside the running server
    from bwlive_rtc.kernel.access import Role
    from bwlive_rtc.kernel.clock import SystemClock
    from bwlive_rtc.storage.database import Database

    database = Database(Settings(data_dir=server.data_dir).database)
    try:
        accounts = Accounts(database.db, SystemClock())
        organisation = database.db.value(TEST_ORGANISATION_ID)
        viewer = accounts.create_user("evidence-viewer@example.test", "Vi Ewer", ADMIN_PASSWORD)
        accounts.add_member(viewer.id, organisation, Role.VIEWER)
        operator = accounts.create_user("evidence-operator@example.test", "Op Erator", ADMIN_PASSWORD)
        accounts.add_member(operator.id, organisation, Role.OPERATOR)
        outsider = accounts.create_user("evidence@other.test", "Out Sider", ADMIN_PASSWORD)
        accounts.create_organisation("Evidence other organisation", outsider)
    finally:
        database.close()
    cookies = {who: sign_in_cookie(server.url, f"{who}", ADMIN_PASSWORD) for who in
               ("evidence-viewer@example.test", "evidence-operator@example.test", "evidence@other.test")}
    viewer_cookie, operator_cookie, outsider_cookie = cookies.values()
    export, verification = (f"/api/recordings/{recording['id']}/{what}" for what in ("evidence", "verification"))

    status, body, _ = http(server, verification, viewer_cookie)
    result = json.loads(body)
    assert status == 200 and result["verified"] is True, result
    assert result["sentence"].startswith("Verified: ") and result["summary"]["serial"] == SERIAL
    status, body, _ = http(server, export, operator_cookie)
    assert status == 200 and zipfile.ZipFile(io.BytesIO(body)).testzip() is None
    for path, cookie, expected, sentence in [
        (export, viewer_cookie, 403, "operator"),  # viewers watch, operators and admins export
        (export, None, 401, "sign in"),
        (verification, None, 401, "sign in"),
        (export, outsider_cookie, 404, f"no recording {recording['id']!r}"),  # another organisation's id
        (verification, outsider_cookie, 404, f"no recording {recording['id']!r}"),
        ("/api/recordings/nope/evidence", operator_cookie, 404, "no recording 'nope'"),
        ("/api/recordings/%FF%FE/evidence", operator_cookie, 400, "recording_id"),
        (f"/api/recordings/{'x' * 5000}/verification", operator_cookie, 400, "recording_id"),
    ]:
        status, body, _ = http(server, path, cookie)
        assert status == expected and sentence in json.loads(body)["error"], (path, status, body)
    # Every export is in the audit log, by whom.
    audit = server.get_json("/api/organisation/audit?action=evidence%20exported")
    assert "Op Erator" in [entry["user_name"] for entry in audit["entries"]]

    # Evidence altered in the store since shows at the next check, naming what.
    stored = server.data_dir / "recordings" / recording["id"] / "000001.rtp"
    genuine = stored.read_bytes()
    stored.write_bytes(flip_video_byte(genuine, fix_checksum=True))
    try:
        status, body, _ = http(server, verification, viewer_cookie)
    finally:
        stored.write_bytes(genuine)
    result = json.loads(body)
    assert status == 200 and result["verified"] is False and result["summary"] is None
    assert re.fullmatch(rf"Segment 1: video frame \d+ is not as camera {SERIAL} signed it \(checkpoint \d+ lists "
                        r"another hash\)\.", result["sentence"]), result
