"""A UDP socket's waiting datagrams in one compiled call (``_fanout``'s ``bw_receive``,
built from receive.c): ``recvmmsg``, then for each SRTP media datagram pylibsrtp's own
``srtp_unprotect`` in place and its RTP header read; the rest (STUN, DTLS, RTCP, media
before SRTP is keyed) comes back as received, with its sender's address. What Python
makes per media packet is the ``RtpPacket`` alone (RESULTS §21).
"""
from __future__ import annotations

import os
import socket
import struct
from dataclasses import dataclass
from typing import Any

from aiortc.rtp import RtpPacket

from ._fanout import ffi, lib

SLOT = 65536  # bytes per datagram read: any UDP datagram fits
MEDIA, OTHER = lib.BW_MEDIA, lib.BW_OTHER


@dataclass(slots=True)
class Media:
    """An unprotected RTP packet, its header extension as received (parsed only by who needs it)."""

    packet: RtpPacket
    extension_profile: int
    extension: bytes


@dataclass(slots=True)
class Datagram:
    """A datagram that is not SRTP media (or arrived before SRTP was keyed), as received."""

    data: bytes
    address: tuple[Any, ...]


def address_of(sockaddr: bytes) -> tuple[Any, ...]:
    """A C ``struct sockaddr_in``/``sockaddr_in6`` as Python's ``recvfrom`` gives it."""
    family, port = struct.unpack_from("=H", sockaddr)[0], struct.unpack_from("!H", sockaddr, 2)[0]
    if family == socket.AF_INET:
        return socket.inet_ntop(socket.AF_INET, sockaddr[4:8]), port
    flowinfo, raw, scope_id = struct.unpack_from("!I16s", sockaddr, 4) + struct.unpack_from("=I", sockaddr, 24)
    host = socket.inet_ntop(socket.AF_INET6, raw)
    if scope_id:
        host = socket.getnameinfo((host, port, flowinfo, scope_id), socket.NI_NUMERICHOST | socket.NI_NUMERICSERV)[0]
    return host, port, flowinfo, scope_id


class BurstReader:
    """Reads up to ``burst`` datagrams of a socket per ``read``: one buffer, reused (what
    ``read`` returns is copied out of it)."""

    def __init__(self, burst: int) -> None:
        self.burst = burst
        self._buffer = ffi.new("unsigned char[]", SLOT * burst)
        self._data = ffi.buffer(self._buffer)
        self._results = ffi.new("struct bw_received[]", burst)
        self.dropped = 0  # media datagrams that did not unprotect or parse, so far

    def read(self, fd: int, unprotect: int, context: int) -> list[Media | Datagram]:
        """What waits on ``fd`` (non-blocking), in order; SRTP media unprotected with the C
        function at ``unprotect`` and the session at ``context`` (0: none yet, all handed
        back as received). Raises ``OSError`` for a socket error."""
        count = lib.bw_receive(fd, ffi.cast("bw_unprotect_fn", unprotect), ffi.cast("void *", context),
                               self._buffer, SLOT, self.burst, self._results)
        if count < 0:
            raise OSError(-count, os.strerror(-count))
        data, results = self._data, self._results
        got: list[Media | Datagram] = []
        for i in range(count):
            result = results[i]
            kind = result.kind
            start = i * SLOT
            if kind == MEDIA:
                offset = start + result.payload_offset
                packet = RtpPacket(result.payload_type, result.marker, result.sequence_number, result.timestamp,
                                   result.ssrc, data[offset:offset + result.payload_length])
                offset = start + result.extension_offset
                got.append(Media(packet, result.extension_profile, data[offset:offset + result.extension_length]))
            elif kind == OTHER:
                got.append(Datagram(data[start:start + result.length],
                                    address_of(bytes(result.address[0:result.address_length]))))
            else:
                self.dropped += 1
        return got
