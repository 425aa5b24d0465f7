"""Raw media sources: a moving test pattern with the frame code, a tone, a video file."""
from __future__ import annotations

import math
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from .framecode import burn_code, burn_text

AUDIO_RATE = 48000
AUDIO_SAMPLES = 960  # 20 ms, one Opus frame


class TestPattern:
    """Moving colour bars and a sliding box, with frame number and capture time burned in."""

    def __init__(self, width: int = 640, height: int = 360) -> None:
        self.width, self.height = width, height
        self.frame_number = 0
        x = np.arange(width, dtype=np.int32)
        self._ramp = (x * 255 // max(1, width - 1)).astype(np.uint8)
        cw, ch = width // 2, height // 2
        bars = np.array([[200, 60], [60, 200], [90, 110], [160, 90], [110, 170], [128, 128]], dtype=np.uint8)
        idx = (np.arange(cw) * len(bars) // cw)
        self._chroma_u = np.tile(bars[idx, 0], (ch, 1))
        self._chroma_v = np.tile(bars[idx, 1], (ch, 1))

    def next_frame(self) -> tuple[av.VideoFrame, int]:
        """The next frame (yuv420p) and its capture time in ms since the epoch."""
        n = self.frame_number
        self.frame_number += 1
        capture_ms = time.time_ns() // 1_000_000
        w, h = self.width, self.height
        luma = np.empty((h, w), dtype=np.uint8)
        luma[:] = np.roll(self._ramp, n * 4)[None, :] // 2 + 40
        box_x = (n * 6) % (w - 80)
        luma[h // 2 - 40 : h // 2 + 40, box_x : box_x + 80] = 220
        burn_code(luma, n, capture_ms)
        stamp = time.strftime("%H:%M:%S", time.localtime(capture_ms / 1000)) + f".{capture_ms % 1000:03d}"
        burn_text(luma, f"#{n:06d}  {stamp}", 24, h - 40)
        planes = np.concatenate(
            [luma, self._chroma_u.reshape(-1, w), self._chroma_v.reshape(-1, w)], axis=0
        )
        return av.VideoFrame.from_ndarray(planes, format="yuv420p"), capture_ms


class FileVideo:
    """Frames of a video file, looped forever, scaled to the stream size."""

    def __init__(self, path: Path, width: int = 640, height: int = 360) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"video file {self.path} not found")
        self.width, self.height = width, height
        self._frames = self._decode_forever()

    def _decode_forever(self) -> Iterator[av.VideoFrame]:
        while True:
            with av.open(str(self.path)) as container:
                if not container.streams.video:
                    raise ValueError(f"{self.path} has no video stream")
                for frame in container.decode(video=0):
                    yield frame.reformat(width=self.width, height=self.height, format="yuv420p")

    def next_frame(self) -> tuple[av.VideoFrame, int]:
        return next(self._frames), time.time_ns() // 1_000_000


class Tone:
    """A 440 Hz sine tone, 20 ms frames of s16 mono at 48 kHz."""

    def __init__(self, frequency: float = 440.0, level: float = 0.3) -> None:
        self.frequency = frequency
        self.level = level
        self.samples_sent = 0

    def next_frame(self) -> av.AudioFrame:
        t = (np.arange(AUDIO_SAMPLES) + self.samples_sent) / AUDIO_RATE
        pcm = (np.sin(2 * math.pi * self.frequency * t) * self.level * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.pts = self.samples_sent
        frame.time_base = Fraction(1, AUDIO_RATE)
        self.samples_sent += AUDIO_SAMPLES
        return frame
