"""Media tracks that hand aiortc encrypted, already-encoded packets.

aiortc's RTCRtpSender packetizes an ``av.Packet`` returned by ``recv()`` without
re-encoding; we encrypt the encoded frame first (SFrame, clear codec prefix), so what
leaves the camera is ciphertext the SFU can route but not read.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Protocol

import av
from aiortc import MediaStreamTrack

from ..crypto.chain import ChainWriter
from ..crypto.sframe import FrameEncryptor, Kind, StreamKey
from .congestion import AUDIO_ON_THE_WIRE_BPS, BitrateFollower
from .encoder import VIDEO_TIME_BASE, OpusEncoder, Vp8Encoder
from .sources import AUDIO_RATE, AUDIO_SAMPLES, Tone

log = logging.getLogger(__name__)


class VideoSource(Protocol):
    width: int
    height: int

    def next_frame(self) -> tuple[av.VideoFrame, int]: ...


def seal(encryptor: FrameEncryptor, chain: ChainWriter | None, unit: bytes) -> bytes:
    """Encrypt one unit and note it in the stream's checkpoint chain (if it is signed)."""
    counter = encryptor.counter
    sealed = encryptor.encrypt(unit)
    if chain is not None:
        chain.add(encryptor.kid, counter, sealed)
    return sealed


def _encrypted_packet(encryptor: FrameEncryptor, chain: ChainWriter | None, packet: av.Packet, pts: int,
                      time_base: Fraction) -> av.Packet:
    sealed = av.Packet(seal(encryptor, chain, bytes(packet)))
    sealed.pts = pts
    sealed.time_base = time_base
    return sealed


class _PacedTrack(MediaStreamTrack):
    """Releases one item every ``interval`` seconds of wall-clock time."""

    def __init__(self, interval: float) -> None:
        super().__init__()
        self._interval = interval
        self._start: float | None = None
        self._index = 0

    async def _next_slot(self) -> float:
        """Wait for the next slot; returns seconds since the track started."""
        now = time.monotonic()
        if self._start is None:
            self._start = now
        due = self._start + self._index * self._interval
        if due > now:
            await asyncio.sleep(due - now)
        elif now - due > 1.0:  # fell far behind (suspended?): skip ahead, don't burst
            self._index = int((now - self._start) / self._interval)
        self._index += 1
        return max(due, now) - self._start


class EncryptedVideoTrack(_PacedTrack):
    kind = "video"

    def __init__(self, source: VideoSource, stream_key: StreamKey, fps: int = 30, bitrate: int = 1_000_000,
                 chain: ChainWriter | None = None, beside_audio: bool = False) -> None:
        super().__init__(1 / fps)
        self.chain = chain
        self.source = source
        self.encoder = Vp8Encoder(source.width, source.height, fps=fps, bitrate=bitrate)
        self.follower = BitrateFollower(bitrate, AUDIO_ON_THE_WIRE_BPS if beside_audio else 0)
        self._retarget: int | None = None  # a new bitrate for the encoder's thread to take
        self._encryptor = FrameEncryptor(stream_key, Kind.VIDEO)
        self.on_encoded: Callable[[av.Packet], None] | None = None  # e.g. the local recording
        self.last_frame: tuple[int, float] | None = None  # the last sent frame's SFrame counter and capture time (s)

    def follow_estimate(self, estimate_bps: int) -> None:
        """The server's bandwidth estimate (REMB): retarget the encoder when it should."""
        target = self.follower.update(estimate_bps)
        if target is not None:
            self._retarget = target
            log.info("uplink estimate %d kbit/s: video at %d kbit/s%s", estimate_bps // 1000, target // 1000,
                     f", one frame in {self.follower.frame_divisor}" if self.follower.frame_divisor > 1 else "")

    def request_keyframe(self) -> None:
        self.encoder.request_keyframe()

    def _capture_and_encode(self, pts: int) -> tuple[list[av.Packet], float]:
        captured = time.time()
        frame, _ = self.source.next_frame()
        if self._index % self.follower.frame_divisor:
            return [], captured  # a lower frame rate (the frame numbers still count capture time)
        if self._retarget is not None:
            self.encoder.set_bitrate(self._retarget)
            self._retarget = None
        packets = self.encoder.encode(frame, pts)
        if self.on_encoded is not None:
            for packet in packets:
                self.on_encoded(packet)
        return packets, captured

    async def recv(self) -> av.Packet:
        while True:
            elapsed = await self._next_slot()
            pts = int(elapsed * 90000)
            try:  # an exception here would silently end aiortc's sender task: skip the frame
                packets, captured = await asyncio.get_running_loop().run_in_executor(None, self._capture_and_encode, pts)
                if packets:
                    self.last_frame = (self._encryptor.counter, captured)
                    return _encrypted_packet(self._encryptor, self.chain, packets[0], pts, VIDEO_TIME_BASE)
            except (ValueError, av.FFmpegError):
                log.exception("video frame %d dropped", self._index)


class EncryptedAudioTrack(_PacedTrack):
    kind = "audio"

    def __init__(self, stream_key: StreamKey, source: Tone | None = None, chain: ChainWriter | None = None) -> None:
        super().__init__(AUDIO_SAMPLES / AUDIO_RATE)
        self.chain = chain
        self.source = source or Tone()
        self.encoder = OpusEncoder()
        self._encryptor = FrameEncryptor(stream_key, Kind.AUDIO)
        self._pending: list[av.Packet] = []

    async def recv(self) -> av.Packet:
        while not self._pending:
            await self._next_slot()
            self._pending.extend(self.encoder.encode(self.source.next_frame()))
        packet = self._pending.pop(0)
        return _encrypted_packet(self._encryptor, self.chain, packet, packet.pts or 0, Fraction(1, AUDIO_RATE))
