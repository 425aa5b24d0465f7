"""The compiled receive (bwlive_rtc/sfu/receive.c): datagrams sent over real loopback
sockets, SRTP media protected by a real pylibsrtp session, read back in one burst and
compared with what pylibsrtp's unprotect and aiortc's ``RtpPacket.parse`` make of them;
then a camera's packets through ``fast_ingest`` between real aiortc peers, with garbage
and a wrong key in between, and the receiver's RTCP (NACK, receiver reports) kept."""
from __future__ import annotations

import asyncio
import os
import select
import socket
import struct
import threading
from collections.abc import Iterator

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.rtp import RtpPacket
from pylibsrtp import Policy, Session

from bwlive_rtc import aiortc_adapter
from bwlive_rtc.sfu.receive import SLOT, BurstReader, Datagram, Media, address_of
from tests.test_rewriter import extensions

KEY_LENGTH = 30  # AES-128 key and salt (SRTP_AES128_CM_SHA1_80)
UNPROTECT = aiortc_adapter.srtp_unprotector(Session(Policy(key=bytes(KEY_LENGTH), ssrc_type=Policy.SSRC_ANY_INBOUND)))[0]


def sessions(key: bytes) -> tuple[Session, Session, Session]:
    """A sender's session, the reader's, and a reference one (each keeps its own replay window)."""
    return (Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND)),
            Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_INBOUND)),
            Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_INBOUND)))


def context(session: Session) -> int:
    return aiortc_adapter.srtp_unprotector(session)[1]


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A sender and a non-blocking receiver on loopback."""
    sender, receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.setblocking(False)
    sender.bind(("127.0.0.1", 0))
    yield sender, receiver
    sender.close()
    receiver.close()


def rtp(seq: int, **header: object) -> RtpPacket:
    packet = RtpPacket(payload_type=96, sequence_number=seq, timestamp=90_000 * seq, ssrc=0xCAFEBABE,
                       marker=seq % 2, payload=bytes([0x10, seq]) + os.urandom(700))
    for name, value in header.items():
        setattr(packet, name, value)
    return packet


def wait_readable(sock: socket.socket) -> None:
    assert select.select([sock], [], [], 2)[0], "nothing arrived"


def test_a_burst_reads_media_like_unprotect_and_parse_and_hands_the_rest_back_as_received(
        pair: tuple[socket.socket, socket.socket]) -> None:
    sender, receiver = pair
    tx, rx, reference = sessions(os.urandom(KEY_LENGTH))
    map_ = extensions()
    with_extensions = rtp(3)
    with_extensions.extensions.mid, with_extensions.extensions.abs_send_time = "0", 0x123456
    with_csrc_and_padding = rtp(4, csrc=[1, 2, 3], padding_size=7)
    wrong_key = Session(Policy(key=os.urandom(KEY_LENGTH), ssrc_type=Policy.SSRC_ANY_OUTBOUND)).protect(
        rtp(5).serialize())
    sent = [
        tx.protect(rtp(1).serialize()),
        b"\x00\x01\x00\x00" + os.urandom(16),  # STUN
        tx.protect(rtp(2).serialize()),
        bytes([22, 254, 253]) + os.urandom(60),  # DTLS
        tx.protect(with_extensions.serialize(map_)),
        tx.protect_rtcp(bytes([0x80, 200, 0, 6]) + os.urandom(24)),  # RTCP: not media
        wrong_key,  # does not unprotect: dropped
        b"\x90\x60\x00",  # in RTP's range, too short for a header: dropped
        bytes([0x80, 0x60]) + os.urandom(200),  # garbage in RTP's range (payload type 96, not RTCP's 192-223): dropped
        tx.protect(with_csrc_and_padding.serialize()),
        b"",  # empty
    ]
    for data in sent:
        sender.sendto(data, receiver.getsockname())
    wait_readable(receiver)
    reader = BurstReader(16)
    got = reader.read(receiver.fileno(), UNPROTECT, context(rx))
    media = [each for each in got if isinstance(each, Media)]
    expected = [RtpPacket.parse(reference.unprotect(sent[i]), map_) for i in (0, 2, 4, 9)]
    assert [vars(m.packet) | {"csrc": [], "extensions": None, "padding_size": 0} for m in media] == [
        vars(e) | {"csrc": [], "extensions": None, "padding_size": 0} for e in expected]
    assert media[2].extension and map_.get(media[2].extension_profile, media[2].extension) == expected[2].extensions
    assert expected[2].extensions.mid == "0" and expected[3].payload == with_csrc_and_padding.payload
    assert [type(each).__name__ for each in got] == ["Media", "Datagram", "Media", "Datagram", "Media", "Datagram",
                                                     "Media", "Datagram"]
    others = [each for each in got if isinstance(each, Datagram)]
    assert [each.data for each in others] == [sent[1], sent[3], sent[5], b""]
    assert {each.address for each in others} == {sender.getsockname()}
    assert reader.dropped == 3
    assert reader.read(receiver.fileno(), UNPROTECT, context(rx)) == []  # nothing waits


def test_before_srtp_is_keyed_everything_comes_back_as_received(pair: tuple[socket.socket, socket.socket]) -> None:
    sender, receiver = pair
    tx, _, _ = sessions(os.urandom(KEY_LENGTH))
    sent = [tx.protect(rtp(seq).serialize()) for seq in range(3)] + [os.urandom(60_000)]
    for data in sent:
        sender.sendto(data, receiver.getsockname())
    wait_readable(receiver)
    got = BurstReader(8).read(receiver.fileno(), UNPROTECT, 0)
    assert got == [Datagram(data, sender.getsockname()) for data in sent]


def test_a_burst_is_at_most_its_size_and_the_rest_waits_in_order(pair: tuple[socket.socket, socket.socket]) -> None:
    sender, receiver = pair
    tx, rx, _ = sessions(os.urandom(KEY_LENGTH))
    for seq in range(7):
        sender.sendto(tx.protect(rtp(seq).serialize()), receiver.getsockname())
    wait_readable(receiver)
    reader = BurstReader(4)
    first = reader.read(receiver.fileno(), UNPROTECT, context(rx))
    second = reader.read(receiver.fileno(), UNPROTECT, context(rx))
    assert [m.packet.sequence_number for m in first + second] == list(range(7))  # type: ignore[union-attr]
    assert len(first) == 4


def test_each_thread_reads_into_a_buffer_of_its_own() -> None:
    here, there = aiortc_adapter._READERS.reader, []
    thread = threading.Thread(target=lambda: there.append(aiortc_adapter._READERS.reader))
    thread.start()
    thread.join()
    assert there[0] is not here and aiortc_adapter._READERS.reader is here  # the C call lets other threads run


def test_a_socket_error_is_an_os_error() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    fd = sock.fileno()
    sock.close()
    with pytest.raises(OSError) as raised:
        BurstReader(4).read(fd, UNPROTECT, 0)
    assert raised.value.errno is not None and raised.value.errno > 0


def test_ipv6_addresses_are_as_recvfrom_gives_them() -> None:
    sender, receiver = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM), socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        receiver.bind(("::1", 0))
        sender.bind(("::1", 0))
        sender.sendto(b"\x00stun", receiver.getsockname())
        sender.sendto(b"\x00stun", receiver.getsockname())
        wait_readable(receiver)
        _, expected = receiver.recvfrom(100)
        wait_readable(receiver)
        got = BurstReader(2).read(receiver.fileno(), UNPROTECT, 0)
        assert got == [Datagram(b"\x00stun", expected)] and expected[:2] == sender.getsockname()[:2]
    finally:
        sender.close()
        receiver.close()
    v4 = struct.pack("=HH4s8x", socket.AF_INET, socket.htons(5004), socket.inet_aton("10.1.2.3"))
    assert address_of(v4) == ("10.1.2.3", 5004) and SLOT >= 65_507  # any UDP datagram fits


async def test_a_camera_s_packets_through_fast_ingest_with_garbage_between_and_rtcp_kept() -> None:
    camera, sfu = RTCPeerConnection(RTCConfiguration(iceServers=[])), RTCPeerConnection(RTCConfiguration(iceServers=[]))
    sender = camera.addTransceiver("video", direction="sendonly").sender
    tapped: list[RtpPacket] = []
    nacked: list[int] = []
    reports: list[int] = []

    async def retransmit(seq: int) -> None:
        nacked.append(seq)

    sender._retransmit = retransmit
    aiortc_adapter.on_word_from_remote(sender, lambda: reports.append(1))
    await camera.setLocalDescription(await camera.createOffer())
    await sfu.setRemoteDescription(camera.localDescription)
    receiver = sfu.getTransceivers()[0].receiver
    aiortc_adapter.tap_receiver(receiver, tapped.append)
    aiortc_adapter.fast_ingest(receiver.transport)  # before the answer makes the sockets, as the server does
    await sfu.setLocalDescription(await sfu.createAnswer())
    await camera.setRemoteDescription(sfu.localDescription)
    try:
        for _ in range(100):
            if sender.transport.state == "connected" and receiver.transport.state == "connected":
                break
            await asyncio.sleep(0.05)
        host, port = next((c.split()[4], int(c.split()[5])) for c in sfu.localDescription.sdp.splitlines()
                          if c.startswith("a=candidate:") and " udp " in c and "." in c.split()[4])
        payload_type = int(next(line.split()[0].split(":")[1] for line in sfu.localDescription.sdp.splitlines()
                                if line.startswith("a=rtpmap:") and "VP8/90000" in line))
        dtls = sender.transport
        out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        wrong = Session(Policy(key=os.urandom(KEY_LENGTH), ssrc_type=Policy.SSRC_ANY_OUTBOUND))
        sent = []
        for seq in range(1, 41):
            packet = RtpPacket(payload_type=payload_type, sequence_number=seq, timestamp=seq // 4 * 3000,
                               ssrc=sender._ssrc, marker=seq % 4 == 0, payload=bytes([0x10, seq]) + b"e" * 500)
            packet.extensions.mid = camera.getTransceivers()[0].mid
            data = packet.serialize(dtls._rtp_header_extensions_map)
            if seq == 10:
                out.sendto(wrong.protect(data), (host, port))  # another key: dropped, nothing else happens
                continue
            sent.append(packet)
            out.sendto(dtls._tx_srtp.protect(data), (host, port))
            if seq % 8 == 0:
                out.sendto(b"\x80" + os.urandom(40), (host, port))  # garbage
                await asyncio.sleep(0.01)
        out.close()
        for _ in range(100):
            if len(tapped) == len(sent) and nacked and reports:
                break
            await asyncio.sleep(0.05)
        assert [(p.sequence_number, p.timestamp, p.marker, p.payload) for p in tapped] == [
            (p.sequence_number, p.timestamp, p.marker, p.payload) for p in sent]
        assert 10 in nacked  # the gap NACKed by the SFU's receiver
        assert reports, "no receiver report reached the camera"
        stats = receiver._RTCRtpReceiver__remote_streams[sender._ssrc]
        assert (stats.packets_received, stats.max_seq) == (len(sent), 40)
    finally:
        await camera.close()
        await sfu.close()
    assert receiver.transport.transport._connection not in aiortc_adapter._INGESTS  # forgotten once closed
