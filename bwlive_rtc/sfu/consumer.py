"""Consumer: one viewer's downlink of one Producer (its media tracks and data channel)."""
from __future__ import annotations

import time

from aiortc import RTCDataChannel, RTCPeerConnection, RTCRtpSender

from ..aiortc_adapter import ForwardingOutput
from ..kernel.rate import TokenBucket
from .producer import Producer, ProducerTrack, Unsubscribe
from .rewriter import RtpRewriter, SourcePacket
from .vp8 import starts_keyframe

# What one viewer may cost the others: retransmissions (packets; a 1 Mbit/s stream is
# ~110 packets/s, so ~20 % of it) and keyframe requests reaching the camera.
RESEND_BURST, RESENDS_PER_S = 60, 25.0
KEYFRAME_BURST, KEYFRAMES_PER_S = 3, 0.5


class ConsumerTrack:
    """Forwards one producer track to one viewer, starting video at a key frame: until
    then each packet comes to ``deliver``; from the first one it forwards, the viewer is in
    the track's compiled fan-out (``join``) and no Python runs for it per packet."""

    def __init__(self, consumer: Consumer, source: ProducerTrack, sender: RTCRtpSender) -> None:
        self.consumer = consumer
        self.source = source
        self.rewriter = RtpRewriter(source.history)
        self.output = ForwardingOutput(sender, self.rewriter, self.on_keyframe_request, consumer.may_resend)
        self.waiting_for_keyframe = source.kind == "video"
        self._asked_for_keyframe = False
        self._unsubscribe: Unsubscribe | None = None

    def subscribe(self) -> Unsubscribe:
        """Start receiving the track's packets; returns how to stop."""
        self._unsubscribe = self.source.subscribe(self.deliver)
        return self.close

    def close(self) -> None:
        self._stop_delivery()
        self.output.leave()

    def _stop_delivery(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def deliver(self, source: SourcePacket) -> None:
        if not self.output.ready:
            return
        if self.waiting_for_keyframe:
            if not starts_keyframe(source.packet.payload):
                if not self._asked_for_keyframe:  # a joiner's request bypasses the budget
                    self._asked_for_keyframe = True
                    self.source.request_keyframe()
                return
            self.waiting_for_keyframe = False
        self.join(source)

    def join(self, source: SourcePacket) -> None:
        """Forward from ``source`` on through the track's fan-out for this viewer's header layout."""
        self.output.join(self.source.fanout(*self.rewriter.header), source)
        self._stop_delivery()

    def on_keyframe_request(self) -> None:
        """The viewer sent PLI/FIR: pass it on unless it cannot decrypt or is over budget."""
        consumer = self.consumer
        if consumer.decrypting is False or not consumer.keyframe_budget.take():
            consumer.counts["keyframe requests ignored"] += 1
            return
        consumer.counts["keyframe requests passed"] += 1
        self.source.request_keyframe()


class Consumer:
    """A viewer's peer connection to one producer: a ConsumerTrack for each offered media
    kind the producer has (none for a data-only subscription), and the data channel."""

    def __init__(self, consumer_id: str, producer: Producer, pc: RTCPeerConnection, viewer: str | None = None) -> None:
        self.id = consumer_id
        self.viewer = viewer
        self.producer = producer
        self.pc = pc
        self.tracks: dict[str, ConsumerTrack] = {}
        self.channel: RTCDataChannel | None = None
        self.decrypting: bool | None = None  # None until the viewer says
        self.keyframe_budget = TokenBucket(KEYFRAME_BURST, KEYFRAMES_PER_S)  # a PLI storm guard
        self.resend_budget = TokenBucket(RESEND_BURST, RESENDS_PER_S)  # a NACK storm guard
        self.counts = dict.fromkeys(("retransmissions", "retransmissions refused", "keyframe requests passed",
                                     "keyframe requests ignored"), 0)
        self.last_seen = time.monotonic()
        self._unsubscribes: list[Unsubscribe] = []

    def attach(self) -> None:
        """Turn the offered recvonly transceivers into forwarding senders and relay the
        data channel; call after the offer is applied."""
        for transceiver in self.pc.getTransceivers():
            source = self.producer.tracks.get(transceiver.kind)
            if source is None or transceiver.kind in self.tracks:
                continue
            transceiver.direction = "sendonly"
            track = ConsumerTrack(self, source, transceiver.sender)
            self.tracks[transceiver.kind] = track
            self._unsubscribes.append(track.subscribe())
        self.pc.on("datachannel", self._on_datachannel)
        self._unsubscribes.append(self.producer.subscribe_data(self.send_data))

    def _on_datachannel(self, channel: RTCDataChannel) -> None:
        """The viewer's channel carries the camera's messages to it; what the viewer sends
        on it goes nowhere (acknowledgements reach the camera through the server's
        authenticated API, never as a viewer's raw bytes)."""
        self.channel = channel

    def send_data(self, message: bytes | str) -> None:
        if self.channel is not None and self.channel.readyState == "open":
            self.channel.send(message)

    def may_resend(self) -> bool:
        """Whether a packet this viewer NACKed may be sent again (within its budget)."""
        allowed = self.resend_budget.take()
        self.counts["retransmissions" if allowed else "retransmissions refused"] += 1
        return allowed

    def touch(self) -> None:
        self.last_seen = time.monotonic()

    async def close(self) -> None:
        while self._unsubscribes:
            self._unsubscribes.pop()()
        await self.pc.close()
