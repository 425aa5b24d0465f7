"""VP8 facts read from RTP payloads: key-frame start and frame assembly (no peer needed)."""
from __future__ import annotations

import pytest
from aiortc.rtp import RtpPacket

from bwlive_rtc.sfu.vp8 import Vp8Assembler, starts_keyframe

KEY, DELTA = 0x00, 0x01  # first byte of a VP8 frame: bit 0 is 0 on a key frame


@pytest.mark.parametrize(("payload", "expected"), [
    (bytes([0x10, KEY]), True),  # S=1, partition 0, no extension
    (bytes([0x10, DELTA]), False),
    (bytes([0x00, KEY]), False),  # not the start of a partition
    (bytes([0x11, KEY]), False),  # start of partition 1, not of the frame
    (bytes([0x90, 0x80, 0x05, KEY]), True),  # X, I: 7-bit picture id
    (bytes([0x90, 0x80, 0x85, 0x01, KEY]), True),  # X, I: 15-bit picture id
    (bytes([0x90, 0x80, 0x85, 0x01, DELTA]), False),
    (bytes([0x90, 0xC0, 0x05, 0x07, KEY]), True),  # X, I, L: TL0PICIDX
    (bytes([0x90, 0xF0, 0x85, 0x01, 0x07, 0x20, KEY]), True),  # X, I (15), L, T/K
    (bytes([0x90, 0x20, 0x20, DELTA]), False),  # X, K only
    (b"", False),
    (bytes([0x10]), False),  # descriptor without a frame byte
    (bytes([0x90]), False),  # X without its extension byte
    (bytes([0x90, 0x80]), False),  # I without its picture id
    (bytes([0x90, 0xF0, 0x85, 0x01, 0x07]), False),  # cut inside the extension
])
def test_starts_keyframe(payload: bytes, expected: bool) -> None:
    assert starts_keyframe(payload) is expected


def packets(seq: int, timestamp: int, *parts: bytes) -> list[RtpPacket]:
    """One frame as RTP packets: ``parts`` each behind a one-byte descriptor (S on the first)."""
    return [
        RtpPacket(sequence_number=(seq + i) & 0xFFFF, timestamp=timestamp & 0xFFFFFFFF, marker=int(i == len(parts) - 1),
                  payload=bytes([0x10 if i == 0 else 0x00]) + part)
        for i, part in enumerate(parts)
    ]


def feed(assembler: Vp8Assembler, packets: list[RtpPacket]) -> list[tuple[int, bytes]]:
    return [(frame.timestamp, frame.data) for p in packets if (frame := assembler.add(p)) is not None]


def test_frames_in_order() -> None:
    frames = packets(100, 3000, b"ab", b"cd", b"ef") + packets(103, 6000, b"gh")
    assert feed(Vp8Assembler(), frames) == [(3000, b"abcdef"), (6000, b"gh")]


def test_frame_out_of_order_comes_out_when_its_last_packet_arrives() -> None:
    first, middle, last = packets(100, 3000, b"ab", b"cd", b"ef")
    assembler = Vp8Assembler()
    assert feed(assembler, [last, first]) == []
    assert feed(assembler, [middle]) == [(3000, b"abcdef")]


def testlost_packet_loses_its_frame_only() -> None:
    first, lost, last = packets(100, 3000, b"ab", b"cd", b"ef")
    assembler = Vp8Assembler()
    assert feed(assembler, [first, last]) == []
    assert feed(assembler, packets(103, 6000, b"gh", b"ij")) == [(6000, b"ghij")]
    assert feed(assembler, [lost]) == []  # too late: the older frame was given up


def test_sequence_and_timestamp_wrap_around() -> None:
    frames = packets(65534, 0xFFFFFFFF - 1000, b"ab", b"cd", b"ef") + packets(1, 2000, b"gh")
    assert feed(Vp8Assembler(), frames) == [(0xFFFFFFFF - 1000, b"abcdef"), (2000, b"gh")]


def test_an_older_frame_completing_late_is_dropped_across_the_timestamp_wrap() -> None:
    old_first, old_last = packets(10, 0xFFFFFF00, b"ab", b"cd")
    assembler = Vp8Assembler()
    assert feed(assembler, [old_first]) == []
    assert feed(assembler, packets(12, 0x100, b"ef")) == [(0x100, b"ef")]  # newer, after the wrap
    assert feed(assembler, [old_last]) == []
