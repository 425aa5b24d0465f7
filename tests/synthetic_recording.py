"""A long recording made quickly but really: the camera's test pattern (burned-in frame
numbers) encoded by its VP8 and Opus encoders, encrypted with SFrame under a stream key
sealed to the system key, muxed by the recorder's own segment writer into two-second WebM
segments with their positions side files, put into the evidence store and registered in
the catalog, as the recorder does for a live stream. Acknowledgements go into the audit
log as the console's route writes them.

Without streaming for the length of the recording: the frames are made as fast as the
encoder goes (``loop_s`` reuses the encoding of the first seconds, each copy encrypted
afresh, for an hour in a few minutes).
"""
from __future__ import annotations

import json
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av

from bwlive_rtc.camera.encoder import OpusEncoder, Vp8Encoder
from bwlive_rtc.camera.framecode import burn_code, burn_text
from bwlive_rtc.camera.sources import AUDIO_RATE, AUDIO_SAMPLES, TestPattern, Tone
from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.sframe import FrameEncryptor, Kind, StreamKey
from bwlive_rtc.crypto.system_key import SystemPublicKey
from bwlive_rtc.kernel.audit import AuditLog
from bwlive_rtc.kernel.clock import ManualClock
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.recordings.catalog import Catalog
from bwlive_rtc.recordings.container import FrameKind, RecordedFrame, SegmentWriter, positions_path
from bwlive_rtc.recordings.storage import EvidenceStore, open_store
from bwlive_rtc.storage.database import Database
from tests.processes import TEST_ORGANISATION_ID

SIZE = (640, 360)
SEGMENT_MS = 2000  # as the recorder cuts segments
AUDIO_MS = AUDIO_SAMPLES * 1000 // AUDIO_RATE


@dataclass(frozen=True)
class SyntheticRecording:
    id: str
    camera: str
    started_at: datetime
    duration_ms: int
    fps: int
    loop_frames: int | None  # burned-in numbers repeat after this many frames

    def ms_of(self, frame: int) -> int:
        return frame * 1000 // self.fps

    def code_at(self, ms: int) -> int:
        """The burned-in number of the picture shown at ``ms`` (the last one at or before)."""
        frame = max(n for n in range(ms * self.fps // 1000 + 2) if self.ms_of(n) <= ms)
        return frame % self.loop_frames if self.loop_frames else frame


def organisation_of(data_dir: Path) -> str:
    """The first organisation of a data directory (the tests' bootstrapped one)."""
    database = Database(Settings(data_dir=data_dir).database)
    try:
        return str(database.db.value(TEST_ORGANISATION_ID))
    finally:
        database.close()


def _picture(pattern: TestPattern, capture_ms: int) -> av.VideoFrame:
    """The pattern's next picture, with the recording's capture time burned in (not now)."""
    number = pattern.frame_number
    planes = pattern.next_frame()[0].to_ndarray()
    luma = planes[: pattern.height]
    burn_code(luma, number, capture_ms)
    stamp = time.strftime("%H:%M:%S", time.localtime(capture_ms / 1000)) + f".{capture_ms % 1000:03d}"
    burn_text(luma, f"#{number:06d}  {stamp}", 24, pattern.height - 40)
    return av.VideoFrame.from_ndarray(planes, format="yuv420p")


def _video(seconds: float, fps: int, gop: int, loop_s: float | None, started_ms: int) -> list[tuple[bool, bytes]]:
    """(key frame, VP8 frame) per frame; with ``loop_s`` the first seconds repeat."""
    count = int(seconds * fps)
    distinct = min(count, int(loop_s * fps)) if loop_s else count
    pattern, encoder = TestPattern(*SIZE), Vp8Encoder(*SIZE, fps=fps, gop=gop)
    encoded = []
    for n in range(distinct):
        if n % gop == 0:
            encoder.request_keyframe()
        (packet,) = encoder.encode(_picture(pattern, started_ms + n * 1000 // fps), n * 90000 // fps)
        encoded.append((bool(packet.is_keyframe), bytes(packet)))
    if loop_s:
        assert distinct % gop == 0, "the loop must end before a key frame"
    return [encoded[n % distinct] for n in range(count)]


def _audio() -> list[bytes]:
    """One second of tone, Opus, reused."""
    tone, encoder = Tone(), OpusEncoder()
    return [bytes(packet) for _ in range(1000 // AUDIO_MS) for packet in encoder.encode(tone.next_frame())]


def write_recording(data_dir: Path, system_key: SystemPublicKey, camera: str, seconds: float, *,
                    organisation_id: str, fps: int = 15, gop: int = 45, loop_s: float | None = None,
                    gps_lost: tuple[tuple[float, float], ...] = (), acknowledged_at: tuple[tuple[float, str], ...] = (),
                    audio: bool = True, walk_deg: float = 1e-5) -> SyntheticRecording:
    """Record ``seconds`` of a camera that is ``camera`` into the data directory of a
    (possibly running) server; the recording is complete and ended just now.
    ``gps_lost``: (from s, to s) with ``fix: false`` positions; ``acknowledged_at``: (s, by);
    ``walk_deg``: how far north the camera goes each second."""
    stream_key = StreamKey.new()  # as the camera makes one per stream
    envelope = KeyEnvelope.seal(stream_key, system_key).to_json()
    recording_id = uuid.uuid4().hex
    duration_ms = int(seconds * 1000)
    started_at = datetime.now(UTC) - timedelta(milliseconds=duration_ms)
    encrypt = {kind: FrameEncryptor(stream_key, kind).encrypt for kind in (Kind.VIDEO, Kind.AUDIO, Kind.CAMERA_DATA)}

    frames = [RecordedFrame(FrameKind.VIDEO, n * 1000 // fps, key, encrypt[Kind.VIDEO](data))
              for n, (key, data) in enumerate(_video(seconds, fps, gop, loop_s, int(started_at.timestamp() * 1000)))]
    if audio:
        tone = _audio()
        frames += [RecordedFrame(FrameKind.AUDIO, ms, True, encrypt[Kind.AUDIO](tone[i % len(tone)]))
                   for i, ms in enumerate(range(0, duration_ms, AUDIO_MS))]
    for second in range(int(seconds)):
        lost = any(start <= second < end for start, end in gps_lost)
        fix = ({"type": "position", "fix": False, "t": 0} if lost else
               {"type": "position", "fix": True, "lat": 52.37 + second * walk_deg, "lon": 4.89, "accuracy": 5.0, "t": 0})
        fix["t"] = int((started_at + timedelta(seconds=second)).timestamp() * 1000)
        frames.append(RecordedFrame(FrameKind.DATA, second * 1000 + 500, False,
                                    encrypt[Kind.CAMERA_DATA](json.dumps(fix).encode())))
    frames.sort(key=lambda f: (f.ms, f.kind))

    settings = Settings(data_dir=data_dir)
    database = Database(settings.database)
    store = open_store(settings)
    catalog = Catalog(database.db)
    tags = {"BWLIVE_STREAM_ID": recording_id, "BWLIVE_CAMERA": camera, "BWLIVE_KEY_ENVELOPE": json.dumps(envelope)}
    try:
        catalog.begin(recording_id, camera, [organisation_id], started_at, envelope, store.description)
        with tempfile.TemporaryDirectory() as spool:
            seq, writer = 0, None
            for frame in frames:
                if writer is not None and frame.kind is FrameKind.VIDEO and frame.ms - (writer.first_ms or 0) >= SEGMENT_MS:
                    _store(catalog, store, recording_id, seq, writer)
                    seq, writer = seq + 1, None
                if writer is None:
                    writer = SegmentWriter(Path(spool) / f"{seq:06d}.webm", SIZE, tags)
                writer.write(frame)
            if writer is not None:
                _store(catalog, store, recording_id, seq, writer)
        catalog.finish(recording_id)
        for at_s, by in acknowledged_at:
            clock = ManualClock(started_at + timedelta(seconds=at_s))
            AuditLog(database.db, clock).record("stream acknowledged", organisation_id=organisation_id,
                                                user_name=by, stream=recording_id, camera=camera)
    finally:
        database.close()
    return SyntheticRecording(recording_id, camera, started_at, duration_ms, fps,
                              int(loop_s * fps) if loop_s else None)


def _store(catalog: Catalog, store: EvidenceStore, recording_id: str, seq: int, writer: SegmentWriter) -> None:
    """Store a segment in the recordings' first format (WebM plus positions side file), which
    the server still serves, and register it."""
    writer.close()
    side = positions_path(writer.path)
    for path in (side, writer.path):
        store.put(path, f"{recording_id}/{path.name}")
    size = writer.path.stat().st_size + side.stat().st_size
    catalog.add_segments([{"recording_id": recording_id, "seq": seq, "key": f"{recording_id}/{writer.path.name}",
                           "start_ms": writer.first_ms or 0, "end_ms": writer.last_ms, "size": size,
                           "frames": writer.frames}])
