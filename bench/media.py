"""Cheap encrypted cameras: a VP8 clip encoded once, looped as SFrame-encrypted av.Packets."""
from __future__ import annotations

import asyncio
import pickle
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from aiortc import MediaStreamTrack

from bwlive_rtc.crypto.sframe import FrameEncryptor, Kind, StreamKey

VIDEO_CLOCK = 90000


def _frames(width: int, height: int, count: int):  # -> Iterator[av.VideoFrame]
    """Moving gradient over fixed texture plus a sliding noise block: enough detail that
    libvpx spends its target bitrate."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:height, 0:width]
    texture = rng.integers(0, 48, size=(height, width), dtype=np.uint16)
    block = rng.integers(0, 256, size=(height // 3, width // 4), dtype=np.uint8)
    chroma = np.full((height // 2, width), 128, dtype=np.uint8)
    for i in range(count):
        luma = ((((xx + 4 * i) % 256 + yy // 2) % 256) * 3 // 4 + texture).clip(0, 255).astype(np.uint8)
        bx, by = (i * 7) % (width - block.shape[1]), (i * 3) % (height - block.shape[0])
        luma[by : by + block.shape[0], bx : bx + block.shape[1]] = np.roll(block, i * 5, axis=1)
        yield av.VideoFrame.from_ndarray(np.concatenate([luma, chroma]), format="yuv420p")


def encode_clip(width: int = 640, height: int = 360, fps: int = 30, bitrate: int = 1_000_000,
                seconds: int = 4, keyframe_every: float = 2.0) -> list[bytes]:
    """Encode ``seconds`` of synthetic video once (libvpx, CBR); returns the VP8 frames."""
    gop = round(fps * keyframe_every)
    ctx = av.CodecContext.create("libvpx", "w")
    ctx.width, ctx.height, ctx.pix_fmt = width, height, "yuv420p"
    ctx.framerate, ctx.time_base = Fraction(fps), Fraction(1, fps)
    ctx.bit_rate, ctx.gop_size = bitrate, gop
    ctx.options = {"minrate": str(bitrate), "maxrate": str(bitrate), "deadline": "good", "cpu-used": "4",
                   "lag-in-frames": "0", "error-resilient": "1", "auto-alt-ref": "0", "keyint_min": str(gop)}
    frames: list[bytes] = []
    for i, frame in enumerate(_frames(width, height, fps * seconds)):
        frame.pts = i
        frames += [bytes(p) for p in ctx.encode(frame)]
    frames += [bytes(p) for p in ctx.encode(None)]
    if frames[0][0] & 1:
        raise RuntimeError("the clip does not start with a key frame")
    return frames


def load_clip(cache_dir: Path = Path("/tmp/bwlive-bench"), **options: int) -> list[bytes]:
    """``encode_clip(**options)``, cached on disk (encoding takes ~15 s)."""
    path = cache_dir / ("clip-" + "-".join(f"{k}{v}" for k, v in sorted(options.items())) + ".pkl")
    if path.exists():
        return pickle.loads(path.read_bytes())
    frames = encode_clip(**options)
    cache_dir.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(frames))
    return frames


class EncryptedLoopTrack(MediaStreamTrack):
    """Loops pre-encoded VP8 frames at ``fps``, each freshly SFrame-encrypted with this
    camera's stream key; aiortc only packetizes the returned av.Packets."""

    kind = "video"

    def __init__(self, frames: list[bytes], stream_key: StreamKey, fps: int = 30, start: int = 0) -> None:
        super().__init__()
        self._frames = frames
        self._encryptor = FrameEncryptor(stream_key, Kind.VIDEO)
        self._fps = fps
        self._start = start
        self._index = 0
        self._t0: float | None = None
        self.late_frames = 0  # handed out more than 20 ms after their slot

    async def recv(self) -> av.Packet:
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
        delay = self._t0 + self._index / self._fps - now
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.020:
            self.late_frames += 1
        frame = self._frames[(self._start + self._index) % len(self._frames)]
        packet = av.Packet(self._encryptor.encrypt(frame))
        packet.pts = self._index * VIDEO_CLOCK // self._fps
        packet.time_base = Fraction(1, VIDEO_CLOCK)
        self._index += 1
        return packet
