"""The recorder's segment log (issue 15): the event loop only appends what arrives; the
writer's log is cut back to its intact blocks after a crash; segments are served as WebM
holding exactly the encrypted frames the camera sent; recordings of the first format
(WebM segments in the store) still play."""
from __future__ import annotations

import asyncio
import io
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import av
import pytest
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.codecs.vpx import Vp8Encoder as Vp8Packetizer
from aiortc.rtp import RtpPacket
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bwlive_rtc.camera import sources
from bwlive_rtc.camera.encoder import VIDEO_TIME_BASE, Vp8Encoder
from bwlive_rtc.camera.identity import device_key_path, load_device_key
from bwlive_rtc.camera.publish import SignedStream
from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.sframe import FrameEncryptor, Kind, StreamKey
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.protocol import DATA_CHANNEL_LABEL
from bwlive_rtc.recordings import recorder as recorder_module
from bwlive_rtc.recordings.catalog import Catalog
from bwlive_rtc.recordings.container import FrameKind, RecordedFrame, read_media
from bwlive_rtc.recordings.playback import frames_of_log
from bwlive_rtc.recordings.recorder import Recorder, StoredSegment
from bwlive_rtc.recordings.recovery import recover
from bwlive_rtc.recordings.rtplog import RecordKind, records, summarize
from bwlive_rtc.recordings.storage import LocalStore
from bwlive_rtc.recordings.writer import Writer
from bwlive_rtc.server import start_server
from bwlive_rtc.sfu.rewriter import SourcePacket
from bwlive_rtc.sfu.vp8 import Vp8Assembler
from bwlive_rtc.storage.database import Database
from bwlive_rtc.viewer.session import ApiClient
from tests.postgres import fresh_database
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, TEST_ORGANISATION_ID, bootstrap_admin, dock_camera
from tests.test_recordings import fetch_recording, wait_for_recording, write_first_format

KEY = StreamKey.new()


def sealed_frames(count: int, gop: int = 30) -> list[bytes]:
    """Real VP8 frames of the test pattern, each encrypted as a camera does (a key frame every ``gop``)."""
    source, encoder = sources.TestPattern(480, 272), Vp8Encoder(480, 272, bitrate=300_000, gop=gop)
    encryptor = FrameEncryptor(KEY, Kind.VIDEO)
    frames = []
    for index in range(count):
        picture, _ = source.next_frame()
        frames.append(encryptor.encrypt(bytes(encoder.encode(picture, index * 3000)[0])))
    return frames


def rtp_packets(frames: list[bytes], first_seq: int = 1000) -> list[RtpPacket]:
    """The frames split into RTP packets by aiortc's own VP8 packetizer, as its sender does."""
    packetizer, packets = Vp8Packetizer(), []
    for index, data in enumerate(frames):
        packet = av.Packet(data)
        packet.pts, packet.time_base = index * 3000, VIDEO_TIME_BASE
        payloads, timestamp = packetizer.pack(packet)
        for n, payload in enumerate(payloads):
            packets.append(RtpPacket(payload_type=96, marker=int(n == len(payloads) - 1), timestamp=timestamp,
                                     sequence_number=(first_seq + len(packets)) & 0xFFFF, ssrc=1234, payload=payload))
    return packets


def stand_in_producer(recording_id: str) -> Any:
    """What a Recorder reads of a Producer, without a peer connection: its packets are fed by hand."""
    return SimpleNamespace(id=recording_id, camera="Cam", key_envelope={"kid": "x"}, tracks={},
                           subscribe_data=lambda listener: lambda: None)


async def test_the_event_loop_part_only_appends_what_arrives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("container or file work on the event loop")

    for target, name in [(av, "open"), (Vp8Assembler, "add"), (recorder_module, "LogWriter"),
                         (recorder_module, "SegmentTracker"), (os, "write"), (os, "writev")]:
        monkeypatch.setattr(target, name, forbidden)
    writer = Writer()  # its thread runs; this recorder is never handed to it
    recorder = Recorder(stand_in_producer("loop"), tmp_path / "spool", LocalStore(tmp_path / "store"), print, writer)
    two = rtp_packets(sealed_frames(2))
    delta_start = next(p for p in two if p.timestamp == two[-1].timestamp)  # the first packet of a delta frame
    recorder.on_video(SourcePacket(delta_start))  # before any key frame: not recorded
    assert not recorder.buffer and recorder.size is None
    recorder.on_message(b"\x01position")  # data-channel messages: every one, from the start
    arriving = rtp_packets(sealed_frames(3))  # key frame, then delta frames
    for packet in arriving:
        recorder.on_video(SourcePacket(packet))
    recorder.on_audio(SourcePacket(audio := RtpPacket(payload_type=111, timestamp=960, payload=b"\x78opus")))
    recorder.on_message("text")

    assert recorder.size == (480, 272)  # read from the key frame's clear header
    buffered = list(recorder.buffer)
    assert [kind for kind, _, _ in buffered] == [RecordKind.DATA] + [RecordKind.VIDEO] * len(arriving) + [
        RecordKind.AUDIO, RecordKind.TEXT]
    assert all(item is packet for (_, _, item), packet in zip(buffered[1:-2], arriving, strict=True))  # no copy
    assert buffered[-2][2] is audio and buffered[0][2] == b"\x01position" and buffered[-1][2] == b"text"
    times = [arrival for _, arrival, _ in buffered]
    assert times == sorted(times)
    assert not (tmp_path / "spool").exists()  # nothing written by the event loop
    writer.close()


async def record_by_hand(tmp_path: Path, packets: list[RtpPacket], messages: list[bytes]) -> list[StoredSegment]:
    """A real Recorder (segment log, storing pool, local store) records the packets, a data
    message before each of the first few; its writer's work is done here by hand, a block
    every five packets."""
    stored: list[StoredSegment] = []
    writer = Writer()
    recorder = Recorder(stand_in_producer("rec"), tmp_path / "spool", LocalStore(tmp_path / "store"), stored.append,
                        writer)
    recorder.directory.mkdir(parents=True)
    for index, packet in enumerate(packets):
        if index < len(messages):
            recorder.on_message(messages[index])
        recorder.on_video(SourcePacket(packet))
        if index % 5 == 4:
            recorder.drain()
    recorder.finish()
    recorder.store_closed(now=True)
    await asyncio.to_thread(writer.close)
    await asyncio.sleep(0)  # the storing pool hands each stored segment to the loop
    return stored


async def test_a_torn_log_is_cut_back_to_its_intact_blocks_and_registered_once(tmp_path: Path) -> None:
    sent = sealed_frames(60)
    messages = [os.urandom(40) for _ in range(5)]
    stored = await record_by_hand(tmp_path / "made", rtp_packets(sent), messages)
    assert [s.seq for s in stored] == [0]  # no two seconds of arrival: one segment
    log = (tmp_path / "made" / "store" / "rec" / "000000.rtp").read_bytes()
    header, whole = frames_of_log(log)
    assert [f.data for f in whole if f.kind is FrameKind.VIDEO] == sent  # every frame, exactly
    assert [f.data for f in whole if f.kind is FrameKind.DATA] == messages
    assert header.tags["BWLIVE_STREAM_ID"] == "rec" and header.size == (480, 272)
    assert len(records(log)[1]) > 60 + 5  # packets and messages, as they arrived
    summary, intact = summarize(log)  # what recovery reads back is what the writer kept as it wrote
    assert intact == len(log) and (stored[0].start_ms, stored[0].end_ms, stored[0].frames) == (
        summary.start_ms, summary.end_ms, summary.units) and summary.units == 60 + 5

    for cut in (0.3, 0.7, 1.0):
        database = Database(fresh_database(tmp_path / f"cut{cut}" / "db.sqlite"))
        catalog = Catalog(database.db)
        catalog.begin("rec", "Cam", ["org"], datetime.now(UTC), {"kid": "x"}, "test")
        spool = tmp_path / f"cut{cut}" / "spool" / "rec"
        spool.mkdir(parents=True)
        (spool / "000000.rtp.part").write_bytes(log[: int(len(log) * cut)] + (b"\x00\x00\x01" if cut < 1 else b""))
        store = LocalStore(tmp_path / f"cut{cut}" / "store")
        await recover(catalog, store, spool.parent, ["rec"])
        await recover(catalog, store, spool.parent, ["rec"])  # again: nothing changes

        recording = catalog.get("rec", "org")
        assert recording is not None and recording["state"] == "complete"
        assert [s["seq"] for s in recording["segments"]] == [0]
        _, salvaged = frames_of_log(store.get("rec/000000.rtp"))
        assert recording["segments"][0]["size"] == len(store.get("rec/000000.rtp"))
        video = [f.data for f in salvaged if f.kind is FrameKind.VIDEO]
        assert 0 < len(video) <= len(sent) and video == sent[: len(video)]  # a prefix, exactly
        assert (len(video) == len(sent)) == (cut == 1.0)
        assert not spool.exists()
        database.close()


class SealedTrack(MediaStreamTrack):
    """A camera's video track that sends frames the test encrypted itself, 30 a second."""

    kind = "video"

    def __init__(self, frames: list[bytes]) -> None:
        super().__init__()
        self.frames = frames
        self.sent = 0
        self.done = asyncio.Event()

    async def recv(self) -> av.Packet:
        await asyncio.sleep(1 / 30)
        if self.sent == len(self.frames):
            self.done.set()
            await asyncio.Event().wait()  # nothing more to send
        packet = av.Packet(self.frames[self.sent])
        packet.pts, packet.time_base = self.sent * 3000, Fraction(1, 90000)
        self.sent += 1
        return packet


def camera_identity(dock_file: Path) -> tuple[str, Ed25519PrivateKey]:
    """What a docked camera keeps: its credential and its device key."""
    return json.loads(dock_file.read_text())["credential"], load_device_key(device_key_path(dock_file))


async def publish(url: str, dock_file: Path, keys: SystemKeyPair, track: SealedTrack,
                  messages: list[bytes]) -> Callable[[], Any]:
    """Publish over WHIP like the camera agent (credential, signed offer and manifest); data messages go
    out as the channel opens. Returns the coroutine function that ends the stream."""
    credential, device_key = camera_identity(dock_file)
    pc = RTCPeerConnection()
    pc.addTransceiver(track, direction="sendonly")
    channel = pc.createDataChannel(DATA_CHANNEL_LABEL)
    channel.on("open", lambda: [channel.send(message) for message in messages])
    await pc.setLocalDescription(await pc.createOffer())
    session = aiohttp.ClientSession()
    stream = SignedStream.start(credential, device_key, KeyEnvelope.seal(KEY, keys.public),
                                int(datetime.now(UTC).timestamp() * 1000))
    headers = {"Content-Type": "application/sdp", **stream.headers(pc.localDescription.sdp)}
    async with session.post(url + "/whip", data=pc.localDescription.sdp, headers=headers) as response:
        assert response.status == 201, await response.text()
        answer, location = await response.text(), response.headers["Location"]
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def end() -> None:
        async with session.delete(url + location, headers={"Authorization": f"Bearer {credential}"}) as response:
            assert response.status == 200, await response.text()
        await pc.close()
        await session.close()

    return end


async def test_a_segment_is_served_as_webm_with_the_exact_frames_the_camera_sent(
    tmp_path: Path, system_keys: SystemKeyPair
) -> None:
    keys_dir = tmp_path / "keys"
    system_keys.save(keys_dir)
    bootstrap_admin(tmp_path / "data", keys_dir)
    dock_file = dock_camera(tmp_path / "data", "Exact Cam", tmp_path / "dock.json")
    runner, port = await start_server(Settings(port=0, keys_dir=keys_dir, data_dir=tmp_path / "data"))
    url = f"http://127.0.0.1:{port}"
    api = await ApiClient.signed_in(url, ADMIN_EMAIL, ADMIN_PASSWORD)
    sent = sealed_frames(150)  # 5 s, a key frame a second
    messages = [FrameEncryptor(KEY, Kind.CAMERA_DATA).encrypt(f'{{"n": {n}}}'.encode()) for n in range(3)]
    try:
        track = SealedTrack(sent)
        end = await publish(url, dock_file, system_keys, track, messages)
        await asyncio.wait_for(track.done.wait(), 30)
        await asyncio.sleep(0.5)
        await end()
        listed = await wait_for_recording(api, "Exact Cam")
        recording, units = await fetch_recording(api, listed["id"])
        webm = []
        for segment in recording["segments"]:
            async with api.request("GET", f"/api/recordings/{listed['id']}/segments/{segment['seq']}/webm") as response:
                assert response.status == 200 and response.content_type == "video/webm"
                webm.append(await response.read())
    finally:
        await api.close()
        await runner.cleanup()

    assert len(recording["segments"]) >= 2
    recorded: list[RecordedFrame] = []
    for data in webm:
        with av.open(io.BytesIO(data), options={"fflags": "+noparse"}) as container:
            assert [s.codec_context.name for s in container.streams] == ["vp8", "opus"]
            assert container.metadata["BWLIVE_STREAM_ID"] == recording["id"]
            assert json.loads(container.metadata["BWLIVE_KEY_ENVELOPE"]) == recording["key_envelope"]
        recorded += read_media(data)
    video = [f for f in recorded if f.kind is FrameKind.VIDEO]
    first = sent.index(video[0].data)  # the recording starts at a key frame ...
    assert video[0].keyframe and first < 60
    kept = sent[first:]
    assert [f.data for f in video] == kept  # ... and holds every frame after it, byte for byte, in order
    assert [f.keyframe for f in video] == [data[0] & 0x01 == 0 for data in kept]
    assert [f.ms for f in video] == sorted(f.ms for f in video)
    assert [f.data for f in units if f.kind is FrameKind.DATA] == messages  # every message, in order


async def test_a_recording_of_the_first_format_still_plays(tmp_path: Path, system_keys: SystemKeyPair) -> None:
    """WebM segments with positions side files, stored by the recorder before the segment
    log, are served as they were: the player's units and the WebM file as stored."""
    keys_dir, data_dir = tmp_path / "keys", tmp_path / "data"
    system_keys.save(keys_dir)
    bootstrap_admin(data_dir, keys_dir)
    settings = Settings(port=0, keys_dir=keys_dir, data_dir=data_dir)
    sent = sealed_frames(40)
    written = [RecordedFrame(FrameKind.VIDEO, i * 33, data[0] & 0x01 == 0, data) for i, data in enumerate(sent)]
    written.insert(5, RecordedFrame(FrameKind.DATA, 150, False, os.urandom(50)))
    segment = tmp_path / "old" / "000000.webm"
    write_first_format(segment, written, (480, 272), {"BWLIVE_STREAM_ID": "old-recording"})
    store = LocalStore(settings.recordings_path)
    for path in (segment, segment.with_name("000000.positions.jsonl")):
        store.put(path, f"old-recording/{path.name}")
    database = Database(settings.database)
    organisation = database.db.value(TEST_ORGANISATION_ID)
    catalog = Catalog(database.db)
    catalog.begin("old-recording", "Old Cam", [organisation], datetime.now(UTC), {"kid": "x"}, store.description)
    catalog.add_segments([{"recording_id": "old-recording", "seq": 0, "key": "old-recording/000000.webm", "start_ms": 0,
                           "end_ms": 39 * 33, "size": segment.stat().st_size, "frames": len(written)}])
    catalog.finish("old-recording")
    database.close()

    runner, port = await start_server(settings)
    api = await ApiClient.signed_in(f"http://127.0.0.1:{port}", ADMIN_EMAIL, ADMIN_PASSWORD)
    try:
        recording, units = await fetch_recording(api, "old-recording")
        async with api.request("GET", "/api/recordings/old-recording/segments/0/webm") as response:
            assert response.status == 200 and response.content_type == "video/webm"
            file = await response.read()
    finally:
        await api.close()
        await runner.cleanup()
    assert recording["state"] == "complete" and recording["duration_ms"] == 39 * 33
    assert file == segment.read_bytes()
    assert units == sorted(written, key=lambda f: (f.ms, f.kind))
