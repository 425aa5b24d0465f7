"""What the SFU changes in a packet it forwards: header, sequence number, SSRC; pure RTP.

A received packet (``SourcePacket``) is serialized once per header layout and shared by
every viewer with that layout; each viewer's ``RtpRewriter`` holds what its copies' headers
say (payload type, SSRC, its sequence numbers' offset from the source's), which the
compiled fan-out (``fanout``) patches in, and answers NACKs from the producer track's
``SourceHistory``, wrapped in RTX when negotiated.
A camera that resumed its stream over a new connection sends a new RTP series; its
``UplinkSeries`` moves it onto the running one before any viewer or the recorder sees it.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from aiortc.rtp import RTP_HISTORY_SIZE, HeaderExtensionsMap, RtpPacket, wrap_rtx
from aiortc.utils import random16

from ._fanout import ffi, lib

NTP_UNIX_OFFSET = 2208988800


def ntp_now() -> int:
    """The current time as a 64-bit NTP timestamp (aiortc's clock goes through datetime)."""
    return int((time.time() + NTP_UNIX_OFFSET) * (1 << 32))


class UplinkSeries:
    """One producer track's RTP series across the camera's connections.

    The first connection's packets pass unchanged. After ``next_uplink()`` (a resume) the
    new connection's packets are moved onto the running series: its first packet follows
    the last one forwarded (sequence number + 1, timestamp advanced by the time between, at
    ``clock_rate``) and carries the first connection's SSRC, so viewers' decoders and the
    recording go on as after a short loss.
    """

    __slots__ = ("_clock", "_joining", "_last_at", "_last_seq", "_last_ts", "_moved", "_rate", "_seq_offset",
                 "_ssrc", "_ts_offset")

    def __init__(self, clock_rate: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = clock_rate
        self._clock = clock
        self._ssrc: int | None = None
        self._last_seq = self._last_ts = 0
        self._last_at = 0.0
        self._joining = self._moved = False
        self._seq_offset = self._ts_offset = 0

    def next_uplink(self) -> None:
        """The packets from now on come from a new connection (with its own series)."""
        self._joining = self._ssrc is not None

    def place(self, packet: RtpPacket) -> None:
        """Move ``packet`` onto the running series (in place)."""
        if self._joining:
            self._joining, self._moved = False, True
            ticks = max(1, round((self._clock() - self._last_at) * self._rate))
            self._seq_offset = (self._last_seq + 1 - packet.sequence_number) & 0xFFFF
            self._ts_offset = (self._last_ts + ticks - packet.timestamp) & 0xFFFFFFFF
        if self._moved:
            packet.sequence_number = (packet.sequence_number + self._seq_offset) & 0xFFFF
            packet.timestamp = (packet.timestamp + self._ts_offset) & 0xFFFFFFFF
            packet.ssrc = self._ssrc  # type: ignore[assignment]  # set by the first connection's packets
        elif self._ssrc is None:
            self._ssrc, self._last_seq = packet.ssrc, packet.sequence_number - 1
        if (packet.sequence_number - self._last_seq) & 0xFFFF < 0x8000:  # newest yet (not a late one)
            self._last_seq, self._last_ts, self._last_at = packet.sequence_number, packet.timestamp, self._clock()


class SourcePacket:
    """One received RTP packet on its way to many outputs.

    Outputs whose peers negotiated the same header layout (extension ids, mid) share one
    serialization; each then patches only payload type, sequence number and SSRC.
    """

    __slots__ = ("_rendered", "ntp", "packet")

    def __init__(self, packet: RtpPacket) -> None:
        self.packet = packet
        self.ntp = ntp_now()
        self._rendered: dict[bytes, bytes] = {}

    @property
    def abs_send_time(self) -> int:
        """The abs-send-time its renderings carry (6.18 fixed point seconds, 24 bits)."""
        return (self.ntp >> 14) & 0x00FFFFFF

    def render(self, layout: bytes, mid: str | None, extensions: HeaderExtensionsMap) -> bytes:
        data = self._rendered.get(layout)
        if data is None:
            source = self.packet
            packet = RtpPacket(marker=source.marker, timestamp=source.timestamp, payload=source.payload)
            packet.extensions.mid = mid
            packet.extensions.abs_send_time = self.abs_send_time
            packet.extensions.audio_level = source.extensions.audio_level
            data = self._rendered[layout] = packet.serialize(extensions)
        return data


def rendered_head(mid: str | None, extensions: HeaderExtensionsMap) -> tuple[bytes, int]:
    """The header ``SourcePacket.render`` gives a packet without an audio level (fields the
    fan-out patches left zero), and where its abs-send-time goes (-1: not negotiated): the
    one place two renderings with different stamps differ."""
    heads = []
    for stamp in (0, 0xFFFFFF):
        probe = RtpPacket()
        probe.extensions.mid, probe.extensions.abs_send_time = mid, stamp
        heads.append(probe.serialize(extensions))
    differ = [i for i, (a, b) in enumerate(zip(*heads, strict=True)) if a != b]
    return heads[0], differ[0] if differ else -1


class SourceHistory:
    """A producer track's last ``RTP_HISTORY_SIZE`` packets by sequence number, for NACKs:
    kept once for all its viewers (each one's copy is its rewriter's header on them)."""

    __slots__ = ("_packets", "_serials", "serial")

    def __init__(self) -> None:
        self._packets: list[SourcePacket | None] = [None] * RTP_HISTORY_SIZE
        self._serials = [-1] * RTP_HISTORY_SIZE
        self.serial = 0  # packets added so far

    def add(self, source: SourcePacket) -> None:
        slot = source.packet.sequence_number % RTP_HISTORY_SIZE
        self._packets[slot], self._serials[slot] = source, self.serial
        self.serial += 1

    def get(self, sequence_number: int, since: int) -> SourcePacket | None:
        """The packet with ``sequence_number`` if it is kept and was added at or after the
        ``since``-th packet."""
        slot = sequence_number % RTP_HISTORY_SIZE
        source = self._packets[slot]
        if source is None or self._serials[slot] < since or source.packet.sequence_number != sequence_number:
            return None
        return source


class RtpRewriter:
    """One output's own RTP series for one track.

    Sequence numbers start at a random ``first_seq`` and keep a fixed offset from the
    source's, so a gap in the source stays a gap and a late resend takes its own place
    (never moving the series on); timestamps pass through. ``start()`` with what
    negotiation fixed comes before the first packet; ``begin()`` fixes the offset at it.
    """

    __slots__ = ("_extensions", "_first_seq", "_history", "_mid", "_offset", "_rtx_payload_type", "_rtx_seq",
                 "_rtx_ssrc", "_since", "layout", "payload_type", "ssrc")

    def __init__(self, history: SourceHistory, first_seq: int | None = None, first_rtx_seq: int | None = None) -> None:
        self._history = history
        self._first_seq = random16() if first_seq is None else first_seq
        self._rtx_seq = random16() if first_rtx_seq is None else first_rtx_seq
        self._offset: int | None = None
        self._since = 0  # the history's serial at the first packet
        self.ssrc = 0
        self._rtx_ssrc = 0
        self.payload_type = 0
        self._rtx_payload_type: int | None = None
        self._mid: str | None = None
        self._extensions = HeaderExtensionsMap()
        self.layout = b""

    def start(self, *, ssrc: int, rtx_ssrc: int, payload_type: int, rtx_payload_type: int | None,
              mid: str | None, extensions: HeaderExtensionsMap) -> None:
        """Take the negotiated parameters; the sequence series goes on where it was."""
        self.ssrc = ssrc
        self._rtx_ssrc = rtx_ssrc
        self._rtx_payload_type = rtx_payload_type
        self._mid = mid
        self._extensions = extensions
        probe = RtpPacket()
        probe.extensions.mid = mid
        probe.extensions.abs_send_time = 0
        probe.extensions.audio_level = (False, 0)
        self.layout = probe.serialize(extensions)  # identifies the header layout
        self.payload_type = payload_type

    @property
    def header(self) -> tuple[bytes, str | None, HeaderExtensionsMap]:
        """What renders this output's packets: layout, mid, extension ids (``SourcePacket.render``)."""
        return self.layout, self._mid, self._extensions

    def begin(self, source: SourcePacket) -> int:
        """The offset from the source's sequence numbers to this output's, fixed at the
        first packet (``source``, already in the history) it is sent."""
        if self._offset is None:
            self._offset = (self._first_seq - source.packet.sequence_number) & 0xFFFF
            self._since = self._history.serial - 1
        return self._offset

    def rewrite(self, source: SourcePacket) -> bytes:
        """This output's bytes for ``source`` (after ``start()``), as the fan-out sends them."""
        packet = source.packet
        data = bytearray(source.render(self.layout, self._mid, self._extensions))
        lib.bw_patch(ffi.from_buffer(data), packet.marker, self.payload_type,
                     (packet.sequence_number + self.begin(source)) & 0xFFFF, packet.timestamp, self.ssrc)
        return bytes(data)

    def resend(self, sequence_number: int) -> bytes | None:
        """What to send for a NACK of ``sequence_number``: the packet as sent, or RTX-wrapped
        when negotiated; ``None`` once it left the history (or was never sent)."""
        if self._offset is None:
            return None
        source = self._history.get((sequence_number - self._offset) & 0xFFFF, self._since)
        if source is None:
            return None
        data = self.rewrite(source)
        if self._rtx_payload_type is None:
            return data
        packet = wrap_rtx(RtpPacket.parse(data, self._extensions), payload_type=self._rtx_payload_type,
                          sequence_number=self._rtx_seq, ssrc=self._rtx_ssrc)
        self._rtx_seq = (self._rtx_seq + 1) & 0xFFFF
        return packet.serialize(self._extensions)
