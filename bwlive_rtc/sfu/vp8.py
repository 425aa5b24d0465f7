"""The one VP8 fact the SFU reads from a packet: does it start a key frame?"""
from __future__ import annotations


def starts_keyframe(payload: bytes) -> bool:
    """True if this RTP payload (RFC 7741) is the first packet of a VP8 key frame.

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
