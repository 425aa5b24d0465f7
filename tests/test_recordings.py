"""Recordings: every stream is kept as ciphertext with its timing, in segment logs served
as WebM, and plays back (decrypted by the key holder) with the burned-in frames in order."""
from __future__ import annotations

import asyncio
import io
import json
import os
import struct
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import av

from bwlive_rtc.auth.service import AUTH
from bwlive_rtc.camera.framecode import read_code
from bwlive_rtc.crypto.b64 import b64url_encode
from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.sframe import FrameDecryptor, Kind
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.kernel.access import Role
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.recordings.catalog import Catalog
from bwlive_rtc.recordings.container import FrameKind, RecordedFrame, SegmentWriter, positions_path, read_media
from bwlive_rtc.recordings.recovery import recover
from bwlive_rtc.recordings.storage import LocalStore
from bwlive_rtc.server import start_server
from bwlive_rtc.storage.database import Database
from bwlive_rtc.viewer.session import ApiClient
from tests.postgres import database_of, fresh_database, stored_metadata
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Camera, Server, bootstrap_admin
from tests.test_blindness import decodes_to_a_readable_picture


def parse_frames(body: bytes) -> list[RecordedFrame]:
    """The player's wire form (docs/RECORDINGS.md) back into frames."""
    frames, offset = [], 0
    while offset < len(body):
        kind, flags, ms, length = struct.unpack_from(">BBII", body, offset)
        offset += 10
        frames.append(RecordedFrame(FrameKind(kind), ms, bool(flags & 1), body[offset : offset + length]))
        offset += length
    return frames


async def fetch_recording(api: ApiClient, recording_id: str) -> tuple[dict, list[RecordedFrame]]:
    """Metadata and every frame of a recording, over the HTTP API."""
    async with api.request("GET", f"/api/recordings/{recording_id}") as response:
        assert response.status == 200, await response.text()
        recording = await response.json()
    frames: list[RecordedFrame] = []
    for segment in recording["segments"]:
        async with api.request("GET", f"/api/recordings/{recording_id}/segments/{segment['seq']}") as response:
            assert response.status == 200, await response.text()
            frames += parse_frames(await response.read())
    return recording, frames


@dataclass
class Playback:
    codes: list[tuple[int, int]] = field(default_factory=list)  # (ms, burned-in frame number)
    last_capture_ms: int = 0  # the last picture's burned-in capture time (ms, mod 2^32)
    audio: int = 0  # decrypted audio frames
    positions: list[dict] = field(default_factory=list)


def played_back(recording: dict, frames: list[RecordedFrame], keys: SystemKeyPair) -> Playback:
    """Decrypt and decode like the web player."""
    decryptor = FrameDecryptor(KeyEnvelope.from_json(recording["key_envelope"]).open(keys))
    decoder = av.CodecContext.create("libvpx", "r")
    playback = Playback()
    for frame in frames:
        plain = decryptor.decrypt({FrameKind.VIDEO: Kind.VIDEO, FrameKind.AUDIO: Kind.AUDIO,
                                   FrameKind.DATA: Kind.CAMERA_DATA}[frame.kind], frame.data)
        if frame.kind is FrameKind.VIDEO:
            for picture in decoder.decode(av.Packet(plain)):
                code = read_code(picture.to_ndarray()[: picture.height])
                if code is not None:
                    playback.codes.append((frame.ms, code[0]))
                    playback.last_capture_ms = code[1]
        elif frame.kind is FrameKind.AUDIO:
            playback.audio += 1
        elif (message := json.loads(plain)).get("type") == "position":  # beside the camera's status messages
            playback.positions.append(message)
    return playback


async def wait_for_recording(api: ApiClient, camera: str, state: str = "complete", timeout: float = 20) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        async with api.request("GET", "/api/recordings", params={"camera": camera}) as response:
            recordings = (await response.json())["recordings"]
        if recordings and recordings[0]["state"] == state:
            return recordings[0]
        await asyncio.sleep(0.2)
    raise AssertionError(f"no {state} recording of {camera!r}")


def assert_in_order(codes: list[tuple[int, int]], at_least: int) -> None:
    numbers = [number for _, number in codes]
    assert len(numbers) >= at_least, f"only {len(numbers)} readable pictures"
    assert numbers == sorted(set(numbers)), "frames out of order or repeated"
    times = [ms for ms, _ in codes]
    assert times == sorted(times)


async def test_stream_is_recorded_as_ciphertext_and_plays_back_in_order(tmp_path: Path, system_keys: SystemKeyPair) -> None:
    keys_dir = tmp_path / "keys"
    system_keys.save(keys_dir)
    bootstrap_admin(tmp_path / "data", keys_dir)
    runner, port = await start_server(Settings(port=0, keys_dir=keys_dir, data_dir=tmp_path / "data",
                                               database_url=database_of(tmp_path / "data")))
    url = f"http://127.0.0.1:{port}"
    api = await ApiClient.signed_in(url, ADMIN_EMAIL, ADMIN_PASSWORD)
    try:
        camera = Camera(tmp_path, url, keys_dir, "Rec Order", "--duration", "5")
        await asyncio.to_thread(camera.wait_for, "streaming")
        await asyncio.to_thread(camera.proc.wait, 30)
        listed = await wait_for_recording(api, "Rec Order")
        recording, frames = await fetch_recording(api, listed["id"])
        for path, status, sentence in [
            ("/api/recordings/nope", 404, "no recording 'nope'"),
            (f"/api/recordings/{listed['id']}/segments/x", 400, "whole number"),
            (f"/api/recordings/{listed['id']}/segments/²", 400, "whole number in ASCII digits"),
            (f"/api/recordings/{listed['id']}/segments/{'9' * 4000}", 400, "seq: "),
            (f"/api/recordings/{listed['id']}/segments/999/webm", 404, "has no segment 999"),
        ]:
            async with api.request("GET", path) as response:
                assert response.status == status and sentence in (await response.json())["error"]
        webm_files = []
        for segment in recording["segments"]:
            async with api.request("GET", f"/api/recordings/{listed['id']}/segments/{segment['seq']}/webm") as response:
                assert response.content_type == "video/webm"
                webm_files.append(await response.read())
        # A viewer of the organisation may play it back; another organisation sees nothing of it.
        accounts = runner.app[AUTH].accounts
        viewer = accounts.create_user("viewer@example.test", "Vi Ewer", ADMIN_PASSWORD)
        accounts.add_member(viewer.id, api.session["organisation"]["id"], Role.VIEWER)
        outsider = accounts.create_user("admin@other.test", "Out Sider", ADMIN_PASSWORD)
        accounts.create_organisation("Other organisation", outsider)
        for email, visible in (("viewer@example.test", True), ("admin@other.test", False)):
            client = await ApiClient.signed_in(url, email, ADMIN_PASSWORD)
            try:
                async with client.request("GET", "/api/recordings") as response:
                    assert [r["id"] for r in (await response.json())["recordings"]] == ([listed["id"]] if visible else [])
                async with client.request("GET", f"/api/recordings/{listed['id']}/segments/0") as response:
                    assert response.status == (200 if visible else 404)
            finally:
                await client.close()
    finally:
        await api.close()
        await runner.cleanup()

    assert recording["camera"] == "Rec Order" and recording["state"] == "complete"
    assert 3500 <= recording["duration_ms"] <= 6500, recording["duration_ms"]
    assert len(recording["segments"]) >= 2  # written in segments of about two seconds
    logs = sorted((tmp_path / "data" / "recordings" / recording["id"]).iterdir())
    assert [p.name for p in logs] == [f"{s['seq']:06d}.rtp" for s in recording["segments"]]  # one log per segment
    assert recording["size"] == sum(p.stat().st_size for p in logs)

    # The segments are served as standard WebM holding the camera's ciphertext, undecodable as such ...
    with av.open(io.BytesIO(webm_files[0]), options={"fflags": "+noparse"}) as container:
        assert [s.codec_context.name for s in container.streams] == ["vp8", "opus"]
        assert json.loads(container.metadata["BWLIVE_KEY_ENVELOPE"]) == recording["key_envelope"]
        assert container.metadata["BWLIVE_CAMERA"] == "Rec Order"
    stored = [f for data in webm_files for f in read_media(data)]
    def in_time_order(frames: list[RecordedFrame]) -> list[RecordedFrame]:
        return sorted(frames, key=lambda f: (f.ms, f.kind, f.data))

    assert in_time_order(stored) == in_time_order([f for f in frames if f.kind is not FrameKind.DATA])  # the player's
    video = [f.data for f in stored if f.kind is FrameKind.VIDEO]
    assert len(video) > 100
    assert not decodes_to_a_readable_picture(video)
    assert stored[0].kind is FrameKind.VIDEO and stored[0].keyframe  # playable from the start
    # ... and no key is stored next to them.
    secret = KeyEnvelope.from_json(recording["key_envelope"]).open(system_keys).secret
    for data in [*(path.read_bytes() for path in (tmp_path / "data").rglob("*") if path.is_file()),
                 stored_metadata(tmp_path / "data")]:
        assert secret not in data and b64url_encode(secret).encode() not in data

    # With the key, the API's frames play back: frames in order, audio, positions.
    playback = played_back(recording, frames, system_keys)
    assert_in_order(playback.codes, at_least=100)
    assert playback.codes[-1][0] - playback.codes[0][0] >= 3000
    assert playback.audio > 150  # 50 per second
    assert len(playback.positions) >= 3 and all("lat" in p for p in playback.positions)


async def test_kill_9_mid_recording_keeps_all_but_the_last_seconds_once(tmp_path: Path, system_keys: SystemKeyPair) -> None:
    system_keys.save(tmp_path / "keys")
    server = Server(tmp_path, tmp_path / "keys")
    camera = Camera(tmp_path, server.url, tmp_path / "keys", "Crash Test")
    try:
        await asyncio.to_thread(camera.wait_for, "streaming")
        await asyncio.sleep(7)
        growing = server.get_json("/api/recordings")["recordings"][0]
        assert growing["state"] == "recording"
        detail = server.get_json(f"/api/recordings/{growing['id']}")  # playable as far as stored
        assert detail["duration_ms"] >= 2000 and detail["segments"]
        server.proc.kill()  # SIGKILL: no clean-up of any kind
        killed_at_ms = int(time.time() * 1000) % (1 << 32)  # the camera's capture-time clock
        server.proc.wait()
    finally:
        camera.stop()
    spool = tmp_path / "data" / "recording-spool"
    # Killed between two segment boundaries: the segment being written is a torn file.
    assert any(spool.rglob("*.rtp.part")), "expected the segment being written in the spool at the crash"

    def restart_and_read() -> tuple[dict, list[RecordedFrame], list[dict]]:
        restarted = Server(tmp_path, tmp_path / "keys")

        async def read() -> tuple[dict, list[RecordedFrame], list[dict]]:
            api = await ApiClient.signed_in(restarted.url, ADMIN_EMAIL, ADMIN_PASSWORD)
            try:
                async with api.request("GET", "/api/recordings") as response:
                    listing = (await response.json())["recordings"]
                recording, frames = await fetch_recording(api, listing[0]["id"])
                return recording, frames, listing
            finally:
                await api.close()

        try:
            return asyncio.run(read())
        finally:
            restarted.stop()

    recording, frames, listing = await asyncio.to_thread(restart_and_read)
    assert [r["camera"] for r in listing] == ["Crash Test"]  # one recording, finished at start-up
    assert recording["state"] == "complete"
    assert recording["duration_ms"] >= 4000, recording["duration_ms"]  # at most the last ~2 s lost
    assert not any(spool.rglob("*.rtp*"))
    playback = played_back(recording, frames, system_keys)
    assert_in_order(playback.codes, at_least=90)
    lost_ms = (killed_at_ms - playback.last_capture_ms) % (1 << 32)
    assert lost_ms < 3000, f"the recording ends {lost_ms} ms before the crash"

    # A second restart neither loses nor duplicates anything.
    again, frames_again, listing_again = await asyncio.to_thread(restart_and_read)
    assert len(listing_again) == 1
    assert again["segments"] == recording["segments"] and len(frames_again) == len(frames)


def write_first_format(path: Path, frames: list[RecordedFrame], size: tuple[int, int], tags: dict[str, str]) -> None:
    """A segment as the recorder wrote them before the segment log: WebM and positions side file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = SegmentWriter(path, size, tags)
    for frame in frames:
        writer.write(frame)
    writer.close()


async def test_a_torn_segment_of_the_first_format_is_salvaged_up_to_the_damage(tmp_path: Path) -> None:
    """Whatever a crash of an older server left of the WebM segment it was writing,
    recovery keeps a prefix of its frames, exactly, and registers it once."""
    written = [RecordedFrame(FrameKind.VIDEO, 0, True, os.urandom(4000))]
    for i in range(1, 60):
        written.append(RecordedFrame(FrameKind.AUDIO, i * 33, True, bytes([0x78]) + os.urandom(80)))
        written.append(RecordedFrame(FrameKind.VIDEO, i * 33, i % 30 == 0, os.urandom(1500)))
        if i % 15 == 0:
            written.append(RecordedFrame(FrameKind.DATA, i * 33, False, os.urandom(60)))
    scratch = tmp_path / "scratch" / "000000.webm.part"
    write_first_format(scratch, written, (640, 360), {"BWLIVE_STREAM_ID": "torn"})
    media, side = scratch.read_bytes(), positions_path(scratch).read_bytes()

    for cut in (0.35, 0.8):
        database = Database(fresh_database(tmp_path / f"cut{cut}" / "db.sqlite"))
        catalog = Catalog(database.db)
        catalog.begin("torn", "Cam", ["org"], datetime.now(UTC), {"kid": "x"}, "test")
        spool = tmp_path / f"cut{cut}" / "spool"
        (spool / "torn").mkdir(parents=True)
        (spool / "torn" / scratch.name).write_bytes(media[: int(len(media) * cut)])
        (spool / "torn" / positions_path(scratch).name).write_bytes(side[: int(len(side) * cut)])
        store = LocalStore(tmp_path / f"cut{cut}" / "evidence")
        await recover(catalog, store, spool, ["torn"])
        await recover(catalog, store, spool, ["torn"])  # again: nothing changes

        recording = catalog.get("torn", "org")
        assert recording is not None and recording["state"] == "complete"
        assert [s["seq"] for s in recording["segments"]] == [0]
        salvaged = read_media(store.get("torn/000000.webm"))
        video = [f for f in written if f.kind is FrameKind.VIDEO]
        kept = [f for f in salvaged if f.kind is FrameKind.VIDEO]
        assert 0 < len(kept) < len(video) and kept == video[: len(kept)]
        assert not (spool / "torn").exists()
        database.close()
