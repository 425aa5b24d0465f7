"""Container work, done when a segment is read rather than while it is recorded: the
segment log's RTP packets become encrypted VP8 frames (``sfu/vp8.py``) and Opus frames
timed on the recording's clock, with the data-channel messages at their arrival."""
from __future__ import annotations

from aiortc.rtp import RtpPacket

from ..sfu.vp8 import Vp8Assembler
from .container import FrameKind, RecordedFrame, webm_bytes
from .rtplog import RTP_RATES, RecordKind, SegmentHeader, TrackClock, records


def frames_of_log(data: bytes) -> tuple[SegmentHeader, list[RecordedFrame]]:
    """A segment log's frames in arrival order, each track in time order. The
    recording's first segment starts at its first complete key frame."""
    header, found, _ = records(data)
    clocks = dict(header.clocks)
    assembler = Vp8Assembler()
    last_ms = {kind: -1 for kind in FrameKind}
    started = header.seq > 0
    frames: list[RecordedFrame] = []
    for record in found:
        if record.kind is RecordKind.DATA:
            frames.append(RecordedFrame(FrameKind.DATA, record.arrival_us // 1000, False, record.body))
            continue
        if record.kind is RecordKind.TEXT:
            continue  # kept in the log; the player's units are encrypted binary messages
        packet = RtpPacket.parse(record.body)
        name = record.kind.name.lower()
        clock = clocks.setdefault(name, TrackClock(RTP_RATES[name], record.arrival_us // 1000, packet.timestamp))
        if record.kind is RecordKind.VIDEO:
            frame = assembler.add(packet)
            if frame is None or not frame.data:
                continue
            kind, keyframe, data, timestamp = FrameKind.VIDEO, frame.data[0] & 0x01 == 0, frame.data, frame.timestamp
            started = started or keyframe
        else:
            kind, keyframe, data, timestamp = FrameKind.AUDIO, True, packet.payload, packet.timestamp
        ms = clock.ms(timestamp)
        if not started or not data or ms < last_ms[kind] or (kind is FrameKind.VIDEO and ms == last_ms[kind]):
            continue  # before the first key frame, late or repeated: each track stays in order
        last_ms[kind] = ms
        frames.append(RecordedFrame(kind, ms, keyframe, data))
    return header, frames


def webm_of_log(data: bytes) -> bytes:
    """The segment as a WebM file: its encrypted frames and self-describing tags."""
    header, frames = frames_of_log(data)
    return webm_bytes(frames, header.size, header.tags)
