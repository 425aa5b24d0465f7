"""The camera agent: one stream from start to stop, over WHIP.

Start: fresh stream key (suite 5), sealed to the system public key; VP8 + Opus tracks that emit
encrypted frames; a data channel for encrypted positions (out) and acknowledgements
(in); the offer POSTed to the server's ``/whip``. A lost connection (the server ended the
session, restarted or vanished) is an error the agent shows and recovers from: it
publishes afresh, with exponential back-off. Stop: DELETE the WHIP session's resource.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiortc import (
    RTCConfiguration,
    RTCDtlsTransport,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .. import aiortc_adapter
from ..crypto.acknowledgement import AcknowledgementOpener
from ..crypto.chain import ChainWriter
from ..crypto.content_key import KeyEnvelope
from ..crypto.sframe import FrameDecryptor, FrameEncryptor, Kind, StreamKey
from ..crypto.system_key import SystemPublicKey
from ..protocol import ACKNOWLEDGE, CHECKPOINT, DATA_CHANNEL_LABEL
from .gps import GpxTrack, LosesFix, PositionSource, SimpleWalk
from .local_recording import LocalRecording
from .publish import SignedStream
from .sources import FileVideo, TestPattern
from .tracks import EncryptedAudioTrack, EncryptedVideoTrack, seal

log = logging.getLogger(__name__)


LOST_STATES = frozenset({"closed", "failed", "disconnected"})
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0
RETRIED_STATUSES = frozenset({408, 409, 429})  # and every 5xx: the server may take us later
CHECKPOINT_EVERY_S = 0.5  # PROTOCOL §5.4: at least every second


class CameraError(Exception):
    """The server refused the stream or could not be reached; the message says why.
    ``retry_after``: seconds to wait at least before trying again; None: do not retry."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class CameraOptions:
    server: str
    name: str
    public_key: SystemPublicKey
    credential: str
    device_key: Ed25519PrivateKey
    video_file: Path | None = None
    audio: bool = True
    gps: bool = True
    fps: int = 30
    width: int = 640
    height: int = 360
    verify_tls: bool = True
    clock_offset: float = 0.0  # seconds; simulates a camera whose clock is wrong
    recordings_dir: Path | None = None  # the camera's own storage; None: no local recording
    gpx: Path | None = None  # replay this track instead of walking
    gps_lost_after: float | None = None  # simulate losing the fix after this many seconds...
    gps_lost_for: float | None = None  # ...for this long (None: for good)


@dataclass
class CameraState:
    """What the wearer would see on the camera: its mode and the last events."""

    mode: str = "idle"  # idle, connecting, streaming, error, stopped
    detail: str = ""
    last_response: int | None = None
    acknowledgements: list[dict[str, object]] = field(default_factory=list)


def _prefer(pc: RTCPeerConnection, kind: str, mime: str) -> None:
    codecs = [c for c in RTCRtpSender.getCapabilities(kind).codecs if c.mimeType.lower() in (mime, f"{kind}/rtx")]
    for transceiver in pc.getTransceivers():
        if transceiver.kind == kind:
            transceiver.setCodecPreferences(codecs)


class CameraAgent:
    """Streams one camera to the server until ``stop()``."""

    def __init__(self, options: CameraOptions, on_state: Callable[[CameraState], None] | None = None) -> None:
        self.options = options
        self.state = CameraState()
        self._on_state = on_state or (lambda state: None)
        self._pc: RTCPeerConnection | None = None
        self._session: aiohttp.ClientSession | None = None
        self._location: str | None = None
        self._gps_task: asyncio.Task[None] | None = None
        self._checkpoint_task: asyncio.Task[None] | None = None
        self._recovery: asyncio.Task[None] | None = None
        self._stopping = False  # stop() ends the session itself: that is no loss to recover from
        self._positions: PositionSource  # set by start()
        self.video: EncryptedVideoTrack | None = None
        self.local_recording: LocalRecording | None = None
        self.stream_id = ""  # of the last publish

    def _set(self, mode: str, detail: str = "") -> None:
        self.state.mode, self.state.detail = mode, detail
        self._on_state(self.state)

    async def start(self) -> None:
        """Publish the stream; raises CameraError (and shows the error) when the server
        refuses it or cannot be reached. Once streaming, a lost connection is recovered
        by publishing afresh, with back-off, until ``stop()``."""
        self._positions = self._position_source()  # a bad GPX file stops us here, before connecting
        self._stopping = False
        try:
            await self._publish()
        except CameraError as exc:
            self._set("error", str(exc))
            raise

    async def _publish(self) -> None:
        """One WHIP publish with a fresh stream key (suite 5), a fresh signed manifest and
        checkpoint chain, and a fresh peer connection."""
        opts = self.options
        self._set("connecting", f"to {opts.server}")
        key = StreamKey.new()
        stream = SignedStream.start(opts.credential, opts.device_key, KeyEnvelope.seal(key, opts.public_key),
                                    self._camera_ms())
        chain = stream.chain()
        source = FileVideo(opts.video_file, opts.width, opts.height) if opts.video_file else TestPattern(opts.width, opts.height)
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=bool(opts.verify_tls)))
        try:
            ice_servers = await self._ice_servers(self._session)
        except aiohttp.ClientError as exc:
            await self._teardown()
            raise CameraError(f"cannot reach {opts.server}: {exc}", retry_after=0.0) from None
        pc = self._pc = RTCPeerConnection(RTCConfiguration(iceServers=ice_servers))
        self.video = EncryptedVideoTrack(source, key, fps=opts.fps, chain=chain, beside_audio=opts.audio)
        if opts.recordings_dir is not None and self.local_recording is None:  # none runs yet: start one
            path = opts.recordings_dir / f"{time.strftime('%Y%m%d-%H%M%S')}.ivf"
            self.local_recording = LocalRecording(path, opts.width, opts.height)
            self._set("connecting", f"local recording started: {path}")
        if self.local_recording is not None:
            self.video.on_encoded = self.local_recording.write
        video_sender = pc.addTransceiver(self.video, direction="sendonly").sender
        aiortc_adapter.on_keyframe_request(video_sender, self.video.request_keyframe)
        pacer = aiortc_adapter.pace_media(video_sender.transport)
        aiortc_adapter.on_bitrate_estimate(video_sender, self.video.follow_estimate, pacer.follow)
        _prefer(pc, "video", "video/vp8")
        if opts.audio:
            pc.addTransceiver(EncryptedAudioTrack(key, chain=chain), direction="sendonly")
            _prefer(pc, "audio", "audio/opus")
        channel = pc.createDataChannel(DATA_CHANNEL_LABEL)
        opener = AcknowledgementOpener(FrameDecryptor(key))
        channel.on("message", lambda message: self._on_message(opener, message))
        channel.on("open", lambda: self._start_sending(channel, key, chain))
        self._watch(pc, video_sender.transport)

        await pc.setLocalDescription(await pc.createOffer())
        try:
            async with self._session.post(
                opts.server.rstrip("/") + "/whip",
                data=pc.localDescription.sdp,
                headers={"Content-Type": "application/sdp", **stream.headers(pc.localDescription.sdp)},
            ) as response:
                self.state.last_response = response.status
                body = await response.text()
                if response.status != 201:
                    raise CameraError(f"server refused the stream ({response.status}): {_reason(body)}",
                                      _retry_after(response))
                resource = aiohttp.client.URL(response.headers["Location"])  # /whip/{stream id}/{secret}
                self._location, self.stream_id = str(response.url.join(resource)), resource.parts[2]
        except aiohttp.ClientError as exc:
            await self._teardown()
            raise CameraError(f"cannot reach {opts.server}: {exc}", retry_after=0.0) from None
        except CameraError:
            await self._teardown()
            raise
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))

    async def _ice_servers(self, session: aiohttp.ClientSession) -> list[RTCIceServer]:
        """The STUN/TURN servers the server hands out (``OPTIONS /whip``, RFC 9725 §4.6
        ``Link`` headers), TURN over TCP first: direct UDP is tried on the host candidates
        anyway, and aiortc uses one TURN server only, so it had best be the one that still
        works where UDP is blocked. None from a server that has none (or no OPTIONS)."""
        async with session.options(self.options.server.rstrip("/") + "/whip",
                                   headers={"Authorization": f"Bearer {self.options.credential}"}) as response:
            if response.status != 204:
                return []
            links = response.links.getall("ice-server", [])
        servers = [RTCIceServer(urls=str(link["url"]), username=str(link.get("username", "")) or None,
                                credential=str(link.get("credential", "")) or None) for link in links]
        servers.sort(key=lambda server: _turn_preference(str(server.urls)))
        if servers:
            self._set("connecting", "ICE servers: " + ", ".join(str(server.urls) for server in servers))
        return servers

    def _watch(self, pc: RTCPeerConnection, dtls: RTCDtlsTransport) -> None:
        """Follow the connection, its DTLS and its ICE transport: aiortc reports a server
        that went away (closed the session, restarted, vanished) on those, not always on
        the connection state."""

        async def check() -> None:
            if pc is not self._pc or self._stopping:
                return
            if pc.connectionState == "connected" and dtls.state == "connected" and self.state.mode != "streaming":
                self._set("streaming", f"stream {self.stream_id}")
            lost = [f"{name} {state}" for name, state in
                    (("connection", pc.connectionState), ("DTLS", dtls.state), ("ICE", dtls.transport.state))
                    if state in LOST_STATES]
            if lost and self._recovery is None:
                self._recovery = asyncio.ensure_future(self._recover(", ".join(lost)))

        pc.on("connectionstatechange", check)
        dtls.on("statechange", check)
        dtls.transport.on("statechange", check)

    async def _recover(self, why: str) -> None:
        """The connection is lost: say so, then publish afresh with back-off until it works,
        the server refuses for good (a 4xx other than 408, 409 or 429) or ``stop()``."""
        self._set("error", f"lost the connection to the server ({why})")
        await self._teardown()
        delay = BACKOFF_FIRST_S
        try:
            while True:
                wait = delay * random.uniform(0.8, 1.2)
                self._set("connecting", f"reconnecting in {wait:.1f} s")
                await asyncio.sleep(wait)
                try:
                    await self._publish()
                    return
                except CameraError as exc:
                    if exc.retry_after is None:
                        self._set("error", f"{exc}; not reconnecting")
                        return
                    self._set("error", str(exc))
                    delay = max(min(delay * 2, BACKOFF_MAX_S), exc.retry_after)
        finally:
            self._recovery = None

    def _camera_ms(self) -> int:
        """The camera's clock (ms since 1970)."""
        return int((time.time() + self.options.clock_offset) * 1000)

    def _start_sending(self, channel, key: StreamKey, chain: ChainWriter) -> None:  # type: ignore[no-untyped-def]
        """Once the data channel is open: a sealed position every second (with GPS on), and
        the stream's next checkpoint, in clear, every ``CHECKPOINT_EVERY_S``."""
        source, encryptor = self._positions, FrameEncryptor(key, Kind.CAMERA_DATA)

        async def send_fixes() -> None:
            while channel.readyState == "open":
                channel.send(seal(encryptor, chain, json.dumps(source.fix()).encode()))
                await asyncio.sleep(1.0)

        async def send_checkpoints() -> None:
            while channel.readyState == "open":
                channel.send(json.dumps({"type": CHECKPOINT, "token": chain.checkpoint(self._camera_ms())}))
                await asyncio.sleep(CHECKPOINT_EVERY_S)

        if self.options.gps:
            self._gps_task = asyncio.ensure_future(send_fixes())
        self._checkpoint_task = asyncio.ensure_future(send_checkpoints())

    def _position_source(self) -> PositionSource:
        opts = self.options
        source: PositionSource = GpxTrack(opts.gpx) if opts.gpx else SimpleWalk(seed=opts.name)
        if opts.gps_lost_after is not None:
            source = LosesFix(source, opts.gps_lost_after, opts.gps_lost_for)
        return source

    def _on_message(self, opener: AcknowledgementOpener, message: bytes | str) -> None:
        """The server relays an operator's acknowledgement: who (the server signed them in)
        and the sealed press (proof that a holder of this stream's key pressed it, once)."""
        try:
            relayed = json.loads(message)
            by, sealed = relayed["by"], relayed["sealed"]
            if relayed.get("type") != ACKNOWLEDGE or not isinstance(by, str) or not isinstance(sealed, str):
                raise ValueError("not an acknowledgement")
            pressed = opener.open(sealed, int(time.time() * 1000))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignored a data message: %s", exc)
            return
        self.state.acknowledgements.append({"by": by, "t": pressed})
        self._set("acknowledged", f"by {by} (vibrate) {time.time() * 1000 - pressed:.0f} ms after the press")

    async def stop(self) -> None:
        """End the stream on the server and locally."""
        self._stopping = True
        if self._recovery is not None:
            self._recovery.cancel()
        if self._location and self._session:
            try:
                headers = {"Authorization": f"Bearer {self.options.credential}"}
                async with self._session.delete(self._location, headers=headers) as response:
                    self.state.last_response = response.status
                    if response.status != 200:
                        self._set("error", f"the server did not end the stream ({response.status}): "
                                           f"{_reason(await response.text())}")
            except aiohttp.ClientError as exc:
                self._set("error", f"cannot reach {self.options.server} to end the stream: {exc}")
        await self._teardown()
        if self.local_recording is not None:
            self.local_recording.close()
            self._set("stopped", f"local recording stopped: {self.local_recording.frames} frames in "
                                 f"{self.local_recording.path}")
            self.local_recording = None
        else:
            self._set("stopped")

    async def _teardown(self) -> None:
        pc, session, self._pc, self._session, self._location = self._pc, self._session, None, None, None
        for task in (self._gps_task, self._checkpoint_task):
            if task:
                task.cancel()
        if pc:
            await pc.close()
        if session:
            await session.close()


def troubleshooting(agent: CameraAgent, networks: list[dict[str, str]]) -> dict[str, str]:
    """What the camera's troubleshooting mode shows. The radio is simulated (mode, signal);
    time, addresses and name servers are this machine's."""
    import ifaddr

    pc = agent._pc
    addresses = sorted({str(ip.ip) for adapter in ifaddr.get_adapters() for ip in adapter.ips if isinstance(ip.ip, str)})
    try:
        name_servers = [line.split()[1] for line in Path("/etc/resolv.conf").read_text().splitlines()
                        if line.startswith("nameserver")]
    except OSError:
        name_servers = []
    offset = agent.options.clock_offset
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + offset)),
        "network": f"ICE {pc.iceConnectionState}, connection {pc.connectionState}" if pc else "not connected",
        "mode": f"WLAN {networks[0]['ssid']} (simulated)" if networks else "LTE (simulated)",
        "signal": "-58 dBm (simulated)",
        "addresses": ", ".join(addresses) or "none",
        "name servers": ", ".join(name_servers) or "none",
        "server": agent.options.server,
        "last server response": str(agent.state.last_response or "none yet"),
    }


def _turn_preference(url: str) -> int:
    """Order of ICE servers for aiortc (which takes the first STUN and the first TURN one):
    TURN over TCP, then TURN over TLS, then the rest."""
    if url.startswith("turn:") and url.endswith("transport=tcp"):
        return 0
    return 1 if url.startswith("turns:") else 2


def _retry_after(response: aiohttp.ClientResponse) -> float | None:
    """How long to wait before publishing again after this refusal; None: not at all."""
    if response.status not in RETRIED_STATUSES and response.status < 500:
        return None
    try:
        return max(0.0, float(response.headers.get("Retry-After", "0")))
    except ValueError:
        return 0.0


def _reason(body: str) -> str:
    try:
        return str(json.loads(body)["error"])
    except (ValueError, KeyError, TypeError):
        return body.strip() or "no reason given"
