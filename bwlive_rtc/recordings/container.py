"""Recorded frames as containers: WebM files whose VP8 and Opus packets are the encrypted
frames exactly as the camera sent them (built at playback from the segment log, or
stored as such by the first recording format, with a side file of encrypted
data-channel messages), and the player's wire form.

PyAV muxes the packets without decoding them (the codecs are only declared). Reading
uses ``fflags=+noparse`` so no codec parser splits or merges the ciphertext, and stops
quietly at the end of a truncated file (a segment that was being written at a crash).
"""
from __future__ import annotations

import io
import json
import os
import struct
from dataclasses import dataclass
from enum import IntEnum
from fractions import Fraction
from pathlib import Path, PurePath
from typing import BinaryIO, TypeVar

import av

from ..crypto.b64 import b64url_decode, b64url_encode

MS = Fraction(1, 1000)
POSITIONS_SUFFIX = ".positions.jsonl"
AnyPath = TypeVar("AnyPath", bound=PurePath)
MUXER_OPTIONS = {"cluster_time_limit": "500", "flush_packets": "1"}


class FrameKind(IntEnum):
    VIDEO = 0
    AUDIO = 1
    DATA = 2  # an encrypted data-channel message from the camera (positions)


@dataclass(frozen=True)
class RecordedFrame:
    kind: FrameKind
    ms: int  # milliseconds since the recording started
    keyframe: bool
    data: bytes


def vp8_keyframe_size(frame: bytes) -> tuple[int, int] | None:
    """Width and height from a VP8 key frame's clear header, None for a delta frame."""
    if len(frame) < 10 or frame[0] & 0x01 or frame[3:6] != b"\x9d\x01\x2a":
        return None
    width, height = struct.unpack_from("<HH", frame, 6)
    return width & 0x3FFF, height & 0x3FFF


class WebmMuxer:
    """Muxes encrypted frames into a WebM file (a path or a writable binary file)."""

    def __init__(self, target: str | BinaryIO, size: tuple[int, int], tags: dict[str, str]) -> None:
        # Clusters of at most half a second, each written out at once: a crash loses little.
        self._container = av.open(target, "w", format="webm", options=MUXER_OPTIONS)
        self._container.metadata.update(tags)
        self._video = self._container.add_stream("libvpx", rate=30)
        self._video.width, self._video.height = size
        self._video.time_base = MS
        self._audio = self._container.add_stream("libopus", rate=48000)
        self._audio.layout = "mono"
        self._audio.time_base = MS

    def mux(self, frame: RecordedFrame) -> None:
        packet = av.Packet(frame.data)
        packet.stream = self._video if frame.kind is FrameKind.VIDEO else self._audio
        packet.pts = packet.dts = frame.ms
        packet.time_base = MS
        packet.is_keyframe = frame.keyframe or frame.kind is FrameKind.AUDIO
        self._container.mux(packet)

    def close(self) -> None:
        self._container.close()


def webm_bytes(frames: list[RecordedFrame], size: tuple[int, int], tags: dict[str, str]) -> bytes:
    """A WebM file of the media frames (data messages have no place in WebM)."""
    out = io.BytesIO()
    muxer = WebmMuxer(out, size, tags)
    for frame in frames:
        if frame.kind is not FrameKind.DATA:
            muxer.mux(frame)
    muxer.close()
    return out.getvalue()


class SegmentWriter:
    """Writes one segment of the first recording format (WebM plus positions side file,
    still read and repaired for recordings made before the segment log); ``close()``
    flushes and fsyncs both files."""

    def __init__(self, path: Path, size: tuple[int, int], tags: dict[str, str]) -> None:
        self.path = path
        self.positions_path = positions_path(path)
        self.frames = 0
        self.first_ms: int | None = None
        self.last_ms = 0
        self._muxer = WebmMuxer(str(path), size, tags)
        self._positions = open(self.positions_path, "w", encoding="ascii")  # noqa: SIM115 (closed in close())

    def write(self, frame: RecordedFrame) -> None:
        if self.first_ms is None:
            self.first_ms = frame.ms
        self.last_ms = max(self.last_ms, frame.ms)
        self.frames += 1
        if frame.kind is FrameKind.DATA:
            self._positions.write(json.dumps({"ms": frame.ms, "data": b64url_encode(frame.data)}) + "\n")
        else:
            self._muxer.mux(frame)

    def close(self) -> None:
        self._muxer.close()
        self._positions.close()
        for path in (self.path, self.positions_path):
            with open(path, "rb") as file:
                os.fsync(file.fileno())


def positions_path(segment: AnyPath) -> AnyPath:
    return segment.with_name(segment.name.split(".")[0] + POSITIONS_SUFFIX)


def read_media(data: bytes) -> list[RecordedFrame]:
    """The video and audio frames of a (possibly truncated) segment, in file order."""
    frames: list[RecordedFrame] = []
    try:
        with av.open(io.BytesIO(data), "r", options={"fflags": "+noparse"}) as container:
            kinds = {s.index: FrameKind.VIDEO if s.type == "video" else FrameKind.AUDIO for s in container.streams}
            for packet in container.demux():
                if packet.size == 0 or packet.pts is None:
                    continue
                ms = int(packet.pts * packet.time_base * 1000)
                frames.append(RecordedFrame(kinds[packet.stream.index], ms, packet.is_keyframe, bytes(packet)))
    except av.FFmpegError:
        pass  # truncated: everything before the damage is kept
    return frames


def read_positions(text: str) -> list[RecordedFrame]:
    """The data-channel messages of a side file, ignoring a torn last line."""
    frames = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
            frames.append(RecordedFrame(FrameKind.DATA, int(record["ms"]), False, b64url_decode(record["data"])))
        except (ValueError, KeyError, TypeError):
            continue
    return frames


def read_tags(data: bytes) -> dict[str, str]:
    with av.open(io.BytesIO(data), options={"fflags": "+noparse"}) as container:
        return dict(container.metadata)


def encode_frames(frames: list[RecordedFrame]) -> bytes:
    """The compact wire form the web player reads (docs/RECORDINGS.md): per frame
    ``kind u8, flags u8 (1 = key frame), ms u32, length u32`` big-endian, then the bytes."""
    out = bytearray()
    for frame in sorted(frames, key=lambda f: (f.ms, f.kind)):
        out += struct.pack(">BBII", frame.kind, int(frame.keyframe), frame.ms, len(frame.data))
        out += frame.data
    return bytes(out)
