"""Recording one live stream at the cost of an append: on the event loop each RTP packet
and data-channel message is packed, as received, with its arrival time, into the open
segment's buffer (bytes: no packet is kept alive, nothing crosses a thread per packet);
the process's writer thread (``writer.py``) appends each buffer to its segment log
(``rtplog.py``) as one block a few times a second, closes a segment (``fdatasync``) the
event loop has rolled over, every two seconds, and hands it to the storing pool. Frames
and containers are made at playback (``playback.py``)."""
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
MAX_BUFFERED = 40_000  # record parts waiting for the writer (~3 min of a camera); beyond: dropped
PART_SUFFIX = ".part"
STORE_RETRY_PAUSE = 30.0  # seconds between attempts while the evidence store refuses


class Segment:
    """One segment log on its way to the store: packed records filled in on the event
    loop, appended by the writer thread; ``summary`` is set by the event loop once the
    segment is rolled over (nothing is added to ``data`` after that)."""

    __slots__ = ("data", "header", "log", "summary")

    def __init__(self, header: SegmentHeader) -> None:
        self.header = header
        self.data: list[bytes] = []  # records' parts, not yet appended (the loop adds, the writer takes)
        self.summary: SegmentSummary | None = None
        self.log: LogWriter | None = None  # writer thread only


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
        self.dropped = 0
        self.size: tuple[int, int] | None = None  # set by the first key frame: recording starts
        self._started_ns = time.monotonic_ns()
        self._unsubscribes: list[Unsubscribe] = []
        self._tags = {  # every segment is self-describing evidence
            "BWLIVE_STREAM_ID": producer.id,
            "BWLIVE_CAMERA": producer.camera,
            "BWLIVE_KEY_ENVELOPE": json.dumps(producer.key_envelope),
        }
        # event loop only
        self.segments: deque[Segment] = deque()  # the writer takes them from the left
        self._open: Segment | None = None  # the last of ``segments`` while recording
        self._seq = 0
        self._roll_at_us = 0
        self._held: list[tuple[RecordKind, int, bytes]] = []  # messages before the first key frame
        self._tracker: SegmentTracker | None = None  # of the open segment
        self._last_ts: list[int | None] = [None, None]  # per track, of the open segment (told to the tracker at its end)
        self._units = 0
        self._clocks: dict[str, TrackClock] = {}
        # writer thread only
        self._failed = False
        self._synced_at = 0.0
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
        if self._open is not None:
            self._close_open()
        await asyncio.wrap_future(self._writer.finish(self))

    # -- on the event loop: pack what arrives into the open segment's buffer -------------

    def on_video(self, source: SourcePacket) -> None:
        packet = source.packet
        arrival_us = self._arrival_us()
        if self._open is None:
            if self.size is not None or not self._begins(packet):
                return  # stopped, or no key frame yet
            self._open_segment(arrival_us)
        payload = packet.payload
        if arrival_us >= self._roll_at_us and payload[:1] and payload[0] & 0x17 == 0x10:
            self._close_open()  # a new frame begins here: start the next segment
            self._open_segment(arrival_us)
        self._media(RecordKind.VIDEO, arrival_us, packet)

    def on_audio(self, source: SourcePacket) -> None:
        if self._open is not None:
            self._media(RecordKind.AUDIO, self._arrival_us(), source.packet)

    def on_message(self, message: bytes | str) -> None:
        """Every message from the camera, in order, from the start (held until the first key frame)."""
        kind, data = (RecordKind.TEXT, message.encode()) if isinstance(message, str) else (RecordKind.DATA, message)
        if self._open is None:
            if self.size is None:
                self._held.append((kind, self._arrival_us(), data))
            return
        self._data(kind, self._arrival_us(), data)

    def _arrival_us(self) -> int:
        return (time.monotonic_ns() - self._started_ns) // 1000

    def _media(self, kind: RecordKind, arrival_us: int, packet: RtpPacket) -> None:
        buffer = self._open.data  # type: ignore[union-attr]
        if len(buffer) >= MAX_BUFFERED:
            self.dropped += 1
            return
        payload, timestamp = packet.payload, packet.timestamp
        if self._last_ts[kind] is None:
            self._tracker.media(kind, arrival_us, timestamp, 0)  # type: ignore[union-attr]
        self._last_ts[kind] = timestamp
        self._units += packet.marker or kind  # a unit: a video frame's last packet, any audio packet
        buffer.append(MEDIA_RECORD.pack(kind, arrival_us, RTP_HEADER_LENGTH + len(payload), RTP_VERSION_2,
                                        packet.marker << 7 | packet.payload_type, packet.sequence_number, timestamp,
                                        packet.ssrc))
        buffer.append(payload)

    def _data(self, kind: RecordKind, arrival_us: int, data: bytes) -> None:
        self._tracker.data(arrival_us, kind is RecordKind.DATA)  # type: ignore[union-attr]
        self._open.data.extend((RECORD.pack(kind, arrival_us, len(data)), data))  # type: ignore[union-attr]

    def _begins(self, packet: RtpPacket) -> bool:
        """Whether this packet starts a key frame whose picture size is readable: the recording starts."""
        if not starts_keyframe(packet.payload):
            return False
        self.size = vp8_keyframe_size(vp8_depayload(packet.payload))
        return self.size is not None

    def _open_segment(self, arrival_us: int) -> None:
        assert self.size is not None
        self._open = Segment(SegmentHeader(self._seq, self._tags, self.size, self._clocks))
        self.segments.append(self._open)
        self._seq += 1
        self._tracker = SegmentTracker(self._clocks)
        self._last_ts, self._units = [None, None], 0
        self._roll_at_us = arrival_us + SEGMENT_US
        for kind, held_us, data in self._held:  # messages that came before the first key frame, first
            self._data(kind, held_us, data)
        self._held.clear()

    def _close_open(self) -> None:
        """The open segment is complete: its summary tells the writer to close it."""
        assert self._open is not None and self._tracker is not None
        self._tracker.advance(self._last_ts, self._units)
        summary = self._tracker.summary()
        self._clocks = summary.clocks
        self._open.summary, self._open, self._tracker = summary, None, None

    # -- on the writer thread -----------------------------------------------------------

    def drain(self) -> None:
        """Append what each segment's buffer holds as one block; close the segments the
        event loop has rolled over."""
        if self._failed:
            self._discard()
            return
        try:
            self._append_buffered()
        except Exception:  # a full disk must not take the stream down; the log says why
            log.exception("recording %s failed; the stream goes on unrecorded", self.producer.id)
            self._failed = True
            self._discard()

    def finish(self) -> None:
        self.drain()
        if self.dropped:
            log.warning("recording %s: %d packets dropped, the writer fell behind", self.producer.id, self.dropped)

    def _discard(self) -> None:
        for segment in self.segments:
            segment.data.clear()
        while self.segments and self.segments[0].summary is not None:
            self.segments.popleft()

    def _append_buffered(self) -> None:
        while self.segments:
            segment = self.segments[0]
            complete = segment.summary is not None  # read first: once complete, nothing more is added
            if segment.log is None:
                path = self.directory / f"{segment.header.seq:06d}{LOG_SUFFIX}{PART_SUFFIX}"
                segment.log = LogWriter(path, segment.header)
                self._synced_at = time.monotonic()
            parts = len(segment.data)
            if parts:
                block = segment.data[:parts]
                del segment.data[:parts]  # the loop may have added more meanwhile: it stays
                segment.log.append(b"".join(block))
            if not complete:
                if time.monotonic() - self._synced_at >= SYNC_INTERVAL:
                    segment.log.sync()
                    self._synced_at = time.monotonic()
                return
            self._close_segment(segment)
            self.segments.popleft()

    def _close_segment(self, segment: Segment) -> None:
        assert segment.log is not None and segment.summary is not None
        segment.log.close()
        part = segment.log.path
        final = part.with_name(part.name.removesuffix(PART_SUFFIX))
        part.rename(final)
        self._unstored.append((final, segment.summary))
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
