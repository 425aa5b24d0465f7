"""The aiortc adapter on two real, connected aiortc peers: fails loudly if aiortc moves."""
from __future__ import annotations

import ast
import asyncio
import gc
import random
import re
import socket
import time
import weakref
from collections.abc import Callable
from pathlib import Path

import aioice.ice
import aiortc
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender
from aiortc.rtp import RtpPacket

from bwlive_rtc import aiortc_adapter
from bwlive_rtc.camera.network import path_lost
from bwlive_rtc.sfu.peer import MediaNetwork, NoMediaPort, answer
from bwlive_rtc.sfu.rewriter import RtpRewriter, SourceHistory, SourcePacket


async def _connect(offerer: RTCPeerConnection, answerer: RTCPeerConnection,
                   offer_applied: Callable[[], None] = lambda: None) -> None:
    await offerer.setLocalDescription(await offerer.createOffer())
    await answerer.setRemoteDescription(offerer.localDescription)
    offer_applied()  # as the server taps a camera's receivers: before its sockets are made
    await answerer.setLocalDescription(await answerer.createAnswer())
    await offerer.setRemoteDescription(answerer.localDescription)


@pytest.mark.parametrize("fast", [False, True], ids=["queued-ingest", "fast-ingest"])
async def test_forwarding_output_to_tap_and_keyframe_request(fast: bool) -> None:
    sender_pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    receiver_pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    keyframe_requests: list[int] = []
    received: list[RtpPacket] = []
    sender = sender_pc.addTransceiver("video", direction="sendonly").sender
    history = SourceHistory()
    rewriter = RtpRewriter(history)
    output = aiortc_adapter.ForwardingOutput(sender, rewriter, lambda: keyframe_requests.append(1))
    queued: list[int] = []

    def tap() -> None:
        receiver = receiver_pc.getTransceivers()[0].receiver
        aiortc_adapter.tap_receiver(receiver, received.append)
        through_queue = receiver._handle_rtp_packet

        async def counting(packet: RtpPacket, arrival_time_ms: int) -> None:
            queued.append(packet.sequence_number)
            await through_queue(packet, arrival_time_ms)

        receiver._handle_rtp_packet = counting
        if fast:
            aiortc_adapter.fast_ingest(receiver.transport)

    await _connect(sender_pc, receiver_pc, tap)
    receiver = receiver_pc.getTransceivers()[0].receiver
    try:
        for _ in range(100):
            if output.ready:
                break
            await asyncio.sleep(0.05)
        assert output.ready
        source_seq = 60000  # crosses the 16-bit wrap on the way
        for i in range(8):
            source = RtpPacket(payload_type=96, sequence_number=(source_seq + i * 1000) & 0xFFFF,
                               timestamp=3000 * i, marker=i % 2, payload=bytes([0x10, i]) + b"x" * 50)
            history.add(forwarded := SourcePacket(source))  # as the producer track keeps it
            output.forward(forwarded)
        await asyncio.sleep(0.5)
        assert [p.payload for p in received] == [bytes([0x10, i]) + b"x" * 50 for i in range(8)]
        assert [p.timestamp for p in received] == [3000 * i for i in range(8)]
        assert [p.marker for p in received] == [i % 2 for i in range(8)]
        # the output's own sequence: offset kept, so gaps in the source stay gaps
        seqs = [p.sequence_number for p in received]
        assert all((b - a) & 0xFFFF == 1000 for a, b in zip(seqs, seqs[1:]))
        assert {p.ssrc for p in received} == {sender._ssrc}

        # a NACK is answered from the output's history, over RTX, unwrapped by the tap
        lost = received[3]
        await receiver._send_rtcp_nack(lost.ssrc, [lost.sequence_number])
        await asyncio.sleep(0.5)
        assert len(received) == 9
        resent = received[-1]
        assert (resent.sequence_number, resent.payload, resent.timestamp) == (lost.sequence_number, lost.payload, lost.timestamp)

        aiortc_adapter.request_keyframe(receiver, received[0].ssrc)
        for _ in range(40):
            if keyframe_requests:
                break
            await asyncio.sleep(0.05)
        assert keyframe_requests, "PLI did not reach the forwarding output"
        assert len(queued) == (0 if fast else 9)  # the fast path bypasses aiortc's queue
    finally:
        await sender_pc.close()
        await receiver_pc.close()


def test_version_pin_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    aiortc_adapter.check_compatible()
    monkeypatch.setattr(aiortc, "__version__", "9.9.9")
    with pytest.raises(aiortc_adapter.IncompatibleAiortc, match="9.9.9"):
        aiortc_adapter.check_compatible()


def test_missing_internals_fail_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(aioice.ice.StunProtocol, "datagram_received")
    with pytest.raises(aiortc_adapter.IncompatibleAiortc, match="StunProtocol lacks datagram_received"):
        aiortc_adapter.check_compatible()
    monkeypatch.undo()

    def renamed(self: RTCRtpSender, trackOrKind: object, transport: object) -> None:
        self._rtx_payload_type = None  # what a refactored aiortc might do

    monkeypatch.setattr(RTCRtpSender, "__init__", renamed)  # an attribute set in __init__ is gone
    with pytest.raises(aiortc_adapter.IncompatibleAiortc, match="_RTCRtpSender__rtx_payload_type"):
        aiortc_adapter.check_compatible()


def _private_names_touched(tree: ast.AST) -> set[str]:
    """Private attributes read or written on objects other than the adapter's own ``self``
    (a ``self`` in a patched aioice method counts), and every attribute assigned to."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            own = node.args.args[0].arg if node.args.args and node.args.args[0].annotation is None else None
            for sub in ast.walk(node):
                if not isinstance(sub, ast.Attribute) or (isinstance(sub.value, ast.Name) and sub.value.id == own):
                    continue
                if (sub.attr.startswith("_") and not sub.attr.startswith("__")) or isinstance(sub.ctx, ast.Store):
                    names.add(sub.attr)
    return names


def test_compatibility_check_covers_every_private_name_the_adapter_touches() -> None:
    source = Path(aiortc_adapter.__file__).read_text()
    touched = _private_names_touched(ast.parse(source))
    listed = {name for _, names in aiortc_adapter.INTERNALS for name in names}
    assert touched - listed == set(), "add these to aiortc_adapter.INTERNALS"
    assert {"_tx_srtp", "_rx_srtp", "_nominated", "_ssrc", "datagram_received", "_read_ready"} <= touched  # sanity


async def test_a_socket_s_waiting_datagrams_are_read_in_one_wake_up_in_order() -> None:
    aiortc_adapter._read_datagrams_in_bursts()  # as fast_ingest does, before the media sockets are made
    received: list[bytes] = []

    class Collect(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            received.append(data)

    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(Collect, local_addr=("127.0.0.1", 0))
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        await asyncio.sleep(0.05)  # the reader is registered
        sent = [bytes([i]) * 200 for i in range(aiortc_adapter.READ_BURST + 4)]
        for data in sent:
            sender.sendto(data, transport.get_extra_info("sockname"))
        for _ in range(3):  # three rounds of the loop: one datagram each, before
            await asyncio.sleep(0)
        assert len(received) >= aiortc_adapter.READ_BURST
        for _ in range(50):
            if len(received) == len(sent):
                break
            await asyncio.sleep(0.01)
        assert received == sent
    finally:
        sender.close()
        transport.close()


async def test_pace_media_spreads_a_burst_and_never_delays_rtcp() -> None:
    sender_pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    receiver_pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    sender = sender_pc.addTransceiver("video", direction="sendonly").sender
    rewriter = RtpRewriter(SourceHistory())
    output = aiortc_adapter.ForwardingOutput(sender, rewriter, lambda: None)  # only to see when it is connected
    aiortc_adapter.pace_media(sender.transport, rate_bps=800_000, burst_bytes=5_000)
    await _connect(sender_pc, receiver_pc)
    received: list[RtpPacket] = []
    aiortc_adapter.tap_receiver(receiver_pc.getTransceivers()[0].receiver, received.append)
    try:
        for _ in range(100):
            if output.ready:
                break
            await asyncio.sleep(0.05)
        start = time.monotonic()
        for i in range(20):  # a 20 kB "key frame" written at once, as aiortc's sender does
            packet = RtpPacket(payload_type=rewriter.payload_type, sequence_number=i, timestamp=0,
                               ssrc=sender._ssrc, payload=b"\x10" + bytes(987))
            await sender.transport._send_rtp(packet.serialize())
        elapsed = time.monotonic() - start
        assert 0.12 <= elapsed <= 0.5, elapsed  # (20 kB - 5 kB burst) at 100 kB/s = 0.15 s
        rtcp_start = time.monotonic()
        await receiver_pc.getTransceivers()[0].receiver._send_rtcp_pli(sender._ssrc)  # receiver side: unpaced
        await sender.transport._send_rtp(bytes([0x80, 200, 0, 6]) + bytes(24))  # an RTCP SR: not delayed
        assert time.monotonic() - rtcp_start < 0.05
        await asyncio.sleep(0.3)
        assert len(received) == 20
    finally:
        await sender_pc.close()
        await receiver_pc.close()


async def _answerer_with_offer() -> tuple[RTCPeerConnection, RTCPeerConnection]:
    client = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    client.addTransceiver("video", direction="sendonly")
    client.createDataChannel("bwlive")
    await client.setLocalDescription(await client.createOffer())
    server = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    await server.setRemoteDescription(client.localDescription)
    return client, server


async def test_media_sockets_keep_to_the_port_range_and_announce_the_address() -> None:
    client, server = await _answerer_with_offer()
    try:
        low = random.randint(20000, 30000)
        sdp = await answer(server, MediaNetwork((low, low + 9), "203.0.113.7"))
        candidates = re.findall(r"a=candidate:\S+ \d+ udp \d+ (\S+) (\d+) typ host", sdp)
        assert candidates and {address for address, _ in candidates} == {"203.0.113.7"}, sdp
        assert all(low <= int(port) <= low + 9 for _, port in candidates), candidates
    finally:
        await client.close()
        await server.close()


async def test_a_used_up_port_range_is_a_503_with_a_sentence() -> None:
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken.bind(("0.0.0.0", 0))
    port = taken.getsockname()[1]
    client, server = await _answerer_with_offer()
    try:
        with pytest.raises(NoMediaPort, match=f"no free media port now .*{port}-{port}") as refused:
            await answer(server, MediaNetwork((port, port)))
        assert refused.value.status == 503
    finally:
        taken.close()
        await client.close()
        await server.close()


async def test_local_address_is_the_nominated_pair_s_own_address() -> None:
    offerer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    answerer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    dtls = offerer.addTransceiver("video", direction="sendonly").sender.transport
    assert aiortc_adapter.local_address(dtls) is None  # nothing nominated yet
    try:
        await _connect(offerer, answerer)
        for _ in range(100):
            if offerer.connectionState == "connected":
                break
            await asyncio.sleep(0.05)
        address = aiortc_adapter.local_address(dtls)
        assert address is not None and path_lost(address) is None
        assert any(candidate.ip == address for candidate in dtls.transport.iceGatherer.getLocalCandidates())
    finally:
        await offerer.close()
        await answerer.close()


async def test_a_closed_camera_connection_leaves_nothing_behind() -> None:
    """The adapter's tables are keyed weakly by a receiver and an ICE connection; what they
    hold must not keep their key alive once the peer connection is closed."""
    pcs = [RTCPeerConnection(RTCConfiguration(iceServers=[])) for _ in range(2)]
    pcs[0].addTransceiver("video", direction="sendonly")

    def tap() -> None:
        receiver = pcs[1].getTransceivers()[0].receiver
        aiortc_adapter.tap_receiver(receiver, lambda packet: None)
        aiortc_adapter.fast_ingest(receiver.transport)

    await _connect(pcs[0], pcs[1], tap)
    receiver = pcs[1].getTransceivers()[0].receiver
    freed = [weakref.ref(receiver), weakref.ref(receiver.transport.transport._connection)]
    for pc in pcs:
        await pc.close()
    del receiver, pc
    pcs.clear()
    await asyncio.sleep(0.2)  # the closing tasks end
    gc.collect()
    assert [ref() for ref in freed] == [None, None]
