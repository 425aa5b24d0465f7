"""Reassembles VP8 frames from RTP packets (RFC 7741) without decoding them."""
from __future__ import annotations

from dataclasses import dataclass

from aiortc.codecs.vpx import vp8_depayload
from aiortc.rtp import RtpPacket


@dataclass
class EncodedFrame:
    timestamp: int
    data: bytes


class Vp8Assembler:
    """Feed packets in any order; complete frames come out at their marker packet."""

    def __init__(self) -> None:
        self._pending: dict[int, dict[int, RtpPacket]] = {}

    def add(self, packet: RtpPacket) -> EncodedFrame | None:
        packets = self._pending.setdefault(packet.timestamp, {})
        packets[packet.sequence_number] = packet
        marker = next((p for p in packets.values() if p.marker), None)
        if marker is None:
            return None
        seq = marker.sequence_number
        chain = []
        while seq in packets:
            chain.append(packets[seq])
            if packets[seq].payload and packets[seq].payload[0] & 0x10:  # S bit: first packet
                break
            seq = (seq - 1) & 0xFFFF
        else:
            return None  # still missing packets
        del self._pending[packet.timestamp]
        for stale in [ts for ts in self._pending if (packet.timestamp - ts) & 0xFFFFFFFF < 0x80000000]:
            del self._pending[stale]  # older frames can no longer complete usefully
        return EncodedFrame(packet.timestamp, b"".join(vp8_depayload(p.payload) for p in reversed(chain)))
