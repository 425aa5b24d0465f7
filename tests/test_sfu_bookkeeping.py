"""Router, Producer and Consumer bookkeeping on fake peers: subscriptions, data-only
viewers, refusals, and who is dropped when (no network, no aiortc connection)."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtp import RtpPacket
from pyee.asyncio import AsyncIOEventEmitter

from bwlive_rtc.sfu import router as router_module
from bwlive_rtc.sfu.peer import OfferError
from bwlive_rtc.sfu.producer import Producer, ProducerTrack, Subscribers
from bwlive_rtc.sfu.rewriter import SourcePacket
from bwlive_rtc.sfu.router import Router, UnknownStream

# The fake peers read nothing of it; the Router's own checks see ICE credentials and a fingerprint.
OFFER = ("v=0\r\na=ice-ufrag:u\r\na=ice-pwd:p\r\na=fingerprint:sha-256 00\r\n"
         "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n")


class FakeTransceiver:
    def __init__(self, kind: str) -> None:
        self.kind = kind


class FakePeer(AsyncIOEventEmitter):
    """What the Router and its Producers and Consumers use of an RTCPeerConnection."""

    def __init__(self, kinds: tuple[str, ...] = (), data: bool = True) -> None:
        super().__init__()
        self.transceivers = [FakeTransceiver(kind) for kind in kinds]
        self.sctp = object() if data else None
        self.connectionState = "new"
        self.localDescription: RTCSessionDescription | None = None
        self.closed = False

    def getTransceivers(self) -> list[FakeTransceiver]:
        return self.transceivers

    async def setRemoteDescription(self, description: RTCSessionDescription) -> None:
        pass

    async def createAnswer(self) -> RTCSessionDescription:
        return RTCSessionDescription(sdp="v=0 answer", type="answer")

    async def setLocalDescription(self, description: RTCSessionDescription) -> None:
        self.localDescription = description

    async def close(self) -> None:
        self.closed = True


class FakeChannel(AsyncIOEventEmitter):
    readyState = "open"

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[bytes | str] = []

    def send(self, message: bytes | str) -> None:
        self.sent.append(message)


class Harness:
    """A Router with one live producer; each subscribe gets the next fake peer."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, consumer_timeout: float = 15.0) -> None:
        self.router = Router(consumer_timeout)
        self.events: list[tuple[str, Any]] = []
        for event in ("producer_removed", "consumer_added", "consumer_removed"):
            self.router.on(event, lambda obj, event=event: self.events.append((event, obj)))
        self.producer = Producer("s1", "Alex", {}, FakePeer(), ["org"])  # type: ignore[arg-type]
        self.producer.attach_tracks()
        self.router.producers[self.producer.id] = self.producer
        self.peers: list[FakePeer] = []
        monkeypatch.setattr(router_module, "new_peer_connection", self._next_peer)
        self.next_peer = FakePeer()

    def _next_peer(self) -> FakePeer:
        self.peers.append(self.next_peer)
        return self.next_peer

    def camera_says(self, message: bytes) -> None:
        """A message on the camera's data channel."""
        if self.producer.channel is None:
            self.producer.pc.emit("datachannel", FakeChannel())
        assert self.producer.channel is not None
        self.producer.channel.emit("message", message)


def test_subscribers_in_order_and_unsubscribe_exactly_once() -> None:
    subscribers = Subscribers[int]()
    got: list[tuple[str, int]] = []
    stop_a = subscribers.subscribe(lambda n: got.append(("a", n)))
    subscribers.subscribe(lambda n: got.append(("b", n)))
    for callback in subscribers.callbacks:
        callback(1)
    stop_a()
    stop_a()  # twice is harmless
    for callback in subscribers.callbacks:
        callback(2)
    assert got == [("a", 1), ("b", 1), ("b", 2)]


async def test_producer_track_fans_out_and_a_broken_sink_harms_no_other() -> None:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        track = ProducerTrack("video", pc.addTransceiver("video", direction="recvonly").receiver)
        got: list[tuple[str, int]] = []

        def broken(source: SourcePacket) -> None:
            raise RuntimeError("a consumer with a bug")

        def leaving(source: SourcePacket) -> None:
            got.append(("leaving", source.packet.sequence_number))
            stop_leaving()  # unsubscribing while packets fan out

        track.subscribe(broken)
        stop_leaving = track.subscribe(leaving)
        stop_steady = track.subscribe(lambda source: got.append(("steady", source.packet.sequence_number)))
        for seq in (1, 2):
            track._on_packet(RtpPacket(sequence_number=seq, ssrc=1234))
        stop_steady()
        track._on_packet(RtpPacket(sequence_number=3, ssrc=1234))
        assert got == [("leaving", 1), ("steady", 1), ("steady", 2)]
        assert track.ssrc == 1234
    finally:
        await pc.close()


async def test_data_only_viewer_gets_the_cameras_messages_and_cannot_speak_to_it(monkeypatch: pytest.MonkeyPatch) -> None:
    h = Harness(monkeypatch)
    h.camera_says(b"before anyone watches")
    consumer, answer = await h.router.subscribe("s1", OFFER, viewer="u1")
    assert answer == "v=0 answer" and consumer.tracks == {} and h.producer.consumers == {consumer.id: consumer}
    viewer_channel = FakeChannel()
    consumer.pc.emit("datachannel", viewer_channel)
    h.camera_says(b"position 1")
    viewer_channel.emit("message", b"forged acknowledgement")  # a viewer's bytes reach no camera
    assert viewer_channel.sent == [b"position 1"]
    assert isinstance(h.producer.channel, FakeChannel) and h.producer.channel.sent == []
    await h.router.unsubscribe("s1", consumer.id)
    h.camera_says(b"position 2")
    assert viewer_channel.sent == [b"position 1"] and consumer.pc.closed
    assert [e for e, _ in h.events] == ["consumer_added", "consumer_removed"]


@pytest.mark.parametrize(("peer", "reason"), [
    (FakePeer(kinds=("video",)), "no media this stream has"),  # this producer has no video
    (FakePeer(data=False), "neither media nor data"),
])
async def test_refused_offers_leave_nothing_behind(monkeypatch: pytest.MonkeyPatch, peer: FakePeer, reason: str) -> None:
    h = Harness(monkeypatch)
    h.next_peer = peer
    with pytest.raises(OfferError, match=reason):
        await h.router.subscribe("s1", OFFER)
    assert peer.closed and h.producer.consumers == {} and h.events == []
    h.camera_says(b"position")  # the refused consumer was never subscribed (nor left subscribed)


@pytest.mark.parametrize("attribute", ["a=ice-ufrag:", "a=ice-pwd:", "a=fingerprint:"])
async def test_offers_without_ice_or_dtls_credentials_are_refused_first(monkeypatch: pytest.MonkeyPatch,
                                                                      attribute: str) -> None:
    h = Harness(monkeypatch)
    offer = "".join(line for line in OFFER.splitlines(keepends=True) if not line.startswith(attribute))
    with pytest.raises(OfferError, match="the SDP offer's application section has no"):
        await h.router.subscribe("s1", offer)
    with pytest.raises(OfferError, match="the SDP offer's application section has no"):
        await h.router.publish(offer, "camera", {}, ["org"])
    assert h.router.producers == {"s1": h.producer} and h.events == []


async def test_unknown_stream_and_a_stream_that_ends_while_negotiating(monkeypatch: pytest.MonkeyPatch) -> None:
    h = Harness(monkeypatch)
    with pytest.raises(UnknownStream):
        await h.router.subscribe("nope", OFFER)
    ending = h.next_peer

    async def camera_leaves(description: RTCSessionDescription) -> None:
        ending.localDescription = description
        await h.router.unpublish("s1")

    monkeypatch.setattr(ending, "setLocalDescription", camera_leaves)
    with pytest.raises(UnknownStream, match="ended"):
        await h.router.subscribe("s1", OFFER)
    assert ending.closed and h.producer.pc.closed and h.router.producers == {}


async def test_drop_viewer_and_unpublish_end_the_right_subscriptions(monkeypatch: pytest.MonkeyPatch) -> None:
    h = Harness(monkeypatch)
    mine, _ = await h.router.subscribe("s1", OFFER, viewer="u1")
    h.next_peer = FakePeer()
    theirs, _ = await h.router.subscribe("s1", OFFER, viewer="u2")
    await h.router.drop_viewer("u1", "another org")
    assert set(h.producer.consumers) == {mine.id, theirs.id}
    await h.router.drop_viewer("u1", "org")
    assert set(h.producer.consumers) == {theirs.id} and mine.pc.closed
    await h.router.unpublish("s1")
    assert theirs.pc.closed and h.router.producers == {}
    assert [e for e, _ in h.events] == ["consumer_added", "consumer_added", "consumer_removed", "consumer_removed",
                                        "producer_removed"]


async def test_silent_viewers_are_reaped(monkeypatch: pytest.MonkeyPatch) -> None:
    h = Harness(monkeypatch, consumer_timeout=0.3)
    silent, _ = await h.router.subscribe("s1", OFFER)
    h.next_peer = FakePeer()
    talking, _ = await h.router.subscribe("s1", OFFER)
    h.router.start()
    try:
        for _ in range(8):
            talking.touch()
            await asyncio.sleep(0.1)
        assert set(h.producer.consumers) == {talking.id} and silent.pc.closed
    finally:
        await h.router.close()
