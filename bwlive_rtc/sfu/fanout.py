"""One producer track's packets to every viewer with one header layout, in one compiled
call per packet (``_fanout``, built from fanout.c).

Each viewer is a ``Route``: where its SRTP-protected copy goes and what its header says.
The compiled loop copies the shared rendering (the layout's header, kept once, with the
packet's abs-send-time put in, then the payload; an audio packet's, with its level, is
rendered in Python), patches payload type, marker, sequence number, timestamp and SSRC
(``bw_patch``, the only code that writes a forwarded header: ``RtpRewriter`` calls it
too), protects and sends; an output whose socket would block is handed back here and sent
through its ``queue`` (the event loop's transport, which buffers). Per viewer per packet
nothing runs in Python (RESULTS §19).
"""
from __future__ import annotations

import os
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiortc.rtp import HeaderExtensionsMap

try:
    from ._fanout import ffi, lib
except ImportError as error:  # a source tree used without installing it
    raise ImportError("the compiled fan-out (bwlive_rtc/sfu/_fanout) is not built: install the package "
                      "(pip install -e .) or run python3 bwlive_rtc/sfu/fanout_build.py") from error
from .rewriter import SourcePacket, rendered_head

CAPACITY = 2048  # bytes of one protected packet, at most (a rendering plus SRTP's trailer)
SYNC_EVERY = 16  # packets between two copies of the counters to their owners (RTCP sender reports)


def sockaddr(address: tuple[Any, ...]) -> bytes:
    """``address`` (host, port) as a C ``struct sockaddr_in`` or ``sockaddr_in6``."""
    host, port = str(address[0]), int(address[1])
    if ":" not in host:
        return struct.pack("=HH4s8x", socket.AF_INET, socket.htons(port), socket.inet_aton(host))
    host, _, scope = host.partition("%")
    scope_id = (int(scope) if scope.isdigit() else socket.if_nametoindex(scope)) if scope else 0
    return struct.pack("=HHI16sI", socket.AF_INET6, socket.htons(port), 0, socket.inet_pton(socket.AF_INET6, host),
                       scope_id)


@dataclass(eq=False)
class Route:
    """One output of a fan-out: its SRTP protect function and session (C addresses), its UDP
    socket and peer, its header fields, the counters it starts from, and where its packets
    go when the socket would block. ``sync(packets, octets, source)`` receives the counters
    now and then; ``keep`` holds what the addresses point into."""

    protect: int
    context: int
    fd: int
    address: tuple[Any, ...]
    payload_type: int
    offset: int
    ssrc: int
    queue: Callable[[bytes], bool]  # sends through the event loop; True while its buffer holds some
    sync: Callable[[int, int, SourcePacket], None]
    packets: int = 0
    octets: int = 0
    keep: object = None
    index: int = field(default=-1, init=False)
    own_fd: int = field(default=-1, init=False)


class Fanout:
    """The outputs of one producer track with one header layout (mid, extension ids)."""

    def __init__(self, layout: bytes, mid: str | None, extensions: HeaderExtensionsMap) -> None:
        self.layout, self._mid, self._extensions = layout, mid, extensions
        self._head, self._stamp_at = rendered_head(mid, extensions)
        self._routes: list[Route] = []
        self._records = ffi.new("struct bw_output[]", 4)
        self._buffer = ffi.new("unsigned char[]", CAPACITY)
        self._sent = 0
        self._last: SourcePacket | None = None

    def __len__(self) -> int:
        return len(self._routes)

    def add(self, route: Route) -> None:
        """Send to ``route`` from the next ``send()`` on."""
        count = len(self._routes)
        if count == len(self._records):
            records = ffi.new("struct bw_output[]", 2 * count)
            ffi.memmove(records, self._records, count * ffi.sizeof("struct bw_output"))
            self._records = records
        route.own_fd = os.dup(route.fd)  # the fan-out's own: a closed transport's number may be reused
        record = self._records[count]
        address = sockaddr(route.address)
        record.protect = ffi.cast("bw_protect_fn", route.protect)
        record.context = ffi.cast("void *", route.context)
        record.fd, record.queued = route.own_fd, 0
        record.address[0:len(address)] = address
        record.address_length = len(address)
        record.payload_type, record.offset, record.ssrc = route.payload_type, route.offset & 0xFFFF, route.ssrc
        record.packets, record.octets = route.packets, route.octets
        route.index = count
        self._routes.append(route)

    def remove(self, route: Route) -> None:
        """Stop sending to ``route`` (its counters synced a last time)."""
        if route.index < 0:
            return
        index, last = route.index, len(self._routes) - 1
        self._sync(route)
        if index != last:  # the last output takes its place
            moved = self._routes[last]
            self._records[index] = self._records[last]
            self._routes[index], moved.index = moved, index
        self._routes.pop()
        os.close(route.own_fd)
        route.index = route.own_fd = -1

    def send(self, source: SourcePacket) -> None:
        """``source`` to every output."""
        if self._routes:
            self._send(source, self._records, len(self._routes), 0)

    def send_one(self, route: Route, source: SourcePacket) -> None:
        """``source`` to ``route`` alone (a joiner's first packet)."""
        self._send(source, self._records + route.index, 1, route.index)

    def _send(self, source: SourcePacket, records: Any, count: int, first: int) -> None:
        packet = source.packet
        if packet.extensions.audio_level is None:  # the layout's header, its stamp put in by the C
            head, payload, stamp_at = self._head, packet.payload, self._stamp_at
        else:  # each packet's own audio level: rendered here
            head, payload, stamp_at = source.render(self.layout, self._mid, self._extensions), b"", -1
        buffer, start = self._buffer, 0
        while True:
            i = lib.bw_fanout(head, len(head), payload, len(payload), stamp_at, source.abs_send_time, packet.marker,
                              packet.sequence_number, packet.timestamp, len(packet.payload), records, count, start,
                              buffer, CAPACITY)
            if i >= count:
                break
            record = records[i]
            record.queued = int(self._routes[first + i].queue(ffi.buffer(buffer, record.length)[:]))
            start = i + 1
        self._last = source
        self._sent += 1
        if self._sent % SYNC_EVERY == 0:
            for route in self._routes:
                self._sync(route)

    def _sync(self, route: Route) -> None:
        if self._last is not None:
            record = self._records[route.index]
            route.sync(record.packets, record.octets, self._last)
