"""Sequence rewriting, header patching (the compiled fan-out's ``bw_patch``), NACK history
and RTX of one output (no peer needed)."""
from __future__ import annotations

import json

from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bwlive_rtc.crypto.chain import ChainWriter
from bwlive_rtc.protocol import CHECKPOINT
from bwlive_rtc.sfu.producer import checkpoint_seq
from bwlive_rtc.sfu.rewriter import RtpRewriter, SourceHistory, SourcePacket, UplinkSeries

MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"


def extensions(mid_id: int = 1, abs_send_time_id: int = 2) -> HeaderExtensionsMap:
    map_ = HeaderExtensionsMap()
    map_.configure(RTCRtpParameters(headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=mid_id, uri=MID_URI),
        RTCRtpHeaderExtensionParameters(id=abs_send_time_id, uri=ABS_SEND_TIME_URI),
    ]))
    return map_


def rewriter(first_seq: int = 100, rtx_payload_type: int | None = None, map_: HeaderExtensionsMap | None = None,
             ssrc: int = 0x11111111, first_rtx_seq: int = 500, history: SourceHistory | None = None) -> RtpRewriter:
    out = RtpRewriter(history or SourceHistory(), first_seq=first_seq, first_rtx_seq=first_rtx_seq)
    out.start(ssrc=ssrc, rtx_ssrc=0x22222222, payload_type=96, rtx_payload_type=rtx_payload_type, mid="0",
              extensions=map_ or extensions())
    return out


def source(seq: int, timestamp: int = 9000, marker: int = 0, payload: bytes = b"\x10frame") -> SourcePacket:
    return SourcePacket(RtpPacket(payload_type=100, sequence_number=seq & 0xFFFF, timestamp=timestamp,
                                  ssrc=0xCAFE, marker=marker, payload=payload))


def seqs(out: RtpRewriter, *source_seqs: int) -> list[int]:
    return [RtpPacket.parse(out.rewrite(source(s))).sequence_number for s in source_seqs]


def test_header_is_this_outputs_and_the_rest_passes_through() -> None:
    map_ = extensions()
    sent = RtpPacket.parse(rewriter(map_=map_).rewrite(source(7, timestamp=123456, marker=1)), map_)
    assert (sent.payload_type, sent.ssrc, sent.sequence_number) == (96, 0x11111111, 100)
    assert (sent.timestamp, sent.marker, sent.payload, sent.extensions.mid) == (123456, 1, b"\x10frame", "0")


def test_sequence_keeps_its_offset_gaps_and_all() -> None:
    assert seqs(rewriter(first_seq=100), 5000, 5001, 5003, 5010) == [100, 101, 103, 110]


def test_sequence_wraps_at_65535() -> None:
    assert seqs(rewriter(first_seq=65534), 10, 11, 12, 13) == [65534, 65535, 0, 1]
    assert seqs(rewriter(first_seq=100), 65534, 65535, 0, 1) == [100, 101, 102, 103]  # the source's wrap


def test_a_late_resend_takes_its_own_place_and_does_not_move_the_series() -> None:
    out = rewriter(first_seq=100)
    assert seqs(out, 5000, 5001, 5003) == [100, 101, 103]
    assert seqs(out, 5002) == [102]  # late: its own number, not the next one
    assert seqs(out, 4990) == [90]  # from before the first packet: still its own place
    assert seqs(out, 5004) == [104]


def test_outputs_share_one_serialization_per_header_layout() -> None:
    packet = source(42)
    a, b = rewriter(ssrc=1), rewriter(ssrc=2, first_seq=7)
    other_layout = rewriter(ssrc=3, map_=extensions(mid_id=3, abs_send_time_id=4))
    sent = [RtpPacket.parse(out.rewrite(packet)) for out in (a, b, other_layout)]
    assert [(p.ssrc, p.sequence_number) for p in sent] == [(1, 100), (2, 7), (3, 100)]
    assert len(packet._rendered) == 2


def forwarded(history: SourceHistory, out: RtpRewriter | None, seq: int, **fields: int) -> bytes:
    """A packet arrives (the producer track keeps it) and ``out`` (if any) is sent it."""
    packet = source(seq, **fields)
    history.add(packet)
    return out.rewrite(packet) if out is not None else b""


def test_nack_resends_what_was_sent_while_it_is_in_the_history() -> None:
    history = SourceHistory()
    out = rewriter(first_seq=65500, history=history)
    forwarded(history, None, 65000)  # arrived before this output's first packet
    sent = [forwarded(history, out, s) for s in range(200)]
    assert out.resend((65500 + 199) & 0xFFFF) == sent[199]
    assert out.resend((65500 + 72) & 0xFFFF) == sent[72]  # the last 128 are kept
    assert out.resend((65500 + 71) & 0xFFFF) is None  # overwritten by a newer one
    assert out.resend(40000) is None  # never sent
    late = rewriter(first_seq=7, history=history)
    first = forwarded(history, late, 200)
    assert late.resend(7) == first
    assert late.resend(6) is None  # the source's 199, in the history but before this output's first packet
    assert rewriter(history=history).resend(100) is None  # nothing sent yet


def test_nack_is_answered_over_rtx_with_its_own_sequence() -> None:
    map_ = extensions()
    history = SourceHistory()
    out = rewriter(first_seq=1000, rtx_payload_type=97, map_=map_, first_rtx_seq=65535, history=history)
    original = RtpPacket.parse(forwarded(history, out, 5, timestamp=777, marker=1), map_)
    first, second = (RtpPacket.parse(out.resend(1000) or b"", map_) for _ in range(2))
    assert (first.payload_type, first.ssrc, first.sequence_number, second.sequence_number) == (97, 0x22222222, 65535, 0)
    assert first.payload == (1000).to_bytes(2, "big") + original.payload  # the original number, then its payload
    assert (first.timestamp, first.marker, first.extensions.mid) == (777, 1, "0")


def test_a_new_uplink_continues_the_running_series() -> None:
    """After a resume the camera's new connection has its own SSRC, sequence numbers and
    timestamps; viewers and the recording see them moved onto the running series."""
    now = [100.0]
    series = UplinkSeries(90_000, clock=lambda: now[0])

    def placed(seq: int, timestamp: int, ssrc: int) -> tuple[int, int, int]:
        packet = RtpPacket(sequence_number=seq & 0xFFFF, timestamp=timestamp & 0xFFFFFFFF, ssrc=ssrc)
        series.place(packet)
        return packet.sequence_number, packet.timestamp, packet.ssrc

    assert [placed(65534 + i, 3000 * i, 0xAAAA) for i in range(3)] == [  # the first uplink passes unchanged
        (65534, 0, 0xAAAA), (65535, 3000, 0xAAAA), (0, 6000, 0xAAAA)]
    assert placed(65533, 0, 0xAAAA) == (65533, 0, 0xAAAA)  # a late packet does not move the series back
    series.next_uplink()
    now[0] += 0.5  # half a second without media
    assert placed(1000, 77_777, 0xBBBB) == (1, 6000 + 45_000, 0xAAAA)
    assert placed(1001, 77_777 + 3000, 0xBBBB) == (2, 6000 + 48_000, 0xAAAA)
    assert placed(999, 77_777 - 3000, 0xBBBB) == (0, 6000 + 42_000, 0xAAAA)  # reordered, same offset
    series.next_uplink()  # and again
    now[0] += 0.1
    assert placed(40_000, 5, 0xCCCC) == (3, 6000 + 48_000 + 9000, 0xAAAA)


def test_checkpoints_sent_again_after_a_resume_are_relayed_once() -> None:
    key = Ed25519PrivateKey.generate()
    chain = ChainWriter(key, b"manifest")
    tokens = [json.dumps({"type": CHECKPOINT, "token": chain.checkpoint(1000 + i)}) for i in range(3)]
    assert [checkpoint_seq(token) for token in tokens] == [0, 1, 2]
    assert checkpoint_seq(json.dumps({"type": "position"})) is None
    assert checkpoint_seq("not json") is None
    assert checkpoint_seq(json.dumps({"type": CHECKPOINT, "token": "a.b.c"})) is None
