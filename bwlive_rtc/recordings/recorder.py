"""Recording one live stream: frames are reassembled and timed on the event loop (cheap),
segments are written, stored and fsync'd by a writer thread (never blocking forwarding)."""
from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..kernel.files import private_directory
from ..sfu.producer import Producer, Unsubscribe
from ..sfu.rewriter import SourcePacket
from ..sfu.vp8 import Vp8Assembler
from .container import FrameKind, RecordedFrame, SegmentWriter, positions_path, vp8_keyframe_size
from .storage import EvidenceStore

log = logging.getLogger(__name__)

SEGMENT_MS = 2000  # a new, fsync'd segment file every two seconds of media
RTP_RATES = {FrameKind.VIDEO: 90_000, FrameKind.AUDIO: 48_000}
PART_SUFFIX = ".part"
STORE_RETRY_PAUSE = 30.0  # seconds between attempts while the evidence store refuses


@dataclass(frozen=True)
class StoredSegment:
    seq: int
    key: str
    start_ms: int
    end_ms: int
    size: int
    frames: int
    spool_files: tuple[Path, ...]


def segment_key(recording_id: str, file_name: str) -> str:
    return f"{recording_id}/{file_name}"


def store_segment(store: EvidenceStore, recording_id: str, seq: int, path: Path,
                  start_ms: int, end_ms: int, frames: int) -> StoredSegment:
    """Put a finished segment (media and positions) into the evidence store."""
    side = positions_path(path)
    store.put(side, segment_key(recording_id, side.name))
    store.put(path, segment_key(recording_id, path.name))
    size = path.stat().st_size + side.stat().st_size
    return StoredSegment(seq, segment_key(recording_id, path.name), start_ms, end_ms, size, frames, (path, side))


class _Timeline:
    """RTP timestamps of one track to milliseconds since the recording started: the first
    frame is placed at its arrival, the following ones by their RTP distance from it."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.previous: int | None = None
        self.base_ms = 0
        self.ticks = 0

    def ms(self, rtp_timestamp: int, arrival_ms: int) -> int:
        if self.previous is None:
            self.base_ms = arrival_ms
        else:
            delta = (rtp_timestamp - self.previous) & 0xFFFFFFFF
            self.ticks += delta - (1 << 32) if delta >= 1 << 31 else delta
        self.previous = rtp_timestamp
        return self.base_ms + self.ticks * 1000 // self.rate


class Recorder:
    """Records a Producer from its first key frame until ``stop()``."""

    def __init__(self, producer: Producer, spool: Path, store: EvidenceStore,
                 on_segment: Callable[[StoredSegment], None]) -> None:
        self.producer = producer
        self.directory = spool / producer.id
        self.store = store
        self._on_segment = on_segment
        self._loop = asyncio.get_running_loop()
        self._queue: queue.SimpleQueue[RecordedFrame | None] = queue.SimpleQueue()
        self._assembler = Vp8Assembler()
        self._timelines = {kind: _Timeline(rate) for kind, rate in RTP_RATES.items()}
        self._last_ms = {kind: -1 for kind in FrameKind}
        self._size: tuple[int, int] | None = None  # set by the first key frame: recording starts
        self._started = time.monotonic()
        self._unsubscribes: list[Unsubscribe] = []
        self._tags = {  # every segment is self-describing evidence
            "BWLIVE_STREAM_ID": producer.id,
            "BWLIVE_CAMERA": producer.camera,
            "BWLIVE_KEY_ENVELOPE": json.dumps(producer.key_envelope),
        }
        self._unstored: list[tuple[int, Path, int, int, int]] = []  # writer thread only
        self._store_again_at = 0.0
        self._thread = threading.Thread(target=self._write_segments, name=f"recorder-{producer.id}", daemon=True)

    def start(self) -> None:
        private_directory(self.directory)
        self._thread.start()
        for kind, track in self.producer.tracks.items():
            self._unsubscribes.append(track.subscribe(self._on_video if kind == "video" else self._on_audio))
        self._unsubscribes.append(self.producer.subscribe_data(self._on_message))
        if "video" in self.producer.tracks:
            self.producer.tracks["video"].request_keyframe()

    async def stop(self) -> None:
        """Detach, write out what is queued, and wait until every segment is stored."""
        while self._unsubscribes:
            self._unsubscribes.pop()()
        self._queue.put(None)
        await asyncio.to_thread(self._thread.join)

    # -- on the event loop: cheap per-packet work -------------------------------------

    def _arrival_ms(self) -> int:
        return int((time.monotonic() - self._started) * 1000)

    def _on_video(self, source: SourcePacket) -> None:
        frame = self._assembler.add(source.packet)
        if frame is None or not frame.data:
            return
        keyframe = frame.data[0] & 0x01 == 0
        if self._size is None:
            if not keyframe or (size := vp8_keyframe_size(frame.data)) is None:
                return
            self._size = size
        self._enqueue(FrameKind.VIDEO, frame.timestamp, keyframe, frame.data)

    def _on_audio(self, source: SourcePacket) -> None:
        packet = source.packet
        if self._size is not None and packet.payload:
            self._enqueue(FrameKind.AUDIO, packet.timestamp, True, packet.payload)

    def _enqueue(self, kind: FrameKind, rtp_timestamp: int, keyframe: bool, data: bytes) -> None:
        ms = self._timelines[kind].ms(rtp_timestamp, self._arrival_ms())
        if ms < self._last_ms[kind] or (kind is FrameKind.VIDEO and ms == self._last_ms[kind]):
            return  # late or repeated: the file keeps each track in order
        self._last_ms[kind] = ms
        self._queue.put(RecordedFrame(kind, ms, keyframe, data))

    def _on_message(self, message: bytes | str) -> None:
        if self._size is not None and isinstance(message, bytes):
            self._queue.put(RecordedFrame(FrameKind.DATA, self._arrival_ms(), False, message))

    # -- on the writer thread -----------------------------------------------------------

    def _write_segments(self) -> None:
        writer: SegmentWriter | None = None
        seq = 0
        failed = False
        while (frame := self._queue.get()) is not None:
            if failed:
                continue
            try:
                if writer is not None and frame.kind is FrameKind.VIDEO and frame.ms - (writer.first_ms or 0) >= SEGMENT_MS:
                    self._close(writer, seq)
                    writer, seq = None, seq + 1
                if writer is None:
                    assert self._size is not None
                    path = self.directory / f"{seq:06d}.webm{PART_SUFFIX}"
                    writer = SegmentWriter(path, self._size, self._tags)
                writer.write(frame)
            except Exception:  # a full disk must not take the stream down; the log says why
                log.exception("recording %s failed; the stream goes on unrecorded", self.producer.id)
                failed = True
        if writer is not None and not failed:
            try:
                self._close(writer, seq)
            except Exception:
                log.exception("recording %s: the last segment could not be written", self.producer.id)
        self._store_closed(now=True)

    def _close(self, writer: SegmentWriter, seq: int) -> None:
        writer.close()
        final = writer.path.with_name(writer.path.name.removesuffix(PART_SUFFIX))
        writer.path.rename(final)
        self._unstored.append((seq, final, writer.first_ms or 0, writer.last_ms, writer.frames))
        self._store_closed()

    def _store_closed(self, now: bool = False) -> None:
        """Store closed segments in order. One the store refuses (S3 unreachable) stays in
        the spool; storing is tried again after a pause, at the end, and else at the next
        start. The pause keeps a slow store from holding the writer up segment after segment."""
        if not now and time.monotonic() < self._store_again_at:
            return
        while self._unstored:
            seq, path, start_ms, end_ms, frames = self._unstored[0]
            try:
                stored = store_segment(self.store, self.producer.id, seq, path, start_ms, end_ms, frames)
            except Exception:
                log.exception("recording %s: segment %d not stored yet; it stays in %s", self.producer.id, seq, path)
                self._store_again_at = time.monotonic() + STORE_RETRY_PAUSE
                return
            self._unstored.pop(0)
            try:
                self._loop.call_soon_threadsafe(self._on_segment, stored)
            except RuntimeError:
                pass  # the loop is gone (shutdown): the next start registers it from the spool
