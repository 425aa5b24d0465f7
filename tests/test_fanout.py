"""The compiled fan-out (bwlive_rtc/sfu/fanout.c): each viewer's copy is the rewriter's
header on the shared rendering, protected with pylibsrtp's own libsrtp and sent over a
real UDP socket; a peer's SRTP session with the viewer's keys takes it back. A socket that
would block (a thin link in the network lab) hands its packets to asyncio's transport."""
from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Iterator

import pytest
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket
from pylibsrtp import Policy, Session

from bwlive_rtc import aiortc_adapter
from bwlive_rtc.sfu.fanout import SYNC_EVERY, Fanout, Route
from bwlive_rtc.sfu.rewriter import RtpRewriter, SourceHistory, SourcePacket
from tests.netlab import Lab
from tests.test_rewriter import ABS_SEND_TIME_URI, MID_URI, extensions

KEY_LENGTH = 30  # AES-128 key and salt (SRTP_AES128_CM_SHA1_80)


class Viewer:
    """One output: its rewriter, its SRTP keys (the server's session and its peer's), its socket."""

    def __init__(self, history: SourceHistory, first_seq: int, ssrc: int, payload_type: int,
                 sock: socket.socket | None = None) -> None:
        key = os.urandom(KEY_LENGTH)
        self.tx = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND))
        self.rx = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_INBOUND))
        self.map = extensions()
        self.rewriter = RtpRewriter(history, first_seq=first_seq)
        self.rewriter.start(ssrc=ssrc, rtx_ssrc=1, payload_type=payload_type, rtx_payload_type=None, mid="0",
                            extensions=self.map)
        if sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(2)
        self.socket = sock
        self.synced: list[tuple[int, int, int]] = []

    def route(self, sender: socket.socket, first: SourcePacket,
              queue: Callable[[bytes], bool] = lambda data: pytest.fail("the socket never blocks here")) -> Route:
        protect, context = aiortc_adapter.srtp_protector(self.tx)
        return Route(protect=protect, context=context, fd=sender.fileno(), address=self.socket.getsockname(),
                     payload_type=self.rewriter.payload_type, offset=self.rewriter.begin(first),
                     ssrc=self.rewriter.ssrc, queue=queue,
                     sync=lambda packets, octets, source: self.synced.append(
                         (packets, octets, source.packet.sequence_number)),
                     keep=self.tx)

    def receive(self) -> bytes:
        return self.rx.unprotect(self.socket.recv(2048))


@pytest.fixture
def sender() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    yield sock
    sock.close()


def arriving(history: SourceHistory, seq: int) -> SourcePacket:
    source = SourcePacket(RtpPacket(payload_type=100, sequence_number=seq & 0xFFFF, timestamp=seq * 3000 & 0xFFFFFFFF,
                                    ssrc=0xCAFE, marker=seq % 2, payload=bytes([0x10, seq & 0xFF]) + b"v" * 900))
    history.add(source)
    return source


def test_each_viewer_gets_its_own_header_protected_with_its_own_keys(sender: socket.socket) -> None:
    history = SourceHistory()
    a, b, late = (Viewer(history, 65534, 0x1111, 96), Viewer(history, 7, 0x2222, 98), Viewer(history, 300, 0x3333, 96))
    fanout = Fanout(*a.rewriter.header)
    first = arriving(history, 65530)
    routes = {viewer: viewer.route(sender, first) for viewer in (a, b)}
    for route in routes.values():
        fanout.add(route)
    fanout.send(first)
    sent: dict[Viewer, list[tuple[SourcePacket, bytes]]] = {a: [(first, a.receive())], b: [(first, b.receive())]}
    for seq in range(65531, 65531 + SYNC_EVERY + 3):  # across the source's 16-bit wrap
        source = arriving(history, seq)
        if seq == 65533:
            route = late.route(sender, source)
            fanout.add(route)
            fanout.send_one(route, source)  # a joiner's first packet, to it alone
            sent[late] = [(source, late.receive())]
            continue
        fanout.send(source)
        for viewer in sent:
            sent[viewer].append((source, viewer.receive()))

    for viewer, packets in sent.items():
        for source, data in packets:
            assert data == viewer.rewriter.rewrite(source)  # byte for byte what the rewriter says
            got, was = RtpPacket.parse(data, viewer.map), source.packet
            assert (got.payload_type, got.ssrc, got.marker, got.timestamp, got.payload, got.extensions.mid) == (
                viewer.rewriter.payload_type, viewer.rewriter.ssrc, was.marker, was.timestamp, was.payload, "0")
        seqs = [RtpPacket.parse(data).sequence_number for _, data in packets]
        first_seq, first_source = {a: 65534, b: 7, late: 300}[viewer], packets[0][0].packet.sequence_number
        assert seqs == [(first_seq + source.packet.sequence_number - first_source) & 0xFFFF for source, _ in packets]
        assert len(set(seqs)) == len(seqs) == (SYNC_EVERY + 3 if viewer is not late else SYNC_EVERY + 1)
        assert viewer.rewriter.resend(seqs[-1]) == packets[-1][1]  # a NACK is answered from the same state

    # the counters for RTCP sender reports, every viewer's own, copied back at the
    # SYNC_EVERY-th packet the fan-out sent (the joiner's first one, to it alone, counts)
    at = (65530 + SYNC_EVERY - 1) & 0xFFFF
    assert a.synced == b.synced == [(SYNC_EVERY - 1, (SYNC_EVERY - 1) * 902, at)]
    assert late.synced == [(SYNC_EVERY - 3, (SYNC_EVERY - 3) * 902, at)]

    fanout.remove(routes[b])
    assert b.synced[-1][:2] == (len(sent[b]), 902 * len(sent[b]))  # its last counters when it leaves
    assert routes[b].index == -1 and len(fanout) == 2
    fanout.send(arriving(history, 20))
    assert a.receive() and late.receive()
    b.socket.settimeout(0.2)
    with pytest.raises(TimeoutError):
        b.receive()


def test_an_oversized_packet_is_refused_not_overflowed(sender: socket.socket) -> None:
    history = SourceHistory()
    viewer = Viewer(history, 1, 0x4444, 96)
    fanout = Fanout(*viewer.rewriter.header)
    huge = SourcePacket(RtpPacket(payload_type=100, sequence_number=1, payload=b"\x10" + bytes(3000)))
    history.add(huge)
    fanout.add(viewer.route(sender, huge))
    fanout.send(huge)
    viewer.socket.settimeout(0.2)
    with pytest.raises(TimeoutError):
        viewer.receive()


@pytest.mark.parametrize("stamped", [True, False], ids=["abs-send-time", "mid-only"])
def test_audio_carries_its_own_level_and_video_the_layout_s_header(sender: socket.socket, stamped: bool) -> None:
    history = SourceHistory()
    viewer = Viewer(history, 10, 0x4444, 111)
    viewer.map = HeaderExtensionsMap()
    viewer.map.configure(RTCRtpParameters(headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=1, uri=MID_URI),
        *([RTCRtpHeaderExtensionParameters(id=5, uri=ABS_SEND_TIME_URI)] if stamped else []),
        RTCRtpHeaderExtensionParameters(id=3, uri="urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
    ]))
    viewer.rewriter.start(ssrc=0x4444, rtx_ssrc=1, payload_type=111, rtx_payload_type=None, mid="1",
                          extensions=viewer.map)
    fanout = Fanout(*viewer.rewriter.header)
    sources = []
    for seq in range(6):
        packet = RtpPacket(payload_type=100, sequence_number=seq, timestamp=960 * seq, ssrc=0xA0D10,
                           payload=bytes([seq]) * 80)
        if seq % 2:
            packet.extensions.audio_level = (seq == 3, 20 + seq)
        sources.append(source := SourcePacket(packet))
        history.add(source)
    fanout.add(viewer.route(sender, sources[0]))
    for source in sources:
        fanout.send(source)
    for source in sources:
        data = viewer.receive()
        assert data == viewer.rewriter.rewrite(source)  # the rendering in Python, byte for byte
        got = RtpPacket.parse(data, viewer.map).extensions
        assert (got.mid, got.audio_level) == ("1", source.packet.extensions.audio_level)
        assert got.abs_send_time == (source.abs_send_time if stamped else None)


def _udp_socket(address: str, send_buffer: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if send_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    sock.bind((address, 0))
    sock.setblocking(False)
    return sock


async def test_a_socket_that_would_block_hands_its_packets_to_the_event_loops_queue(lab: Lab) -> None:
    """A burst to a viewer over a thin link (tbf, 2 Mbit/s) fills the server socket's send
    buffer: the fan-out hands what would block to asyncio's transport, which queues it, the
    viewer's next packets follow through that queue, and every packet arrives, in order."""
    lab.thin("srv", 2000)
    loop = asyncio.get_running_loop()
    sender = lab.call("server", _udp_socket, lab.address("server"), 4096)
    transport, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, sock=sender)
    history = SourceHistory()
    viewer = Viewer(history, 1000, 0x5555, 96, sock=lab.call("viewer", _udp_socket, lab.address("viewer")))
    fanout = Fanout(*viewer.rewriter.header)
    sources = [arriving(history, seq) for seq in range(60)]
    queued: list[bytes] = []

    def queue(data: bytes) -> bool:
        queued.append(data)
        return aiortc_adapter.queue_datagram(transport, viewer.socket.getsockname(), data)

    route = viewer.route(sender, sources[0], queue)
    fanout.add(route)
    try:
        for source in sources:
            fanout.send(source)
        assert queued and transport.get_write_buffer_size() > 0  # the socket would have blocked
        received = [viewer.rx.unprotect(await asyncio.wait_for(loop.sock_recv(viewer.socket, 2048), 5))
                    for _ in sources]
        assert received == [viewer.rewriter.rewrite(source) for source in sources]
        assert transport.get_write_buffer_size() == 0
        # the transport's queue is empty: the next packet through it finds so, the one after
        # goes straight to the socket again
        after, before = [arriving(history, seq) for seq in (60, 61)], len(queued)
        for source in after:
            fanout.send(source)
        assert len(queued) == before + 1
        assert [viewer.rx.unprotect(await asyncio.wait_for(loop.sock_recv(viewer.socket, 2048), 5))
                for _ in after] == [viewer.rewriter.rewrite(source) for source in after]
    finally:
        fanout.remove(route)
        transport.close()
        viewer.socket.close()
        lab.thin("srv", None)
