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
        self._markers: dict[int, int] = {}  # timestamp -> sequence number of its marker packet

    def add(self, packet: RtpPacket) -> EncodedFrame | None:
        """O(1) until the frame's marker packet is in; then one walk back to its first packet."""
        packets = self._pending.setdefault(packet.timestamp, {})
        packets[packet.sequence_number] = packet
        if packet.marker:
            self._markers[packet.timestamp] = packet.sequence_number
        seq = self._markers.get(packet.timestamp)
        if seq is None:
            return None
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
        for done in [ts for ts in self._markers if ts not in self._pending]:
            del self._markers[done]
        return EncodedFrame(packet.timestamp, b"".join(vp8_depayload(p.payload) for p in reversed(chain)))
