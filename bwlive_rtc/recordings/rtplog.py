"""The recorder's segment log: what arrived, as it arrived, appended in checksummed blocks.

::

    file   := MAGIC | header length u32 | header (JSON) | block*
    block  := length u32 | crc32 u32 (of the records) | record*
    record := kind u8 | arrival µs u64 | length u32 | body
    body   := video/audio: the RTP packet (12-byte fixed header: V=2, M, PT, sequence
              number, timestamp, SSRC; then the payload as received, still encrypted)
              data/text: the camera's data-channel message as received

Integers are big-endian; arrival is microseconds since the recording started. A block is
what the writer appended at once, so a crash leaves at most one torn block at the end:
readers stop at the first block that is short or fails its checksum.
"""
from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

MAGIC = b"BWLIVE-RTPLOG/1\n"
LOG_SUFFIX = ".rtp"
BLOCK = struct.Struct(">II")  # length, crc32
RECORD = struct.Struct(">BQI")  # kind, arrival µs, body length
MEDIA_RECORD = struct.Struct(">BQIBBHII")  # RECORD, then the RTP fixed header
RTP_HEADER_LENGTH = 12
RTP_VERSION_2 = 0x80
RTP_RATES = {"video": 90_000, "audio": 48_000}
TRACKS = ("video", "audio")  # by RecordKind


class RecordKind(IntEnum):
    VIDEO = 0
    AUDIO = 1
    DATA = 2  # a binary data-channel message (encrypted positions)
    TEXT = 3  # a text data-channel message, kept as UTF-8


@dataclass
class TrackClock:
    """RTP timestamps of one track to milliseconds since the recording started: the track's
    first packet is placed at its arrival, later ones by their RTP distance from it. The
    reference moves forward segment by segment, so 32-bit wrap-around never matters."""

    rate: int
    base_ms: int
    ref_ts: int
    ref_ticks: int = 0

    def ms(self, rtp_timestamp: int) -> int:
        return self.base_ms + (self.ref_ticks + _signed(rtp_timestamp - self.ref_ts)) * 1000 // self.rate

    def advance(self, rtp_timestamp: int) -> None:
        self.ref_ticks += _signed(rtp_timestamp - self.ref_ts)
        self.ref_ts = rtp_timestamp


def _signed(delta: int) -> int:
    delta &= 0xFFFFFFFF
    return delta - (1 << 32) if delta >= 1 << 31 else delta


@dataclass
class SegmentHeader:
    seq: int
    tags: dict[str, str]  # BWLIVE_STREAM_ID, BWLIVE_CAMERA, BWLIVE_KEY_ENVELOPE: self-describing evidence
    size: tuple[int, int]  # the picture size, from the recording's first key frame
    clocks: dict[str, TrackClock] = field(default_factory=dict)  # tracks begun in earlier segments

    def encode(self) -> bytes:
        text = json.dumps(asdict(self)).encode()
        return MAGIC + struct.pack(">I", len(text)) + text

    @classmethod
    def decode(cls, data: bytes) -> tuple[SegmentHeader, int]:
        """The header and where the blocks begin; ValueError if this is no segment log."""
        if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 4:
            raise ValueError("not a bwlive segment log")
        (length,) = struct.unpack_from(">I", data, len(MAGIC))
        start = len(MAGIC) + 4
        if len(data) < start + length:
            raise ValueError("segment log header is torn")
        raw: dict[str, Any] = json.loads(data[start:start + length])
        clocks = {kind: TrackClock(**clock) for kind, clock in raw["clocks"].items()}
        return cls(raw["seq"], raw["tags"], (raw["size"][0], raw["size"][1]), clocks), start + length


@dataclass(frozen=True)
class Record:
    kind: RecordKind
    arrival_us: int
    body: bytes


def records(data: bytes) -> tuple[SegmentHeader, list[Record], int]:
    """The header, every record of the intact blocks, and the length of the intact part."""
    header, offset = SegmentHeader.decode(data)
    found: list[Record] = []
    for start, end in _blocks(data, offset):
        position = start
        while position < end:
            kind, arrival_us, length = RECORD.unpack_from(data, position)
            position += RECORD.size
            found.append(Record(RecordKind(kind), arrival_us, data[position:position + length]))
            position += length
        offset = end
    return header, found, offset


def _blocks(data: bytes, offset: int) -> Iterator[tuple[int, int]]:
    while offset + BLOCK.size <= len(data):
        length, crc = BLOCK.unpack_from(data, offset)
        start, end = offset + BLOCK.size, offset + BLOCK.size + length
        if end > len(data) or zlib.crc32(data[start:end]) != crc:
            return  # torn (or damaged): everything before it is kept
        yield start, end
        offset = end


@dataclass(frozen=True)
class SegmentSummary:
    """What the catalog keeps of a segment, and the clocks its successor starts from."""

    start_ms: int
    end_ms: int
    units: int  # video frames (marker packets), audio packets, binary data messages
    clocks: dict[str, TrackClock]
    media: bool  # whether any video or audio was recorded


class SegmentTracker:
    """Builds a segment's summary record by record: as the writer appends them, or as
    recovery reads a log back."""

    __slots__ = ("_clocks", "_data_ms", "_last_ts", "_start_ms", "_units")

    def __init__(self, clocks: dict[str, TrackClock]) -> None:
        self._clocks = [_copy(clocks.get(name)) for name in TRACKS]  # indexed by RecordKind
        self._last_ts: list[int | None] = [None, None]
        self._start_ms: int | None = None
        self._data_ms = 0
        self._units = 0

    def media(self, kind: int, arrival_us: int, timestamp: int, unit: int) -> None:
        if self._last_ts[kind] is None:
            if self._clocks[kind] is None:
                self._clocks[kind] = TrackClock(RTP_RATES[TRACKS[kind]], arrival_us // 1000, timestamp)
            if self._start_ms is None:
                self._start_ms = self._clocks[kind].ms(timestamp)  # type: ignore[union-attr]
        self._last_ts[kind] = timestamp
        self._units += unit

    def advance(self, last_ts: list[int | None], units: int) -> None:
        """What the writer kept of a block itself: each track's last timestamp, the units
        (having told ``media()`` of each track's first packet in the block)."""
        for kind, timestamp in enumerate(last_ts):
            if timestamp is not None:
                self._last_ts[kind] = timestamp
        self._units += units

    def data(self, arrival_us: int, unit: int) -> None:
        ms = arrival_us // 1000
        if self._start_ms is None:
            self._start_ms = ms
        self._data_ms = max(self._data_ms, ms)
        self._units += unit

    def summary(self) -> SegmentSummary:
        clocks, end_ms = {}, self._data_ms
        for kind, clock in enumerate(self._clocks):
            if clock is None:
                continue
            last = self._last_ts[kind]
            if last is not None:
                clock.advance(last)
                end_ms = max(end_ms, clock.ms(last))
            clocks[TRACKS[kind]] = clock
        media = any(last is not None for last in self._last_ts)
        start_ms = self._start_ms if self._start_ms is not None else 0
        return SegmentSummary(start_ms, max(start_ms, end_ms), self._units, clocks, media)


def _copy(clock: TrackClock | None) -> TrackClock | None:
    return None if clock is None else TrackClock(**asdict(clock))


def summarize(data: bytes) -> tuple[SegmentSummary, int]:
    """A log's summary, read back, and the length of its intact part."""
    header, found, intact = records(data)
    tracker = SegmentTracker(header.clocks)
    for record in found:
        if record.kind >= RecordKind.DATA:
            tracker.data(record.arrival_us, record.kind is RecordKind.DATA)
        else:
            body = record.body
            tracker.media(record.kind, record.arrival_us, int.from_bytes(body[4:8], "big"),
                          record.kind is RecordKind.AUDIO or body[1] >> 7)
    return tracker.summary(), intact


class LogWriter:
    """Appends blocks to one segment log; ``sync()`` makes what is written durable."""

    def __init__(self, path: Path, header: SegmentHeader) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        os.write(self._fd, header.encode())

    def append(self, parts: list[bytes]) -> None:
        body = b"".join(parts)
        head = BLOCK.pack(len(body), zlib.crc32(body))
        if os.writev(self._fd, (head, body)) != len(head) + len(body):
            raise OSError(f"short write to {self.path} (disk full?)")

    def sync(self) -> None:
        os.fdatasync(self._fd)

    def close(self) -> None:
        os.fdatasync(self._fd)
        os.close(self._fd)
