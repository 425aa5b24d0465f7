"""Following the server's bandwidth estimate (REMB) on the camera's uplink.

Audio goes first: it keeps its fixed Opus rate, and what the estimate (the server's, of the
whole uplink: ``sfu.uplink``) leaves after the audio goes to video, less headroom for
packet overhead, retransmissions and key frames. Down at once (a thin uplink queues and
drops within a second), up slowly and in steps (the estimate probes upward). Below 300
kbit/s the frame rate halves, below 150 kbit/s it is a third, so each frame keeps enough
bits to stay sharp: a slower picture, never a frozen one. The picture size stays: the
recording keeps the camera's full picture as evidence, and a key frame at a new size
would cost more than the frames it saves.
"""
from __future__ import annotations

import time

from ..kernel.rate import Monotonic

HEADROOM = 0.85  # of the estimate, for RTP/SRTP overhead, retransmissions and key frames
FRAME_RATE_LADDER = ((300_000, 1), (150_000, 2), (0, 3))  # from this video bitrate up: one frame in N
FLOOR_BPS = 80_000
AUDIO_ON_THE_WIRE_BPS = 90_000  # Opus at 32 kbit/s in 50 packets/s, each with SFrame, RTP, SRTP, UDP, IP
DOWN_EVERY_S, UP_EVERY_S, UP_STEP = 0.5, 2.0, 1.15


class BitrateFollower:
    """The video encoder's target from each estimate; ``update`` says when it changes."""

    def __init__(self, ceiling: int, reserved: int = 0, clock: Monotonic = time.monotonic) -> None:
        self.ceiling = ceiling
        self.reserved = reserved  # of the estimate, for the audio
        self.target = ceiling
        self._clock = clock
        self._changed = float("-inf")

    @property
    def frame_divisor(self) -> int:
        """Send one frame in this many: 30, 15 or 10 frames a second at 30 fps."""
        return next(divisor for floor, divisor in FRAME_RATE_LADDER if self.target >= floor)

    def update(self, estimate_bps: int) -> int | None:
        """The new target for ``estimate_bps`` (bits per second), or None to keep the one."""
        wanted = max(FLOOR_BPS, min(self.ceiling, int((estimate_bps - self.reserved) * HEADROOM)))
        now = self._clock()
        if wanted < self.target * 0.9 and now - self._changed >= DOWN_EVERY_S:
            self.target = wanted
        elif wanted > self.target * 1.15 and now - self._changed >= UP_EVERY_S:
            self.target = min(wanted, int(self.target * UP_STEP))
        else:
            return None
        self._changed = now
        return self.target
