"""Producer: one camera's uplink (video, audio, data channel) inside the Router."""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Generic, TypeVar

from aiortc import RTCDataChannel, RTCPeerConnection, RTCRtpReceiver
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from .. import aiortc_adapter
from ..crypto.signing import CHECKPOINT as CHECKPOINT_TOKEN
from ..crypto.signing import SignatureError, token_payload
from ..protocol import CHECKPOINT
from .fanout import Fanout
from .keyframes import KeyframePacer
from .rewriter import SourceHistory, SourcePacket, UplinkSeries
from .vp8 import starts_keyframe

if TYPE_CHECKING:
    from .consumer import Consumer

log = logging.getLogger(__name__)

MEDIA_KINDS = ("video", "audio")
CLOCK_RATES = {"video": 90_000, "audio": 48_000}  # VP8 and Opus RTP clocks (RFC 7741, RFC 7587)
LOST_STATES = ("failed", "closed")

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
    """One incoming media track; hands each RTP packet to its viewers' compiled fan-outs
    (one per header layout), keeps it for their NACKs, and hands it to its subscribers
    (the recorder, viewers waiting for a key frame). A resume
    adds the new connection's receiver (``add_uplink``); its first packet makes it the
    track's source, and the older connection's packets are dropped from then on."""

    def __init__(self, kind: str, receiver: RTCRtpReceiver) -> None:
        self.kind = kind
        self.receiver = receiver
        self.ssrc: int | None = None  # primary SSRC of the current connection, learned from its first packet
        self.last_arrival = time.monotonic()  # of the last packet (at first: when the track was made)
        self.series = UplinkSeries(CLOCK_RATES[kind])
        self._sinks = Subscribers[SourcePacket]()
        self.history = SourceHistory()
        self._fanouts: dict[bytes, Fanout] = {}
        self.pacer = KeyframePacer(self._send_pli)
        self._uplinks = 0  # connections tapped so far
        self._uplink = 1  # the one that carries the track now
        self.add_uplink(receiver)

    def add_uplink(self, receiver: RTCRtpReceiver) -> None:
        """Tap ``receiver``, of the camera's newest connection."""
        self._uplinks += 1
        uplink = self._uplinks

        def on_packet(packet: RtpPacket) -> None:
            if uplink != self._uplink:
                if uplink < self._uplink:
                    return  # an older connection's late packet
                self._uplink, self.receiver, self.ssrc = uplink, receiver, None
                self.series.next_uplink()
            self._on_packet(packet)

        aiortc_adapter.tap_receiver(receiver, on_packet)

    def subscribe(self, sink: PacketSink) -> Unsubscribe:
        """Hand every packet of this track to ``sink`` until the returned function is called."""
        return self._sinks.subscribe(sink)

    def fanout(self, layout: bytes, mid: str | None, extensions: HeaderExtensionsMap) -> Fanout:
        """The fan-out of this track's viewers with header ``layout``."""
        fanout = self._fanouts.get(layout)
        if fanout is None:
            fanout = self._fanouts[layout] = Fanout(layout, mid, extensions)
        return fanout

    def _on_packet(self, packet: RtpPacket) -> None:
        if self.ssrc is None and self._uplink > 1 and not starts_keyframe(packet.payload):
            self.ssrc = packet.ssrc
            self.request_keyframe()  # a resumed connection starts with a key frame: ask if it did not
        self.ssrc = packet.ssrc
        self.last_arrival = time.monotonic()
        self.series.place(packet)
        source = SourcePacket(packet)
        self.history.add(source)
        for fanout in self._fanouts.values():
            try:
                fanout.send(source)
            except Exception:  # one broken viewer must not stop the stream
                log.exception("forwarding to viewers failed")
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


def checkpoint_seq(message: str) -> int | None:
    """The seq of the checkpoint a camera's text message carries (its signature is the
    viewers' to check), or None for another message."""
    try:
        data = json.loads(message)
        if not isinstance(data, dict) or data.get("type") != CHECKPOINT:
            return None
        seq = token_payload(str(data.get("token")), CHECKPOINT_TOKEN)[1].get("seq")
    except (ValueError, SignatureError):
        return None
    return seq if isinstance(seq, int) else None


class Producer:
    """A camera's stream: its tracks, its data channel, and what viewers need to know.

    A camera that resumes the stream over a new connection (``add_uplink``) keeps all of
    it: the new connection becomes ``pc`` once it connects (``take_uplink``), each track
    switches at the new connection's first packet, and checkpoints the camera sends again
    on the new data channel (some may have been lost with the old one) are relayed once.
    """

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
        self.pending: RTCPeerConnection | None = None  # a resume's connection, until it connects
        self.resumes = 0
        self._checkpoint_seq = -1  # of the last checkpoint relayed
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

    def add_uplink(self, pc: RTCPeerConnection) -> RTCPeerConnection | None:
        """Tap a resume's connection (offer applied); returns an earlier resume's connection
        that has not connected yet, for the caller to close."""
        transports = set()
        for transceiver in pc.getTransceivers():
            track = self.tracks.get(transceiver.kind)
            if track is not None:
                track.add_uplink(transceiver.receiver)
                transports.add(transceiver.receiver.transport)
        for transport in transports:
            aiortc_adapter.fast_ingest(transport)
        pc.on("datachannel", self._on_datachannel)
        stale, self.pending = self.pending, pc
        return stale

    def take_uplink(self) -> RTCPeerConnection:
        """The resume's connection connected: it is the stream's from now on; returns the
        old one, for the caller to close."""
        assert self.pending is not None
        old, self.pc, self.pending = self.pc, self.pending, None
        self.resumes += 1
        return old

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
            if isinstance(message, str) and (seq := checkpoint_seq(message)) is not None:
                if seq <= self._checkpoint_seq:
                    return  # sent again after a resume, relayed already
                self._checkpoint_seq = seq
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
        if self.pending is not None:
            await self.pending.close()
        await self.pc.close()
