"""What bwlive reads from VP8 RTP payloads (RFC 7741) without decrypting or decoding:
whether a packet starts a key frame, and the encoded frames the packets carry."""
from __future__ import annotations

from dataclasses import dataclass

from aiortc.codecs.vpx import vp8_depayload
from aiortc.rtp import RtpPacket


def starts_keyframe(payload: bytes) -> bool:
    """True if this RTP payload is the first packet of a VP8 key frame.

    Reads the payload descriptor and the first byte of the VP8 frame, which the
    end-to-end encryption leaves in clear for exactly this purpose.
    """
    if not payload:
        return False
    first = payload[0]
    if not first & 0x10 or first & 0x07:  # S bit set and partition index 0
        return False
    pos = 1
    if first & 0x80:  # X: extension byte follows
        if len(payload) < 2:
            return False
        ext = payload[1]
        pos = 2
        if ext & 0x80:  # I: picture id, 7 or 15 bits
            if len(payload) <= pos:
                return False
            pos += 2 if payload[pos] & 0x80 else 1
        if ext & 0x40:  # L: TL0PICIDX
            pos += 1
        if ext & 0x30:  # T or K: TID/KEYIDX byte
            pos += 1
    return len(payload) > pos and payload[pos] & 0x01 == 0


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
