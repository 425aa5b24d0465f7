"""Every touch of aiortc internals, in one place.

aiortc decodes what it receives and encodes what it sends; an SFU must do neither. This
module turns an ``RTCRtpReceiver`` into a tap that hands each RTP packet to a callback,
and an ``RTCRtpSender`` into an output that sends RTP packets we give it, and lets the
camera agent learn about keyframe requests. It relies on private names of aiortc
1.16.0 (pinned in setup.cfg); ``check_compatible()`` fails loudly when they move, and
tests/test_aiortc_adapter.py exercises every function here.
"""
from __future__ import annotations

import asyncio
import struct
import time
import weakref
from collections.abc import Callable
from typing import Any

import aioice.ice
import aiortc
import pylibsrtp
from aiortc import RTCDtlsTransport, RTCRtpReceiver, RTCRtpSender, clock, rtp
from aiortc.codecs import is_rtx
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpreceiver import StreamStatistics
from aiortc.rtp import RTP_HISTORY_SIZE, RtpPacket, is_rtcp, unwrap_rtx, wrap_rtx
from aiortc.utils import random16

SUPPORTED_AIORTC = "1.16.0"

PacketCallback = Callable[[RtpPacket], None]

_RECEIVER_ATTRS = (
    "_RTCRtpReceiver__codecs",
    "_RTCRtpReceiver__remote_streams",
    "_RTCRtpReceiver__rtx_ssrc",
    "_RTCRtpReceiver__nack_generator",
    "_RTCRtpReceiver__active_ssrc",
    "_send_rtcp_nack",
    "_send_rtcp_pli",
)
_SENDER_ATTRS = (
    "_RTCRtpSender__rtp_header_extensions_map",
    "_RTCRtpSender__rtp_started",
    "_RTCRtpSender__rtp_exited",
    "_RTCRtpSender__mid",
    "_RTCRtpSender__ntp_timestamp",
    "_RTCRtpSender__rtp_timestamp",
    "_RTCRtpSender__octet_count",
    "_RTCRtpSender__packet_count",
    "_RTCRtpSender__rtx_payload_type",
    "_send_keyframe",
    "_retransmit",
    "_run_rtp",
)


class IncompatibleAiortc(RuntimeError):
    """The installed aiortc is not the one this adapter was written against."""


def check_compatible(receiver: RTCRtpReceiver | None = None, sender: RTCRtpSender | None = None) -> None:
    """Raise ``IncompatibleAiortc`` unless aiortc and the given objects look as expected."""
    if aiortc.__version__ != SUPPORTED_AIORTC:
        raise IncompatibleAiortc(
            f"bwlive's SFU adapter supports aiortc {SUPPORTED_AIORTC}, found {aiortc.__version__}"
        )
    for obj, names in ((receiver, _RECEIVER_ATTRS), (sender, _SENDER_ATTRS)):
        if obj is None:
            continue
        missing = [name for name in names if not hasattr(obj, name)]
        if missing:
            raise IncompatibleAiortc(f"aiortc {type(obj).__name__} lacks {', '.join(missing)}")


# --- receiving: a tap instead of jitter buffer + decoder ------------------------------


def tap_receiver(receiver: RTCRtpReceiver, on_packet: PacketCallback) -> None:
    """Hand every RTP packet the receiver gets (RTX unwrapped) to ``on_packet``.

    Keeps what the receiver does for the network (RTCP receiver statistics, NACKs for
    missing packets) and skips bitrate estimation, depacketizing, jitter buffer and
    decoding. ``on_packet`` runs synchronously on the event loop: keep it short.
    """
    check_compatible(receiver=receiver)
    codecs: dict[int, RTCRtpCodecParameters] = receiver._RTCRtpReceiver__codecs
    streams: dict[int, StreamStatistics] = receiver._RTCRtpReceiver__remote_streams
    rtx_ssrc: dict[int, int] = receiver._RTCRtpReceiver__rtx_ssrc
    active: dict[int, Any] = receiver._RTCRtpReceiver__active_ssrc
    nack = receiver._RTCRtpReceiver__nack_generator

    def handle_now(packet: RtpPacket) -> None:
        codec = codecs.get(packet.payload_type)
        if codec is None:
            return
        stats = streams.get(packet.ssrc)
        if stats is None:
            stats = streams[packet.ssrc] = StreamStatistics(codec.clockRate)
            active[packet.ssrc] = clock.current_datetime()
        stats.add(packet)
        if is_rtx(codec):
            original_ssrc = rtx_ssrc.get(packet.ssrc)
            apt = codec.parameters.get("apt")
            if original_ssrc is None or len(packet.payload) < 2 or apt not in codecs:
                return
            packet = unwrap_rtx(packet, payload_type=apt, ssrc=original_ssrc)
        if nack is not None and nack.add(packet):
            asyncio.ensure_future(receiver._send_rtcp_nack(packet.ssrc, sorted(nack.missing)))
        on_packet(packet)

    async def handle_rtp_packet(packet: RtpPacket, arrival_time_ms: int) -> None:
        handle_now(packet)

    receiver._handle_rtp_packet = handle_rtp_packet  # type: ignore[method-assign]
    _TAPS[receiver] = handle_now


_TAPS: weakref.WeakKeyDictionary[RTCRtpReceiver, PacketCallback] = weakref.WeakKeyDictionary()


def fast_ingest(dtls: RTCDtlsTransport) -> None:
    """Handle SRTP media datagrams of ``dtls`` synchronously as they arrive.

    aiortc queues every datagram and hands it through three coroutines before SRTP; for
    packets of tapped receivers this does unprotect, parse and the tap at once, in the
    protocol's ``datagram_received``. RTCP, DTLS and STUN take the usual path.
    """
    _skip_stun_parse_for_media()
    connection = dtls.transport._connection
    queued = connection.data_received

    def data_received(data: bytes, component: int) -> None:
        srtp = dtls._rx_srtp
        if srtp is None or not 127 < data[0] < 192 or (len(data) > 1 and 192 <= data[1] <= 223):
            queued(data, component)  # not SRTP media: DTLS, RTCP, or too early
            return
        try:
            packet = RtpPacket.parse(srtp.unprotect(data), dtls._rtp_header_extensions_map)
        except (pylibsrtp.Error, ValueError):
            return
        receiver = dtls._rtp_router.route_rtp(packet)
        tap = _TAPS.get(receiver) if receiver is not None else None
        if tap is not None:
            tap(packet)

    connection.data_received = data_received


def _skip_stun_parse_for_media() -> None:
    """aioice tries to parse every datagram as STUN first; RTP/RTCP (first byte >= 128)
    never is one, so hand those straight on (process-wide, behaviour unchanged)."""
    if getattr(aioice.ice.StunProtocol, "_bwlive_fast", False):
        return
    original = aioice.ice.StunProtocol.datagram_received

    def datagram_received(self: aioice.ice.StunProtocol, data: bytes, addr: tuple[Any, ...]) -> None:
        if data and data[0] > 127:
            self.receiver.data_received(data, self.local_candidate.component)
        else:
            original(self, data, addr)

    aioice.ice.StunProtocol.datagram_received = datagram_received
    aioice.ice.StunProtocol._bwlive_fast = True


async def request_keyframe(receiver: RTCRtpReceiver, media_ssrc: int) -> None:
    """Send an RTCP PLI for ``media_ssrc`` (the primary SSRC, never the RTX one)."""
    await receiver._send_rtcp_pli(media_ssrc)


# --- sending: an output fed with RTP packets ------------------------------------------

NTP_UNIX_OFFSET = 2208988800


def ntp_now() -> int:
    """The current time as a 64-bit NTP timestamp (aiortc's clock goes through datetime)."""
    return int((time.time() + NTP_UNIX_OFFSET) * (1 << 32))


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

    def render(self, layout: bytes, mid: str | None, extensions_map: rtp.HeaderExtensionsMap) -> bytes:
        data = self._rendered.get(layout)
        if data is None:
            source = self.packet
            packet = RtpPacket(marker=source.marker, timestamp=source.timestamp, payload=source.payload)
            packet.extensions.mid = mid
            packet.extensions.abs_send_time = (self.ntp >> 14) & 0x00FFFFFF
            packet.extensions.audio_level = source.extensions.audio_level
            data = self._rendered[layout] = packet.serialize(extensions_map)
        return data


class ForwardingOutput:
    """Sends RTP packets through an ``RTCRtpSender`` without its encoder.

    The sender keeps doing its RTCP (sender reports); its ``_run_rtp`` loop is replaced
    by one that only waits to be cancelled, and its NACK handling by one that resends
    from our own history of sent bytes (RTX when negotiated). Sequence numbers follow
    this output's own continuous series; timestamps pass through.
    """

    def __init__(self, sender: RTCRtpSender, on_keyframe_request: Callable[[], None]) -> None:
        check_compatible(sender=sender)
        self._sender = sender
        self._ssrc = struct.pack("!I", sender._ssrc)
        self._history: dict[int, bytes] = {}
        self._payload_type: int | None = None
        self._mid: str | None = None
        self._extensions: rtp.HeaderExtensionsMap = sender._RTCRtpSender__rtp_header_extensions_map
        self._layout = b""
        self._seq_offset: int | None = None
        self._next_seq = random16()
        self._rtx_seq = random16()
        sender._send_keyframe = on_keyframe_request  # type: ignore[method-assign]
        sender._run_rtp = self._run_rtp  # type: ignore[method-assign]
        sender._retransmit = self._retransmit  # type: ignore[method-assign]

    @property
    def ready(self) -> bool:
        """True once negotiation finished and the transport can carry media."""
        transport = self._sender.transport
        return self._payload_type is not None and transport._state == DtlsState.CONNECTED

    async def _run_rtp(self, codec: RTCRtpCodecParameters) -> None:
        sender = self._sender
        self._mid = sender._RTCRtpSender__mid  # negotiated by now, as are the extension ids
        probe = RtpPacket()
        probe.extensions.mid = self._mid
        probe.extensions.abs_send_time = 0
        probe.extensions.audio_level = (False, 0)
        self._layout = probe.serialize(self._extensions)  # identifies the header layout
        self._payload_type = codec.payloadType
        sender._RTCRtpSender__rtp_started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            pass
        finally:
            self._payload_type = None
            sender._RTCRtpSender__rtp_exited.set()

    def send(self, source: SourcePacket) -> None:
        """Send ``source`` to this peer now, and remember it for NACKs."""
        packet = source.packet
        if self._seq_offset is None:
            self._seq_offset = (self._next_seq - packet.sequence_number) & 0xFFFF
        seq = (packet.sequence_number + self._seq_offset) & 0xFFFF
        if (seq - self._next_seq) & 0xFFFF < 0x8000:  # newest so far (not a late resend)
            self._next_seq = (seq + 1) & 0xFFFF
        sender = self._sender
        header = bytearray(source.render(self._layout, self._mid, self._extensions))
        header[1] = (header[1] & 0x80) | self._payload_type
        header[2] = seq >> 8
        header[3] = seq & 0xFF
        header[8:12] = self._ssrc
        data = bytes(header)
        self._history[seq % RTP_HISTORY_SIZE] = data
        send_rtp_now(sender, data)
        # what aiortc's sender reports (RTCP SR) about what it sent
        sender._RTCRtpSender__packet_count += 1
        sender._RTCRtpSender__octet_count += len(packet.payload)
        sender._RTCRtpSender__ntp_timestamp = source.ntp
        sender._RTCRtpSender__rtp_timestamp = packet.timestamp

    async def _retransmit(self, sequence_number: int) -> None:
        data = self._history.get(sequence_number % RTP_HISTORY_SIZE)
        if data is None or (data[2] << 8 | data[3]) != sequence_number:
            return
        rtx_payload_type = self._sender._RTCRtpSender__rtx_payload_type
        if rtx_payload_type is not None:
            packet = RtpPacket.parse(data, self._extensions)
            packet = wrap_rtx(packet, payload_type=rtx_payload_type, sequence_number=self._rtx_seq, ssrc=self._sender._rtx_ssrc)
            self._rtx_seq = (self._rtx_seq + 1) & 0xFFFF
            data = packet.serialize(self._extensions)
        try:
            send_rtp_now(self._sender, data)
        except ConnectionError:
            pass


def send_rtp_now(sender: RTCRtpSender, data: bytes) -> None:
    """SRTP-protect and send one serialized RTP packet synchronously.

    aiortc's ``_send_rtp`` chain is four coroutines that never suspend; calling the
    bottom of it directly saves their cost on the per-packet path.
    """
    dtls = sender.transport
    if dtls._state != DtlsState.CONNECTED:
        raise ConnectionError("transport not connected")
    pair = dtls.transport._connection._nominated.get(1)
    if pair is None:
        raise ConnectionError("no nominated ICE pair")
    pair.protocol.transport.sendto(dtls._tx_srtp.protect(data), pair.remote_addr)


# --- camera side: pacing, and keyframe requests reach our own encoder -----------------


class Pacer:
    """A token bucket: ``rate_bps`` sustained, ``burst_bytes`` at once."""

    def __init__(self, rate_bps: float, burst_bytes: int) -> None:
        self.rate = rate_bps / 8  # bytes per second
        self.burst = burst_bytes
        self._tokens = float(burst_bytes)
        self._stamp = time.monotonic()

    def delay_for(self, size: int) -> float:
        """Take ``size`` bytes; returns how long to wait before sending them."""
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate) - size
        self._stamp = now
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


def pace_media(dtls: RTCDtlsTransport, rate_bps: float = 8_000_000, burst_bytes: int = 24_000) -> Pacer:
    """Spread the RTP packets a peer sends over time instead of writing a whole key frame
    (~100 packets) at once, as WebRTC senders do; RTCP is never delayed.

    aiortc's sender awaits ``_send_rtp`` for every packet, so waiting there paces it.
    """
    pacer = Pacer(rate_bps, burst_bytes)
    send = dtls._send_rtp

    async def paced_send_rtp(data: bytes) -> None:
        if not is_rtcp(data):
            wait = pacer.delay_for(len(data))
            if wait > 0:
                await asyncio.sleep(wait)
        await send(data)

    dtls._send_rtp = paced_send_rtp  # type: ignore[method-assign]
    return pacer


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Call ``callback`` when the remote asks ``sender`` for a keyframe (PLI/FIR).

    aiortc only honours PLI when it encodes itself; our camera sends pre-encoded,
    encrypted packets, so the request is routed to our encoder instead.
    """
    check_compatible(sender=sender)
    sender._send_keyframe = callback  # type: ignore[method-assign]
