"""Producer: one camera's uplink (video, audio, data channel) inside the Router."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiortc import RTCDataChannel, RTCPeerConnection, RTCRtpReceiver
from aiortc.rtp import RtpPacket

from .. import aiortc_adapter
from .keyframes import KeyframePacer

if TYPE_CHECKING:
    from .consumer import Consumer

log = logging.getLogger(__name__)

MEDIA_KINDS = ("video", "audio")


class PacketSink:
    """What a ProducerTrack forwards to (a ConsumerTrack)."""

    def deliver(self, source: aiortc_adapter.SourcePacket) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class ProducerTrack:
    """One incoming media track; fans each RTP packet out to its sinks."""

    def __init__(self, kind: str, receiver: RTCRtpReceiver) -> None:
        self.kind = kind
        self.receiver = receiver
        self.ssrc: int | None = None  # primary SSRC, learned from the first packet
        self.sinks: list[PacketSink] = []
        self.pacer = KeyframePacer(self._send_pli)
        aiortc_adapter.tap_receiver(receiver, self._on_packet)

    def _on_packet(self, packet: RtpPacket) -> None:
        self.ssrc = packet.ssrc
        source = aiortc_adapter.SourcePacket(packet)
        for sink in self.sinks:
            try:
                sink.deliver(source)
            except ConnectionError:
                pass  # that consumer is going away; the others go on
            except Exception:  # one broken consumer must not stop the stream
                log.exception("forwarding to a consumer failed")

    def request_keyframe(self) -> None:
        if self.kind == "video":
            self.pacer.request()

    def _send_pli(self) -> None:
        if self.ssrc is not None:
            asyncio.ensure_future(aiortc_adapter.request_keyframe(self.receiver, self.ssrc))


class Producer:
    """A camera's stream: its tracks, its data channel, and what viewers need to know."""

    def __init__(
        self, stream_id: str, camera: str, key_envelope: dict[str, object], pc: RTCPeerConnection,
        organisation_ids: list[str],
    ) -> None:
        self.id = stream_id
        self.organisation_ids = organisation_ids  # whose systems encrypt to this stream's key
        self.camera = camera
        self.key_envelope = key_envelope
        self.pc = pc
        self.started_at = datetime.now(UTC)
        self.tracks: dict[str, ProducerTrack] = {}
        self.channel: RTCDataChannel | None = None
        self.consumers: dict[str, Consumer] = {}
        self.data_listeners: list[Callable[[bytes | str], None]] = []

    def attach_tracks(self) -> None:
        """Tap every offered media track; call after the offer is applied."""
        transports = set()
        for transceiver in self.pc.getTransceivers():
            if transceiver.kind in MEDIA_KINDS and transceiver.kind not in self.tracks:
                self.tracks[transceiver.kind] = ProducerTrack(transceiver.kind, transceiver.receiver)
                transports.add(transceiver.receiver.transport)
        for transport in transports:  # one with BUNDLE
            aiortc_adapter.fast_ingest(transport)
        self.pc.on("datachannel", self._on_datachannel)

    def _on_datachannel(self, channel: RTCDataChannel) -> None:
        self.channel = channel

        @channel.on("message")
        def relay(message: bytes | str) -> None:
            for listener in list(self.data_listeners):
                listener(message)

    def send_data(self, message: bytes | str) -> None:
        """Relay a (still encrypted) message from a viewer to the camera."""
        if self.channel is not None and self.channel.readyState == "open":
            self.channel.send(message)

    def describe(self) -> dict[str, object]:
        return {
            "id": self.id,
            "camera": self.camera,
            "started_at": self.started_at.isoformat(),
            "key_envelope": self.key_envelope,
        }

    async def close(self) -> None:
        for track in self.tracks.values():
            track.pacer.close()
        await self.pc.close()
