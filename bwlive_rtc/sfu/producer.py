"""Producer: one camera's uplink (video, audio, data channel) inside the Router."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Generic, TypeVar

from aiortc import RTCDataChannel, RTCPeerConnection, RTCRtpReceiver
from aiortc.rtp import RtpPacket

from .. import aiortc_adapter
from .keyframes import KeyframePacer
from .rewriter import SourcePacket

if TYPE_CHECKING:
    from .consumer import Consumer

log = logging.getLogger(__name__)

MEDIA_KINDS = ("video", "audio")

T = TypeVar("T")
Unsubscribe = Callable[[], None]
PacketSink = Callable[[SourcePacket], None]
DataListener = Callable[[bytes | str], None]


class Subscribers(Generic[T]):
    """Callbacks to hand each item to. ``callbacks`` is replaced, never changed, so a
    callback may (un)subscribe while the others are being called."""

    __slots__ = ("callbacks",)

    def __init__(self) -> None:
        self.callbacks: tuple[Callable[[T], None], ...] = ()

    def subscribe(self, callback: Callable[[T], None]) -> Unsubscribe:
        self.callbacks = (*self.callbacks, callback)

        def unsubscribe() -> None:
            for i, each in enumerate(self.callbacks):
                if each is callback:
                    self.callbacks = self.callbacks[:i] + self.callbacks[i + 1:]
                    return

        return unsubscribe


class ProducerTrack:
    """One incoming media track; fans each RTP packet out to its subscribers."""

    def __init__(self, kind: str, receiver: RTCRtpReceiver) -> None:
        self.kind = kind
        self.receiver = receiver
        self.ssrc: int | None = None  # primary SSRC, learned from the first packet
        self.last_arrival = time.monotonic()  # of the last packet (at first: when the track was made)
        self._sinks = Subscribers[SourcePacket]()
        self.pacer = KeyframePacer(self._send_pli)
        aiortc_adapter.tap_receiver(receiver, self._on_packet)

    def subscribe(self, sink: PacketSink) -> Unsubscribe:
        """Hand every packet of this track to ``sink`` until the returned function is called."""
        return self._sinks.subscribe(sink)

    def _on_packet(self, packet: RtpPacket) -> None:
        self.ssrc = packet.ssrc
        self.last_arrival = time.monotonic()
        source = SourcePacket(packet)
        for sink in self._sinks.callbacks:
            try:
                sink(source)
            except ConnectionError:
                pass  # that consumer is going away; the others go on
            except Exception:  # one broken consumer must not stop the stream
                log.exception("forwarding to a consumer failed")

    def request_keyframe(self) -> None:
        if self.kind == "video":
            self.pacer.request()

    def _send_pli(self) -> None:
        if self.ssrc is not None:
            aiortc_adapter.request_keyframe(self.receiver, self.ssrc)


class Producer:
    """A camera's stream: its tracks, its data channel, and what viewers need to know."""

    def __init__(
        self, stream_id: str, camera: str, key_envelope: dict[str, object], pc: RTCPeerConnection,
        organisation_ids: list[str], manifest: str | None = None,
    ) -> None:
        self.id = stream_id
        self.manifest = manifest  # the camera's signed stream manifest (PROTOCOL §5.3), opaque here
        self.organisation_ids = organisation_ids  # whose systems encrypt to this stream's key
        self.camera = camera
        self.key_envelope = key_envelope
        self.pc = pc
        self.started_at = datetime.now(UTC)
        self.tracks: dict[str, ProducerTrack] = {}
        self.channel: RTCDataChannel | None = None
        self._channel_open = asyncio.Event()
        self.consumers: dict[str, Consumer] = {}
        self._data_listeners = Subscribers[bytes | str]()

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

    def quiet_for(self) -> float:
        """Seconds since any media arrived (since the stream began, before the first packet)."""
        if not self.tracks:
            return 0.0
        return time.monotonic() - max(track.last_arrival for track in self.tracks.values())

    @property
    def received_media(self) -> bool:
        """Whether any media packet arrived yet."""
        return any(track.ssrc is not None for track in self.tracks.values())

    def last_media_at(self) -> datetime:
        """When the last media packet arrived (wall clock; before the first one: when the
        stream began)."""
        if not self.received_media:
            return self.started_at
        return datetime.now(UTC) - timedelta(seconds=self.quiet_for())

    def subscribe_data(self, listener: DataListener) -> Unsubscribe:
        """Hand every data-channel message from the camera (still encrypted) to ``listener``
        until the returned function is called."""
        return self._data_listeners.subscribe(listener)

    def _on_datachannel(self, channel: RTCDataChannel) -> None:
        self.channel = channel
        if channel.readyState == "open":
            self._channel_open.set()
        channel.on("open", self._channel_open.set)

        @channel.on("message")
        def relay(message: bytes | str) -> None:
            for listener in self._data_listeners.callbacks:
                listener(message)

    @property
    def reachable(self) -> bool:
        """True while the camera's data channel is open."""
        return self.channel is not None and self.channel.readyState == "open"

    async def reachable_within(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the camera's data channel (a stream that just
        started may not have opened it yet)."""
        if not self.reachable:
            try:
                await asyncio.wait_for(self._channel_open.wait(), seconds)
            except TimeoutError:
                return False
        return self.reachable

    def send_data(self, message: bytes | str) -> None:
        """Send the camera a message from the server (an operator's relayed
        acknowledgement); check ``reachable`` first."""
        if self.channel is not None and self.reachable:
            self.channel.send(message)

    def describe(self) -> dict[str, object]:
        return {
            "id": self.id,
            "camera": self.camera,
            "started_at": self.started_at.isoformat(),
            "key_envelope": self.key_envelope,
            "manifest": self.manifest,
        }

    async def close(self) -> None:
        for track in self.tracks.values():
            track.pacer.close()
        await self.pc.close()
