"""The camera agent: one stream from start to stop, over WHIP.

Start: fresh stream key (suite 5), sealed to the system public key; VP8 + Opus tracks that emit
encrypted frames; a data channel for encrypted positions (out) and acknowledgements
(in); the offer POSTed to the server's ``/whip``. A broken path (the local address gone
or its interface down, ICE or DTLS lost) is recovered first by resuming the running
stream over a new connection (make before break: the same stream, key, manifest, chain
and counters; PROTOCOL §4.1), else, once the server no longer has the stream (it ended
it, restarted or vanished), by publishing afresh with exponential back-off. Stop:
DELETE the WHIP session's resource.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiortc import (
    RTCConfiguration,
    RTCDataChannel,
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
from .network import path_lost
from .publish import SignedStream
from .sources import FileVideo, TestPattern
from .telemetry import STATUS_EVERY_S, SimulatedRadio, help_request, status
from .tracks import EncryptedAudioTrack, EncryptedVideoTrack, seal

log = logging.getLogger(__name__)


LOST_STATES = frozenset({"closed", "failed", "disconnected"})
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0
RETRIED_STATUSES = frozenset({408, 409, 429})  # and every 5xx: the server may take us later
CHECKPOINT_EVERY_S = 0.5  # PROTOCOL §5.4: at least every second
PATH_CHECK_S = 0.1  # how often the local end of the connection's path is looked at
SERVER_SILENT_S = 6.0  # no RTCP about the video (receiver reports: about one a second) this long: the server is gone
RESUME_TIMEOUT_S = 5.0  # a resume's HTTP exchange over a new path
OPTIONS_TIMEOUT_S = 10.0  # asking for the ICE servers
CLOSING_GRACE_S = 0.2  # for the closing checkpoint to reach the server before the DELETE
CHECKPOINTS_RESENT_S = 3.0  # checkpoints this recent are sent again on a resumed connection


class CameraError(Exception):
    """The server refused the stream or could not be reached; the message says why.
    ``retry_after``: seconds to wait at least before trying again; None: do not retry."""

    def __init__(self, message: str, retry_after: float | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status  # the server's refusal, None when it was not reached


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
    battery: float = 100.0  # the simulated battery's charge at start (%)


@dataclass
class CameraState:
    """What the wearer would see on the camera: its mode and the last events."""

    mode: str = "idle"  # idle, connecting, streaming, error, stopped
    detail: str = ""
    last_response: int | None = None
    acknowledgements: list[dict[str, object]] = field(default_factory=list)


@dataclass
class _Stream:
    """What one stream keeps across its connections: key, manifest and checkpoint chain,
    the tracks and the data encryptor (their SFrame counters go on: never a counter twice
    under one key), and the checkpoints sent lately (a resumed connection sends them again)."""

    signed: SignedStream
    key: StreamKey
    chain: ChainWriter
    video: EncryptedVideoTrack
    audio: EncryptedAudioTrack | None
    data: FrameEncryptor
    opener: AcknowledgementOpener
    checkpoints: deque[tuple[float, str]] = field(default_factory=deque)  # (monotonic time, token)

    def checkpoint(self, camera_ms: int, final: bool = False) -> str:
        token = self.chain.checkpoint(camera_ms, final)
        now = time.monotonic()
        self.checkpoints.append((now, token))
        while self.checkpoints[0][0] < now - CHECKPOINTS_RESENT_S:
            self.checkpoints.popleft()
        return token


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
        self._replaced: RTCPeerConnection | None = None  # the connection a resume replaces, until the new one connects
        self._session: aiohttp.ClientSession | None = None
        self._location: str | None = None
        self._stream: _Stream | None = None  # the running stream, kept across its connections
        self._channel: RTCDataChannel | None = None  # its data channel, on the current connection
        self._gps_task: asyncio.Task[None] | None = None
        self._checkpoint_task: asyncio.Task[None] | None = None
        self._path_task: asyncio.Task[None] | None = None
        self._status_task: asyncio.Task[None] | None = None
        self._send_sealed: Callable[[Mapping[str, object]], None] | None = None  # while the data channel is open
        self._radio = SimulatedRadio(options.name, options.battery)
        self._recovery: asyncio.Task[None] | None = None
        self.resumes = 0
        self._lost_at = 0.0  # monotonic time the last loss was seen
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
        """One WHIP publish of a new stream: a fresh stream key (suite 5), a fresh signed
        manifest and checkpoint chain, fresh tracks, a fresh peer connection."""
        opts = self.options
        self._set("connecting", f"to {opts.server}")
        key = StreamKey.new()
        signed = SignedStream.start(opts.credential, opts.device_key, KeyEnvelope.seal(key, opts.public_key),
                                    self._camera_ms())
        chain = signed.chain()
        source = FileVideo(opts.video_file, opts.width, opts.height) if opts.video_file else TestPattern(opts.width, opts.height)
        self.video = EncryptedVideoTrack(source, key, fps=opts.fps, chain=chain, beside_audio=opts.audio)
        if opts.recordings_dir is not None and self.local_recording is None:  # none runs yet: start one
            path = opts.recordings_dir / f"{time.strftime('%Y%m%d-%H%M%S')}.ivf"
            self.local_recording = LocalRecording(path, opts.width, opts.height)
            self._set("connecting", f"local recording started: {path}")
        if self.local_recording is not None:
            self.video.on_encoded = self.local_recording.write
        stream = _Stream(signed, key, chain, self.video, EncryptedAudioTrack(key, chain=chain) if opts.audio else None,
                         FrameEncryptor(key, Kind.CAMERA_DATA), AcknowledgementOpener(FrameDecryptor(key)))
        try:
            pc, offer, session = await self._connect(stream)
            async with session.post(
                opts.server.rstrip("/") + "/whip",
                data=offer, headers={"Content-Type": "application/sdp", **signed.headers(offer)},
            ) as response:
                body = await self._answer(response, 201)
                resource = aiohttp.client.URL(response.headers["Location"])  # /whip/{stream id}/{secret}
                self._location, self.stream_id = str(response.url.join(resource)), resource.parts[2]
        except aiohttp.ClientError as exc:
            await self._teardown()
            raise CameraError(f"cannot reach {opts.server}: {exc}", retry_after=0.0) from None
        except CameraError:
            await self._teardown()
            raise
        self._stream = stream
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))

    async def _resume(self) -> None:
        """Continue the running stream over a new connection (its path broke): the same
        tracks, key and manifest, a proof of resuming signed now, POSTed to the stream's
        resource over a fresh HTTP connection; the old connection stays until the new one
        connects (make before break), its senders stopped so the tracks feed the new one."""
        stream, location, old = self._stream, self._location, self._pc
        assert stream is not None and location is not None
        self._set("connecting", f"resuming stream {self.stream_id} over a new path")
        if old is not None:
            self._stop_sending(old)
        if self._replaced is not None:  # a resume whose connection never came up replaced it already
            await self._replaced.close()
        self._replaced, old_session, self._session = old, self._session, None
        if old_session is not None:
            await old_session.close()  # its connections went over the old path
        pc: RTCPeerConnection | None = None
        try:
            pc, offer, session = await self._connect(stream)
            async with session.post(
                location, data=offer, timeout=aiohttp.ClientTimeout(total=RESUME_TIMEOUT_S),
                headers={"Content-Type": "application/sdp",
                         **stream.signed.resume_headers(offer, self.stream_id, self._camera_ms())},
            ) as response:
                body = await self._answer(response, 200)
        except (aiohttp.ClientError, TimeoutError) as exc:
            await self._undo_resume(pc)
            raise CameraError(f"cannot reach {self.options.server} to resume: {exc or 'timed out'}",
                              retry_after=0.0) from None
        except CameraError:
            await self._undo_resume(pc)
            raise
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))

    async def _connect(self, stream: _Stream) -> tuple[RTCPeerConnection, str, aiohttp.ClientSession]:
        """A new peer connection carrying ``stream``, its offer, and a new HTTP session
        (fresh TCP connections: the old ones may be bound to an address that is gone)."""
        opts = self.options
        session = self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=bool(opts.verify_tls)))
        try:
            ice_servers = await self._ice_servers(session)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise CameraError(f"cannot reach {opts.server}: {exc or 'timed out'}", retry_after=0.0) from None
        pc = self._pc = RTCPeerConnection(RTCConfiguration(iceServers=ice_servers))
        video_sender = pc.addTransceiver(stream.video, direction="sendonly").sender
        aiortc_adapter.on_keyframe_request(video_sender, stream.video.request_keyframe)
        pacer = aiortc_adapter.pace_media(video_sender.transport)
        last_word = [0.0]  # when the server's last RTCP about the video came (0: none yet, the rule is not armed)
        aiortc_adapter.on_bitrate_estimate(video_sender, stream.video.follow_estimate, pacer.follow)
        aiortc_adapter.on_word_from_remote(video_sender, lambda: last_word.__setitem__(0, time.monotonic()))
        _prefer(pc, "video", "video/vp8")
        if stream.audio is not None:
            pc.addTransceiver(stream.audio, direction="sendonly")
            _prefer(pc, "audio", "audio/opus")
        channel = pc.createDataChannel(DATA_CHANNEL_LABEL)
        channel.on("message", lambda message: self._on_message(stream.opener, message))
        channel.on("open", lambda: self._start_sending(channel, stream))
        self._watch(pc, video_sender.transport, last_word)
        await pc.setLocalDescription(await pc.createOffer())
        return pc, pc.localDescription.sdp, session

    async def _answer(self, response: aiohttp.ClientResponse, expected: int) -> str:
        """The server's SDP answer, or a CameraError that says why there is none."""
        self.state.last_response = response.status
        body = await response.text()
        if response.status != expected:
            raise CameraError(f"server refused the stream ({response.status}): {_reason(body)}", _retry_after(response),
                              response.status)
        return body

    async def _undo_resume(self, pc: RTCPeerConnection | None) -> None:
        """A resume that failed: its connection goes, the one it was to replace comes back
        as the current one (a publish afresh drops it)."""
        self._pc, self._replaced = self._replaced, None
        if pc is not None:
            self._stop_sending(pc)  # closing it must not end the stream's tracks
            await pc.close()

    @staticmethod
    def _stop_sending(pc: RTCPeerConnection) -> None:
        """The connection's senders stop taking frames from the stream's tracks (and will
        not end them when the connection closes)."""
        for transceiver in pc.getTransceivers():
            transceiver.sender.replaceTrack(None)

    async def _ice_servers(self, session: aiohttp.ClientSession) -> list[RTCIceServer]:
        """The STUN/TURN servers the server hands out (``OPTIONS /whip``, RFC 9725 §4.6
        ``Link`` headers), TURN over TCP first: direct UDP is tried on the host candidates
        anyway, and aiortc uses one TURN server only, so it had best be the one that still
        works where UDP is blocked. None from a server that has none (or no OPTIONS)."""
        async with session.options(self.options.server.rstrip("/") + "/whip",
                                   timeout=aiohttp.ClientTimeout(total=OPTIONS_TIMEOUT_S),
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

    def _watch(self, pc: RTCPeerConnection, dtls: RTCDtlsTransport, last_word: list[float]) -> None:
        """Follow the connection, its DTLS and its ICE transport: aiortc reports a server
        that went away (closed the session, restarted, vanished) on those, not always on
        the connection state. A server (or media worker) that vanished without a word is
        seen by its RTCP stopping (``SERVER_SILENT_S``) once it came, long before ICE consent
        (30 s). Receiver reports come on a lossless path too, where no estimate is sent."""

        async def check() -> None:
            if pc is not self._pc or self._stopping:
                return
            if pc.connectionState == "connected" and dtls.state == "connected" and self.state.mode != "streaming":
                replaced, self._replaced = self._replaced, None
                if replaced is not None:  # a resume's connection is up: a key frame first, and break the old one
                    if self.video is not None:
                        self.video.request_keyframe()
                    self.resumes += 1
                    self._set("streaming", f"stream {self.stream_id} resumed over {aiortc_adapter.local_address(dtls)} "
                                           f"{time.monotonic() - self._lost_at:.2f} s after the loss was seen")
                    await replaced.close()
                else:
                    self._set("streaming", f"stream {self.stream_id}")
                if self._path_task is not None:
                    self._path_task.cancel()
                self._path_task = asyncio.ensure_future(watch_path())
            lost = [f"{name} {state}" for name, state in
                    (("connection", pc.connectionState), ("DTLS", dtls.state), ("ICE", dtls.transport.state))
                    if state in LOST_STATES]
            if lost:
                self._lost(", ".join(lost))

        async def watch_path() -> None:
            address = aiortc_adapter.local_address(dtls)
            while address is not None and pc is self._pc:
                why = path_lost(address)
                if why is not None:
                    self._lost(f"network change: {why}")
                    return
                if last_word[0] and time.monotonic() - last_word[0] > SERVER_SILENT_S:
                    self._lost(f"no word from the server for {SERVER_SILENT_S:.0f} s")
                    return
                await asyncio.sleep(PATH_CHECK_S)

        pc.on("connectionstatechange", check)
        dtls.on("statechange", check)
        dtls.transport.on("statechange", check)

    def _lost(self, why: str) -> None:
        """The current connection is lost: recover, unless that is under way already."""
        if self._recovery is None and not self._stopping:
            self._lost_at = time.monotonic()
            self._recovery = asyncio.ensure_future(self._recover(why))

    async def _recover(self, why: str) -> None:
        """The connection is lost: say so, then resume the running stream over a new path
        at once, and again with back-off while the server cannot be reached or asks to
        wait; once the server no longer has the stream (404, or 409: it took a later
        publish), publish afresh at once, then with back-off until it works. Either stops when the
        server refuses for good (another 4xx: revoked, say) or at ``stop()``."""
        self._set("error", f"lost the connection to the server ({why})")
        delay = BACKOFF_FIRST_S
        try:
            while self._stream is not None:
                try:
                    await self._resume()
                    return
                except CameraError as exc:
                    if exc.status in (404, 409):
                        self._set("connecting", f"the server no longer has stream {self.stream_id}: {exc}")
                        break
                    if exc.retry_after is None:
                        await self._teardown()
                        self._set("error", f"{exc}; not reconnecting")
                        return
                    self._set("error", str(exc))
                    delay = max(delay, exc.retry_after)
                wait = delay * random.uniform(0.8, 1.2)
                self._set("connecting", f"resuming again in {wait:.1f} s")
                await asyncio.sleep(wait)
                delay = min(delay * 2, BACKOFF_MAX_S)
            await self._teardown()
            delay = 0.0  # at once (the server has no stream to wait for), then with back-off
            while True:
                if delay:
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
                    delay = max(min(max(delay * 2, BACKOFF_FIRST_S), BACKOFF_MAX_S), exc.retry_after)
        finally:
            self._recovery = None

    def _camera_ms(self) -> int:
        """The camera's clock (ms since 1970)."""
        return int((time.time() + self.options.clock_offset) * 1000)

    def _start_sending(self, channel: RTCDataChannel, stream: _Stream) -> None:
        """Once the data channel is open: a sealed position every second (with GPS on), a
        sealed status every ``STATUS_EVERY_S``, and the stream's next checkpoint, in clear,
        every ``CHECKPOINT_EVERY_S``. A resumed connection first sends again the checkpoints
        of the last ``CHECKPOINTS_RESENT_S`` (the old path may have lost them; the server
        relays each once)."""
        self._cancel_sending()
        self._channel = channel
        source = self._positions

        def send_sealed(message: Mapping[str, object]) -> None:
            if channel.readyState == "open":
                channel.send(seal(stream.data, stream.chain, json.dumps(message).encode()))

        self._send_sealed = send_sealed

        async def send_fixes() -> None:
            while channel.readyState == "open":
                send_sealed(source.fix())
                await asyncio.sleep(1.0)

        async def send_status() -> None:
            while channel.readyState == "open":
                last_frame = self.video.last_frame if self.video else None
                send_sealed(status(self._radio, self._camera_ms(), self.local_recording is not None, last_frame,
                                   self.options.clock_offset))
                await asyncio.sleep(STATUS_EVERY_S)

        async def send_checkpoints() -> None:
            for _, token in list(stream.checkpoints):
                channel.send(json.dumps({"type": CHECKPOINT, "token": token}))
            while channel.readyState == "open":
                channel.send(json.dumps({"type": CHECKPOINT, "token": stream.checkpoint(self._camera_ms())}))
                await asyncio.sleep(CHECKPOINT_EVERY_S)

        if self.options.gps:
            self._gps_task = asyncio.ensure_future(send_fixes())
        self._checkpoint_task = asyncio.ensure_future(send_checkpoints())
        self._status_task = asyncio.ensure_future(send_status())

    async def request_help(self) -> None:
        """The wearer's long press: a sealed help request for the operators (key holders),
        and the server told in clear that one was made (it alerts every operator and the
        SOC; docs/SECURITY.md). Shown on the camera; an error is shown, not raised."""
        if self._send_sealed is None or not self._location or not self._session:
            self._set("error", "help request not sent: not streaming")
            return
        self._send_sealed(help_request(self._camera_ms()))
        try:
            headers = {"Authorization": f"Bearer {self.options.credential}"}
            async with self._session.post(self._location + "/help", headers=headers) as response:
                self.state.last_response = response.status
                if response.status != 200:
                    self._set("error", f"help request refused ({response.status}): {_reason(await response.text())}")
                    return
        except aiohttp.ClientError as exc:
            self._set("error", f"help request not sent to {self.options.server}: {exc}")
            return
        self._set("help requested", "operators alerted")

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
        await self._close_chain()
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

    async def _close_chain(self) -> None:
        """Send the stream's closing checkpoint (PROTOCOL §5.4 ``final``), so that its
        recording proves it ends here, and let it leave before the stream is ended (the
        ``DELETE`` goes on another connection)."""
        channel, stream = self._channel, self._stream
        if channel is None or stream is None or channel.readyState != "open":
            return
        self._cancel_sending()
        channel.send(json.dumps({"type": CHECKPOINT, "token": stream.checkpoint(self._camera_ms(), final=True)}))
        for _ in range(20):
            if channel.bufferedAmount == 0:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(CLOSING_GRACE_S)

    def _cancel_sending(self) -> None:
        self._send_sealed = None
        for task in (self._gps_task, self._checkpoint_task, self._status_task):
            if task:
                task.cancel()

    async def _teardown(self) -> None:
        """Drop the stream and its connections (the server's stream is left to end)."""
        pc, session, self._pc, self._session, self._location = self._pc, self._session, None, None, None
        replaced, self._replaced, self._stream = self._replaced, None, None
        self._cancel_sending()
        if self._path_task is not None:
            self._path_task.cancel()
        for each in (pc, replaced):
            if each:
                await each.close()
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
