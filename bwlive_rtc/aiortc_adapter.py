"""Every touch of aiortc internals, in one place.

aiortc decodes what it receives and encodes what it sends; an SFU must do neither. This
module turns an ``RTCRtpReceiver`` into a tap that hands each RTP packet to a callback,
binds an ``RTCRtpSender`` to an ``sfu.rewriter.RtpRewriter`` and a compiled fan-out
(``sfu.fanout``) that sends its bytes, and
lets the camera agent learn about keyframe requests. It relies on private names of aiortc
1.16.0 and aioice (pinned in setup.cfg), all listed in ``INTERNALS``; ``check_compatible()``
fails loudly when they move, and tests/test_aiortc_adapter.py exercises every function here
and checks that ``INTERNALS`` lists every private name this module touches.
"""
from __future__ import annotations

import asyncio
import errno
import functools
import random
import socket
import threading
import time
import weakref
from asyncio.selector_events import _SelectorDatagramTransport  # type: ignore[attr-defined]
from collections.abc import Callable, Coroutine
from typing import Any

import aioice.ice
import aioice.turn
import aiortc
import pylibsrtp
from aioice.candidate import Candidate, candidate_foundation, candidate_priority
from aiortc import RTCDtlsTransport, RTCIceTransport, RTCPeerConnection, RTCRtpReceiver, RTCRtpSender, clock
from aiortc.codecs import is_rtx
from aiortc.rtcdtlstransport import RtpRouter
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpreceiver import StreamStatistics
from aiortc.rtp import (
    RTCP_PSFB_APP,
    AnyRtcpPacket,
    RtcpPsfbPacket,
    RtpPacket,
    is_rtcp,
    pack_remb_fci,
    unpack_remb_fci,
    unwrap_rtx,
)
from pylibsrtp._binding import ffi as srtp_ffi
from pylibsrtp._binding import lib as srtp_lib

from .sfu.fanout import Fanout, Route
from .sfu.nack import NackRepeater
from .sfu.receive import BurstReader, Media
from .sfu.rewriter import RtpRewriter, SourcePacket
from .sfu.uplink import UplinkEstimator

SUPPORTED_AIORTC = "1.16.0"

PacketCallback = Callable[[RtpPacket], None]

INTERNALS: tuple[tuple[type, tuple[str, ...]], ...] = (
    (RTCRtpReceiver, (
        "_RTCRtpReceiver__codecs", "_RTCRtpReceiver__remote_streams", "_RTCRtpReceiver__rtx_ssrc",
        "_RTCRtpReceiver__nack_generator", "_RTCRtpReceiver__active_ssrc",
        "_RTCRtpReceiver__rtcp_ssrc",
        "_handle_rtp_packet", "_send_rtcp_nack", "_send_rtcp_pli", "_send_rtcp",
    )),
    (RTCRtpSender, (
        "_RTCRtpSender__rtp_header_extensions_map", "_RTCRtpSender__rtp_started", "_RTCRtpSender__rtp_exited",
        "_RTCRtpSender__mid", "_RTCRtpSender__ntp_timestamp", "_RTCRtpSender__rtp_timestamp",
        "_RTCRtpSender__octet_count", "_RTCRtpSender__packet_count", "_RTCRtpSender__rtx_payload_type",
        "_ssrc", "_rtx_ssrc", "_send_keyframe", "_retransmit", "_run_rtp", "_handle_rtcp_packet",
    )),
    (RTCDtlsTransport, (
        "_state", "_rx_srtp", "_tx_srtp", "_rtp_router", "_rtp_header_extensions_map", "_send_rtp",
    )),
    (RtpRouter, ("route_rtp",)),
    (RtpPacket, ("extensions",)),
    (RTCIceTransport, ("_connection",)),
    (aioice.ice.Connection, ("_nominated", "data_received", "_protocols", "get_component_candidates")),
    (aioice.ice.CandidatePair, ("protocol", "remote_addr")),
    (aioice.ice.StunProtocol, ("datagram_received", "receiver", "local_candidate", "transport")),
    (pylibsrtp.Session, ("_srtp",)),
    (_SelectorDatagramTransport, ("_sock", "_read_ready", "_conn_lost", "_protocol", "max_size",
                                  "_fatal_error")),
)
"""Each class with the private (or replaced) names this module uses on it."""


class IncompatibleAiortc(RuntimeError):
    """The installed aiortc is not the one this adapter was written against."""


def _defines(cls: type, name: str) -> bool:
    """``cls`` or a base from the same package has ``name`` as a class attribute, an
    annotation, or an attribute its ``__init__`` sets (a base such as asyncio's does not count)."""
    package = cls.__module__.partition(".")[0]
    for klass in cls.__mro__:
        if klass.__module__.partition(".")[0] != package:
            continue
        namespace = vars(klass)
        init = namespace.get("__init__")
        if (name in namespace or name in namespace.get("__annotations__", {})
                or (init is not None and name in init.__code__.co_names)):
            return True
    return False


def check_compatible() -> None:
    """Raise ``IncompatibleAiortc`` unless aiortc is the pinned version and every class in
    ``INTERNALS`` still has the names this module uses."""
    if aiortc.__version__ != SUPPORTED_AIORTC:
        raise IncompatibleAiortc(
            f"bwlive's SFU adapter supports aiortc {SUPPORTED_AIORTC}, found {aiortc.__version__}"
        )
    for cls, names in INTERNALS:
        missing = [name for name in names if not _defines(cls, name)]
        if missing:
            raise IncompatibleAiortc(f"{cls.__module__}.{cls.__name__} lacks {', '.join(missing)}")


_BACKGROUND: set[asyncio.Future[None]] = set()


def _spawn(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run an RTCP send in the background, holding it until done."""
    task = asyncio.ensure_future(coroutine)
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


# --- receiving: a tap instead of jitter buffer + decoder ------------------------------


def tap_receiver(receiver: RTCRtpReceiver, on_packet: PacketCallback) -> None:
    """Hand every RTP packet the receiver gets (RTX unwrapped) to ``on_packet``.

    Keeps what the receiver does for the network (RTCP receiver statistics, NACKs for
    missing packets, asked again while missing: ``sfu.nack.NackRepeater``, and for video
    the uplink's bandwidth estimate, ``sfu.uplink.UplinkEstimator``, sent as REMB) and
    skips depacketizing, jitter buffer and decoding. ``on_packet`` runs synchronously on the
    event loop: keep it short.
    """
    check_compatible()
    codecs: dict[int, RTCRtpCodecParameters] = receiver._RTCRtpReceiver__codecs  # type: ignore[attr-defined]
    streams: dict[int, StreamStatistics] = receiver._RTCRtpReceiver__remote_streams  # type: ignore[attr-defined]
    rtx_ssrc: dict[int, int] = receiver._RTCRtpReceiver__rtx_ssrc  # type: ignore[attr-defined]
    active: dict[int, Any] = receiver._RTCRtpReceiver__active_ssrc  # type: ignore[attr-defined]
    nack = receiver._RTCRtpReceiver__nack_generator  # type: ignore[attr-defined]
    repeater = NackRepeater()
    estimator = _UPLINKS.setdefault(receiver.transport, UplinkEstimator())  # one for audio and video
    retransmissions: dict[int, tuple[RTCRtpCodecParameters, bool]] = {}  # payload type -> (its codec, is RTX)

    def handle_now(packet: RtpPacket) -> None:
        codec = codecs.get(packet.payload_type)
        if codec is None:
            return
        known = retransmissions.get(packet.payload_type)
        if known is None or known[0] is not codec:  # is_rtx() splits the codec's name: once per codec
            known = retransmissions[packet.payload_type] = (codec, is_rtx(codec))
        stats = streams.get(packet.ssrc)
        if stats is None:
            stats = streams[packet.ssrc] = StreamStatistics(codec.clockRate)
            active[packet.ssrc] = clock.current_datetime()
        stats.add(packet)
        retransmitted = known[1]
        if retransmitted:
            original_ssrc = rtx_ssrc.get(packet.ssrc)
            apt = codec.parameters.get("apt")
            if original_ssrc is None or len(packet.payload) < 2 or not isinstance(apt, int) or apt not in codecs:
                return
            packet = unwrap_rtx(packet, payload_type=apt, ssrc=original_ssrc)
        if nack is None or retransmitted:  # audio, retransmissions: counted in the uplink's rate only
            estimator.count(len(packet.payload))
            estimate = None
        else:
            estimate = estimator.add(packet.sequence_number, len(packet.payload))
        if nack is not None:
            nack.add(packet)
            repeater.arrived()
            if nack.missing and (ask := repeater.due(nack.missing)):
                _spawn(receiver._send_rtcp_nack(packet.ssrc, ask))
        if estimate is not None:  # once a second: read the receiver's RTCP SSRC only then
            rtcp_ssrc = receiver._RTCRtpReceiver__rtcp_ssrc  # type: ignore[attr-defined]
            if rtcp_ssrc is not None:
                _spawn(receiver._send_rtcp(RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0,
                                                          fci=pack_remb_fci(estimate, [packet.ssrc]))))
        on_packet(packet)

    async def handle_rtp_packet(packet: RtpPacket, arrival_time_ms: int) -> None:
        handle_now(packet)

    receiver._handle_rtp_packet = handle_rtp_packet  # type: ignore[method-assign]
    _TAPS[receiver] = handle_now
    transport = receiver.transport

    @transport.on("statechange")
    def forget() -> None:  # the tap refers to the receiver: a weak key alone would keep it
        if transport.state in ("closed", "failed"):
            _TAPS.pop(receiver, None)


_TAPS: weakref.WeakKeyDictionary[object, PacketCallback] = weakref.WeakKeyDictionary()
_UPLINKS: weakref.WeakKeyDictionary[RTCDtlsTransport, UplinkEstimator] = weakref.WeakKeyDictionary()


def fast_ingest(dtls: RTCDtlsTransport) -> None:
    """Handle SRTP media datagrams of ``dtls`` synchronously as they arrive.

    aiortc queues every datagram and hands it through three coroutines before SRTP; on
    the sockets of ``dtls``'s ICE connection, each wake-up reads its burst in one compiled
    call (``sfu.receive``: ``recvmmsg``, pylibsrtp's own ``srtp_unprotect``, the RTP
    header read) and hands each media packet of a tapped receiver to its tap at once.
    RTCP, DTLS and STUN take the usual path.
    """
    check_compatible()
    _skip_stun_parse_for_media()
    _read_datagrams_in_bursts()
    connection = dtls.transport._connection
    _INGESTS[connection] = _Ingest(dtls)

    @dtls.on("statechange")
    def forget() -> None:  # the ingest refers to the connection: a weak key alone would keep it
        if dtls.state in ("closed", "failed"):
            _INGESTS.pop(connection, None)


_SRTP_UNPROTECT = int(srtp_ffi.cast("uintptr_t", srtp_ffi.addressof(srtp_lib, "srtp_unprotect")))


def srtp_unprotector(session: pylibsrtp.Session) -> tuple[int, int]:
    """The C addresses of pylibsrtp's own ``srtp_unprotect`` and of ``session``'s context,
    for ``sfu.receive.BurstReader`` (keep ``session`` alive)."""
    return _SRTP_UNPROTECT, _srtp_context(session)


class _Ingest:
    """One DTLS transport's media as its sockets' bursts bring it: each packet to the tap
    of the receiver aiortc's router gives its SSRC and payload type (learned at the
    first one), the header extension parsed for audio only (its level is forwarded)."""

    __slots__ = ("_context", "_dtls", "_routes", "_srtp")

    def __init__(self, dtls: RTCDtlsTransport) -> None:
        self._dtls = dtls
        self._routes: dict[int, tuple[PacketCallback, bool]] = {}  # ssrc << 7 | payload type -> (tap, audio)
        self._srtp: pylibsrtp.Session | None = None
        self._context = 0

    def context(self) -> int:
        """The C address of the transport's inbound SRTP session (0 before DTLS keyed it)."""
        srtp = self._dtls._rx_srtp
        if srtp is not self._srtp:
            self._srtp = srtp
            self._context = 0 if srtp is None else srtp_unprotector(srtp)[1]
        return self._context

    def media(self, media: Media) -> None:
        packet = media.packet
        route = self._routes.get(packet.ssrc << 7 | packet.payload_type)
        if route is None:
            receiver = self._dtls._rtp_router.route_rtp(packet)
            if not isinstance(receiver, RTCRtpReceiver) or (tap := _TAPS.get(receiver)) is None:
                return
            route = self._routes[packet.ssrc << 7 | packet.payload_type] = (tap, receiver.track.kind == "audio")
        tap, audio = route
        if audio and media.extension:
            packet.extensions = self._dtls._rtp_header_extensions_map.get(media.extension_profile, media.extension)
        tap(packet)


_INGESTS: weakref.WeakKeyDictionary[aioice.ice.Connection, _Ingest] = weakref.WeakKeyDictionary()
READ_BURST = 16  # datagrams read per wake-up of a socket, at most


class _Readers(threading.local):
    """Each thread's reader, for all the sockets of its event loop: a burst is handled
    before the next is read (the C call lets other threads run, so no two share one)."""

    def __init__(self) -> None:
        self.reader = BurstReader(READ_BURST)


_READERS = _Readers()


_stun_protocol_patched = False


def _skip_stun_parse_for_media() -> None:
    """aioice tries to parse every datagram as STUN first; RTP/RTCP (first byte >= 128)
    never is one, so hand those straight on (process-wide, behaviour unchanged)."""
    global _stun_protocol_patched
    if _stun_protocol_patched:
        return
    original = aioice.ice.StunProtocol.datagram_received

    def datagram_received(self: aioice.ice.StunProtocol, data: bytes, addr: tuple[Any, ...]) -> None:
        if data and data[0] > 127:
            self.receiver.data_received(data, self.local_candidate.component)
        else:
            original(self, data, addr)

    aioice.ice.StunProtocol.datagram_received = datagram_received  # type: ignore[method-assign, assignment]
    _stun_protocol_patched = True


def _read_datagrams_in_bursts() -> None:
    """asyncio reads one datagram per wake-up of a UDP socket, and a camera's video frame
    arrives as a burst of packets: read what is waiting, up to ``READ_BURST``, per wake-up
    (process-wide, for sockets made from now on). A socket of a ``fast_ingest`` connection
    reads its burst in one compiled call; another hands each datagram on as before. The
    event loop's round per datagram cost as much as the rest of receiving it (RESULTS §17)."""
    global _burst_reads
    if _burst_reads:
        return

    def read_ready(self: _SelectorDatagramTransport) -> None:
        connection = getattr(self._protocol, "receiver", None)
        ingest = _INGESTS.get(connection) if isinstance(connection, aioice.ice.Connection) else None
        if ingest is not None:
            read_burst(self, ingest)
            return
        for _ in range(READ_BURST):
            if self._conn_lost:
                return
            try:
                data, addr = self._sock.recvfrom(self.max_size)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._protocol.error_received(exc)
                return
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self._fatal_error(exc, "Fatal read error on datagram transport")
                return
            self._protocol.datagram_received(data, addr)

    def read_burst(self: _SelectorDatagramTransport, ingest: _Ingest) -> None:
        if self._conn_lost:
            return
        try:
            burst = _READERS.reader.read(self._sock.fileno(), _SRTP_UNPROTECT, ingest.context())
        except OSError as exc:
            self._protocol.error_received(exc)
            return
        for each in burst:
            if isinstance(each, Media):
                ingest.media(each)
            elif not self._conn_lost:
                self._protocol.datagram_received(each.data, each.address)

    _SelectorDatagramTransport._read_ready = read_ready
    _burst_reads = True


_burst_reads = False


def request_keyframe(receiver: RTCRtpReceiver, media_ssrc: int) -> None:
    """Send an RTCP PLI for ``media_ssrc`` (the primary SSRC, never the RTX one)."""
    _spawn(receiver._send_rtcp_pli(media_ssrc))


# --- the server's media sockets: a port range, an announced address ------------------


class NoFreeMediaPort(OSError):
    """Every port of the media port range is taken."""


def bind_media_sockets(pc: RTCPeerConnection, ports: tuple[int, int] | None, announce: str | None) -> None:
    """Make ``pc`` (offer applied, answer not yet made) bind its ICE sockets to a port of
    ``ports`` (inclusive; None: any) and put ``announce`` (None: the bound address) in its
    host candidates, as a server behind a 1:1 NAT must.

    aioice binds port 0 and names its own addresses; this replaces its host gathering for
    ``pc``'s ICE connections only. A server's peer connection has no STUN or TURN server,
    so host candidates are all it gathers.
    """
    if ports is None and announce is None:
        return
    check_compatible()
    dtls = {transceiver.sender.transport for transceiver in pc.getTransceivers()}
    if pc.sctp is not None:
        dtls.add(pc.sctp.transport)
    for transport in dtls:
        connection = transport.transport._connection
        connection.get_component_candidates = functools.partial(  # type: ignore[method-assign]
            _host_candidates, connection, ports, announce)


async def _host_candidates(connection: aioice.ice.Connection, ports: tuple[int, int] | None, announce: str | None,
                           component: int, addresses: list[str]) -> list[Candidate]:
    candidates = []
    for address in addresses:
        transport, protocol = await _bind(connection, address, ports)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, aioice.turn.UDP_SOCKET_BUFFER_SIZE)
        bound, port = transport.get_extra_info("sockname")[:2]
        protocol.local_candidate = Candidate(
            foundation=candidate_foundation("host", "udp", bound), component=component, transport="udp",
            priority=candidate_priority(component, "host"), host=announce or bound, port=port, type="host",
        )
        connection._protocols.append(protocol)
        candidates.append(protocol.local_candidate)
    return candidates


async def _bind(connection: aioice.ice.Connection, address: str,
                ports: tuple[int, int] | None) -> tuple[asyncio.DatagramTransport, aioice.ice.StunProtocol]:
    """A UDP endpoint on ``address`` at a free port of ``ports`` (from a random one on)."""
    loop = asyncio.get_running_loop()
    low, high = ports or (0, 0)
    first = random.randint(low, high)
    for port in [*range(first, high + 1), *range(low, first)]:
        try:
            return await loop.create_datagram_endpoint(lambda: aioice.ice.StunProtocol(connection),
                                                       local_addr=(address, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
    raise NoFreeMediaPort(errno.EADDRINUSE, f"every media port {low}-{high} on {address} is in use")


# --- sending: an output fed with rewritten RTP packets --------------------------------


class ForwardingOutput:
    """Sends a track's packets to one peer through an ``RTCRtpSender`` without its encoder.

    The peer joins a compiled fan-out (``sfu.fanout``) as a ``Route``: pylibsrtp's own
    ``srtp_protect`` and the sender's SRTP session, the nominated ICE pair's socket and
    address, the rewriter's header fields; the fan-out copies the sender's counters back
    for its RTCP sender reports. The sender keeps doing its RTCP; its ``_run_rtp`` loop is
    replaced by one that hands the negotiated parameters to the rewriter and waits to be
    cancelled, its NACK handling by resends from the rewriter (each one only if
    ``may_resend()``: a budget), and its keyframe request by ``on_keyframe_request``.
    """

    def __init__(self, sender: RTCRtpSender, rewriter: RtpRewriter, on_keyframe_request: Callable[[], None],
                 may_resend: Callable[[], bool] = lambda: True) -> None:
        check_compatible()
        self._sender = sender
        self._rewriter = rewriter
        self._may_resend = may_resend
        self._running = False
        self._member: tuple[Fanout, Route] | None = None
        sender._send_keyframe = on_keyframe_request  # type: ignore[method-assign]
        sender._run_rtp = self._run_rtp  # type: ignore[method-assign]
        sender._retransmit = self._retransmit  # type: ignore[method-assign]

    @property
    def ready(self) -> bool:
        """True once negotiation finished and the transport can carry media."""
        return self._running and self._sender.transport._state == DtlsState.CONNECTED

    async def _run_rtp(self, codec: RTCRtpCodecParameters) -> None:
        sender = self._sender
        assert codec.payloadType is not None  # a negotiated codec has one
        self._rewriter.start(  # negotiated by now: mid, extension ids, RTX
            ssrc=sender._ssrc,
            rtx_ssrc=sender._rtx_ssrc,
            payload_type=codec.payloadType,
            rtx_payload_type=sender._RTCRtpSender__rtx_payload_type,  # type: ignore[attr-defined]
            mid=sender._RTCRtpSender__mid,  # type: ignore[attr-defined]
            extensions=sender._RTCRtpSender__rtp_header_extensions_map,  # type: ignore[attr-defined]
        )
        self._running = True
        sender._RTCRtpSender__rtp_started.set()  # type: ignore[attr-defined]
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            pass
        finally:
            self._running = False
            self.leave()
            sender._RTCRtpSender__rtp_exited.set()  # type: ignore[attr-defined]

    def join(self, fanout: Fanout, source: SourcePacket) -> None:
        """Send this peer's packets through ``fanout`` from ``source`` (sent now) on, until
        the transport leaves the connected state or the sender stops."""
        dtls = self._sender.transport
        if dtls._state != DtlsState.CONNECTED:
            raise ConnectionError("transport not connected")
        pair = dtls.transport._connection._nominated.get(1)
        if pair is None:
            raise ConnectionError("no nominated ICE pair")
        self.leave()
        sender, rewriter, session = self._sender, self._rewriter, dtls._tx_srtp
        transport = pair.protocol.transport
        protect, context = srtp_protector(session)
        route = Route(
            protect=protect, context=context, fd=transport.get_extra_info("socket").fileno(), address=pair.remote_addr,
            payload_type=rewriter.payload_type, offset=rewriter.begin(source), ssrc=rewriter.ssrc,
            queue=functools.partial(queue_datagram, transport, pair.remote_addr), sync=self._sync,
            packets=sender._RTCRtpSender__packet_count,  # type: ignore[attr-defined]
            octets=sender._RTCRtpSender__octet_count,  # type: ignore[attr-defined]
            keep=session,
        )
        fanout.add(route)
        self._member = (fanout, route)
        dtls.once("statechange", self.leave)
        fanout.send_one(route, source)

    def leave(self) -> None:
        """Stop sending through the fan-out joined (if any)."""
        if self._member is not None:
            fanout, route = self._member
            self._member = None
            fanout.remove(route)

    def forward(self, source: SourcePacket) -> None:
        """``source`` to this peer alone: through a fan-out of its own unless it joined one."""
        if self._member is None:
            self.join(Fanout(*self._rewriter.header), source)
        else:
            self._member[0].send_one(self._member[1], source)

    def _sync(self, packets: int, octets: int, source: SourcePacket) -> None:
        """What aiortc's sender reports (RTCP SR) about what it sent."""
        sender = self._sender
        sender._RTCRtpSender__packet_count = packets  # type: ignore[attr-defined]
        sender._RTCRtpSender__octet_count = octets  # type: ignore[attr-defined]
        sender._RTCRtpSender__ntp_timestamp = source.ntp  # type: ignore[attr-defined]
        sender._RTCRtpSender__rtp_timestamp = source.packet.timestamp  # type: ignore[attr-defined]

    async def _retransmit(self, sequence_number: int) -> None:
        data = self._rewriter.resend(sequence_number)
        if data is None or not self._may_resend():
            return
        try:
            send_rtp_now(self._sender, data)
        except ConnectionError:
            pass


_SRTP_PROTECT = int(srtp_ffi.cast("uintptr_t", srtp_ffi.addressof(srtp_lib, "srtp_protect")))


def srtp_protector(session: pylibsrtp.Session) -> tuple[int, int]:
    """The C addresses of pylibsrtp's own ``srtp_protect`` and of ``session``'s context, for
    a fan-out ``Route``: it protects with the same libsrtp build (keep ``session`` alive)."""
    return _SRTP_PROTECT, _srtp_context(session)


def _srtp_context(session: pylibsrtp.Session) -> int:
    return int(srtp_ffi.cast("uintptr_t", session._srtp[0]))


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


def queue_datagram(transport: asyncio.DatagramTransport, address: tuple[str, int], data: bytes) -> bool:
    """Send what the fan-out could not (the socket would block) through the event loop's
    transport, which queues it; True while its queue holds some (the next ones follow it)."""
    transport.sendto(data, address)
    return bool(transport.get_write_buffer_size())  # type: ignore[attr-defined]  # a selector transport's


# --- camera side: pacing, and keyframe requests reach our own encoder -----------------


PACING_FACTOR = 2.5  # of the uplink's estimate, as WebRTC senders pace
BURST_S = 0.02  # of the paced rate at once, once an estimate came


class Pacer:
    """A token bucket: ``rate_bps`` sustained, ``burst_bytes`` at once."""

    def __init__(self, rate_bps: float, burst_bytes: int) -> None:
        self.rate = rate_bps / 8  # bytes per second
        self.burst = burst_bytes
        self._tokens = float(burst_bytes)
        self._stamp = time.monotonic()

    def follow(self, estimate_bps: int) -> None:
        """Pace at ``PACING_FACTOR`` times the uplink's estimate, in short bursts: a key
        frame spread over a thin link's queue instead of overflowing it."""
        self.rate = PACING_FACTOR * estimate_bps / 8
        self.burst = max(3_000, int(self.rate * BURST_S))

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
    check_compatible()
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


def on_word_from_remote(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Call ``callback()`` for each RTCP packet the remote sends about ``sender``'s stream:
    its receiver reports (aiortc's receiver sends one every 0.5 to 1.5 s, with or without
    loss), REMB, NACK, PLI. Their stopping says the remote is gone."""
    check_compatible()
    handle = sender._handle_rtcp_packet

    async def handle_rtcp_packet(packet: AnyRtcpPacket) -> None:
        callback()
        await handle(packet)

    sender._handle_rtcp_packet = handle_rtcp_packet  # type: ignore[method-assign]


def on_bitrate_estimate(sender: RTCRtpSender, *callbacks: Callable[[int], None]) -> None:
    """Call each of ``callbacks(bits per second)`` for each REMB the remote sends about
    ``sender``'s stream (aiortc would hand it to its own encoder, which our camera does not use)."""
    check_compatible()
    handle = sender._handle_rtcp_packet

    async def handle_rtcp_packet(packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            try:
                bitrate, ssrcs = unpack_remb_fci(packet.fci)
            except ValueError:
                bitrate, ssrcs = 0, []
            if sender._ssrc in ssrcs:
                for callback in callbacks:
                    callback(bitrate)
        await handle(packet)

    sender._handle_rtcp_packet = handle_rtcp_packet  # type: ignore[method-assign]


def local_address(dtls: RTCDtlsTransport) -> str | None:
    """The camera's own address the connection's nominated ICE pair sends from (for a
    server-reflexive candidate: the local address behind it); None before nomination and
    for a relayed pair (its socket is the TURN client's)."""
    check_compatible()
    pair = dtls.transport._connection._nominated.get(1)
    if pair is None:
        return None
    candidate = pair.protocol.local_candidate
    if candidate.type == "host":
        return str(candidate.host)
    return str(candidate.related_address) if candidate.type == "srflx" and candidate.related_address else None


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Call ``callback`` when the remote asks ``sender`` for a keyframe (PLI/FIR).

    aiortc only honours PLI when it encodes itself; our camera sends pre-encoded,
    encrypted packets, so the request is routed to our encoder instead.
    """
    check_compatible()
    sender._send_keyframe = callback  # type: ignore[method-assign]
