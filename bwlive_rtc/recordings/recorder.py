"""Recording one live stream at the cost of an append: on the event loop each RTP packet
and data-channel message is put, as received, with its arrival time, in a bounded
buffer; the process's writer thread (``writer.py``) appends them to the segment log
(``rtplog.py``), closes a segment (``fdatasync``) every two seconds and hands it to the
storing pool. Frames and containers are made at playback (``playback.py``)."""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiortc.codecs.vpx import vp8_depayload
from aiortc.rtp import RtpPacket

from ..kernel.files import private_directory
from ..sfu.producer import Producer, Unsubscribe
from ..sfu.rewriter import SourcePacket
from ..sfu.vp8 import starts_keyframe
from .container import vp8_keyframe_size
from .rtplog import (
    LOG_SUFFIX,
    MEDIA_RECORD,
    RECORD,
    RTP_HEADER_LENGTH,
    RTP_VERSION_2,
    LogWriter,
    RecordKind,
    SegmentHeader,
    SegmentSummary,
    SegmentTracker,
    TrackClock,
)
from .storage import EvidenceStore
from .writer import Writer

log = logging.getLogger(__name__)

SEGMENT_US = 2_000_000  # a new segment every two seconds (of arrival time)
SYNC_INTERVAL = 2.0  # seconds between fdatasyncs of an open segment (closing one syncs it too)
MAX_BUFFERED = 20_000  # records waiting for the writer (~3 min of one camera); beyond: dropped
PART_SUFFIX = ".part"
STORE_RETRY_PAUSE = 30.0  # seconds between attempts while the evidence store refuses

Buffered = tuple[RecordKind, int, RtpPacket | bytes]  # kind, arrival (monotonic ns), what arrived


@dataclass(frozen=True)
class StoredSegment:
    recording_id: str
    seq: int
    key: str
    start_ms: int
    end_ms: int
    size: int
    frames: int
    spool_files: tuple[Path, ...]

    def row(self) -> dict[str, object]:
        """The segment's row in the catalog."""
        return {"recording_id": self.recording_id, "seq": self.seq, "key": self.key, "start_ms": self.start_ms,
                "end_ms": self.end_ms, "size": self.size, "frames": self.frames}


def segment_key(recording_id: str, file_name: str) -> str:
    return f"{recording_id}/{file_name}"


def store_log(store: EvidenceStore, recording_id: str, path: Path, summary: SegmentSummary) -> StoredSegment:
    """Put a closed segment log into the evidence store."""
    key = segment_key(recording_id, path.name)
    store.put(path, key)
    return StoredSegment(recording_id, int(path.name.split(".")[0]), key, summary.start_ms, summary.end_ms, path.stat().st_size,
                         summary.units, (path,))


class Recorder:
    """Records a Producer from its first key frame until ``stop()``."""

    def __init__(self, producer: Producer, spool: Path, store: EvidenceStore,
                 on_segment: Callable[[StoredSegment], None], writer: Writer) -> None:
        self.producer = producer
        self._writer = writer
        self.directory = spool / producer.id
        self.store = store
        self._on_segment = on_segment
        self._loop = asyncio.get_running_loop()
        self.buffer: deque[Buffered] = deque()
        self.dropped = 0
        self.size: tuple[int, int] | None = None  # set by the first key frame: recording starts
        self._started_ns = time.monotonic_ns()
        self._unsubscribes: list[Unsubscribe] = []
        self._tags = {  # every segment is self-describing evidence
            "BWLIVE_STREAM_ID": producer.id,
            "BWLIVE_CAMERA": producer.camera,
            "BWLIVE_KEY_ENVELOPE": json.dumps(producer.key_envelope),
        }
        # writer thread only
        self._failed = False
        self._segment: LogWriter | None = None
        self._seq = 0
        self._roll_at_us = 0
        self._synced_at = 0.0
        self._pending: list[bytes] = []  # records packed, not yet appended
        self._held: list[tuple[RecordKind, int, bytes]] = []  # messages before the first key frame
        self._tracker: SegmentTracker | None = None  # of the open segment
        self._clocks: dict[str, TrackClock] = {}
        # storing pool only
        self._unstored: deque[tuple[Path, SegmentSummary]] = deque()  # closed by the writer, in order
        self._storing = threading.Lock()
        self._store_again_at = 0.0

    def start(self) -> None:
        private_directory(self.directory)
        self._writer.add(self)
        for kind, track in self.producer.tracks.items():
            self._unsubscribes.append(track.subscribe(self.on_video if kind == "video" else self.on_audio))
        self._unsubscribes.append(self.producer.subscribe_data(self.on_message))
        if "video" in self.producer.tracks:
            self.producer.tracks["video"].request_keyframe()

    async def stop(self) -> None:
        """Detach, write out what is buffered, and wait until every segment is stored."""
        while self._unsubscribes:
            self._unsubscribes.pop()()
        await asyncio.wrap_future(self._writer.finish(self))

    # -- on the event loop: an append per packet, nothing else ---------------------------

    def on_video(self, source: SourcePacket) -> None:
        packet = source.packet
        if self.size is None and not self._begins(packet):
            return
        if len(self.buffer) < MAX_BUFFERED:
            self.buffer.append((RecordKind.VIDEO, time.monotonic_ns(), packet))
        else:
            self.dropped += 1

    def on_audio(self, source: SourcePacket) -> None:
        if self.size is not None:
            if len(self.buffer) < MAX_BUFFERED:
                self.buffer.append((RecordKind.AUDIO, time.monotonic_ns(), source.packet))
            else:
                self.dropped += 1

    def on_message(self, message: bytes | str) -> None:
        """Every message from the camera, in order, from the start (held until the first key frame)."""
        kind, data = (RecordKind.TEXT, message.encode()) if isinstance(message, str) else (RecordKind.DATA, message)
        self.buffer.append((kind, time.monotonic_ns(), data))

    def _begins(self, packet: RtpPacket) -> bool:
        """Whether this packet starts a key frame whose picture size is readable: the recording starts."""
        if not starts_keyframe(packet.payload):
            return False
        self.size = vp8_keyframe_size(vp8_depayload(packet.payload))
        return self.size is not None

    # -- on the writer thread -----------------------------------------------------------

    def drain(self) -> None:
        """Append what the buffer holds as one block (two at a segment boundary)."""
        if self._failed:
            self.buffer.clear()
            return
        try:
            self._append_buffered()
        except Exception:  # a full disk must not take the stream down; the log says why
            log.exception("recording %s failed; the stream goes on unrecorded", self.producer.id)
            self._failed = True

    def finish(self) -> None:
        self.drain()
        if self._segment is not None and not self._failed:
            try:
                self._close_segment()
            except Exception:
                log.exception("recording %s: the last segment could not be written", self.producer.id)
        if self.dropped:
            log.warning("recording %s: %d packets dropped, the writer fell behind", self.producer.id, self.dropped)

    def _append_buffered(self) -> None:
        buffer, pending, started = self.buffer, self._pending, self._started_ns
        last_ts: list[int | None] = [None, None]  # per track, this block's last packet (the tracker learns at the end)
        units = 0
        for _ in range(len(buffer)):
            kind, arrival_ns, item = buffer.popleft()
            arrival_us = (arrival_ns - started) // 1000
            if isinstance(item, bytes):
                if self._tracker is None:
                    self._held.append((kind, arrival_us, item))  # before the first key frame
                else:
                    self._tracker.data(arrival_us, kind is RecordKind.DATA)
                    pending += (RECORD.pack(kind, arrival_us, len(item)), item)
                continue
            payload, timestamp = item.payload, item.timestamp
            if self._tracker is None:
                self._open_segment(arrival_us)
            elif arrival_us >= self._roll_at_us and kind is RecordKind.VIDEO and payload[:1] \
                    and payload[0] & 0x17 == 0x10:  # a new frame begins here: start the next segment
                self._tracker.advance(last_ts, units)
                self._close_segment()
                self._open_segment(arrival_us)
                last_ts, units = [None, None], 0
            if last_ts[kind] is None:
                self._tracker.media(kind, arrival_us, timestamp, 0)  # type: ignore[union-attr]
            last_ts[kind] = timestamp
            units += item.marker or kind  # a unit: a video frame's last packet, any audio packet
            pending += (MEDIA_RECORD.pack(kind, arrival_us, RTP_HEADER_LENGTH + len(payload), RTP_VERSION_2,
                                          item.marker << 7 | item.payload_type, item.sequence_number, timestamp,
                                          item.ssrc), payload)
        if self._tracker is not None:
            self._tracker.advance(last_ts, units)
        if self._segment is not None:
            if pending:
                self._segment.append(pending)
                pending.clear()
            if time.monotonic() - self._synced_at >= SYNC_INTERVAL:
                self._segment.sync()
                self._synced_at = time.monotonic()

    def _open_segment(self, arrival_us: int) -> None:
        assert self.size is not None
        path = self.directory / f"{self._seq:06d}{LOG_SUFFIX}{PART_SUFFIX}"
        self._segment = LogWriter(path, SegmentHeader(self._seq, self._tags, self.size, self._clocks))
        self._tracker = SegmentTracker(self._clocks)
        self._roll_at_us = arrival_us + SEGMENT_US
        self._synced_at = time.monotonic()
        for kind, held_us, data in self._held:  # messages that came before the first key frame, first
            self._tracker.data(held_us, kind is RecordKind.DATA)
            self._pending += (RECORD.pack(kind, held_us, len(data)), data)
        self._held.clear()

    def _close_segment(self) -> None:
        assert self._segment is not None and self._tracker is not None
        if self._pending:
            self._segment.append(self._pending)
            self._pending.clear()
        self._segment.close()
        summary = self._tracker.summary()
        self._clocks = summary.clocks
        part = self._segment.path
        final = part.with_name(part.name.removesuffix(PART_SUFFIX))
        part.rename(final)
        self._unstored.append((final, summary))
        self._segment, self._tracker, self._seq = None, None, self._seq + 1
        self._writer.storing.submit(self.store_closed)

    # -- in the storing pool --------------------------------------------------------------

    def store_closed(self, now: bool = False) -> None:
        """Store closed segments in order. One the store refuses (S3 unreachable) stays in
        the spool; storing is tried again after a pause, at the end, and else at the next
        start. The pause keeps a refusing store from being asked segment after segment."""
        with self._storing:
            if not now and time.monotonic() < self._store_again_at:
                return
            while self._unstored:
                path, summary = self._unstored[0]
                try:
                    stored = store_log(self.store, self.producer.id, path, summary)
                except Exception:
                    log.exception("recording %s: %s not stored yet; it stays in the spool", self.producer.id, path.name)
                    self._store_again_at = time.monotonic() + STORE_RETRY_PAUSE
                    return
                self._unstored.popleft()
                try:
                    self._loop.call_soon_threadsafe(self._on_segment, stored)
                except RuntimeError:
                    pass  # the loop is gone (shutdown): the next start registers it from the spool
