"""What the camera tells its operators about itself, sealed on the data channel beside
positions: its battery and radio signal (simulated here: this agent runs on a PC), whether
it records locally, and when its last video frame was captured (operators' tiles measure
glass-to-glass latency from it)."""
from __future__ import annotations

import random
import time

STATUS_EVERY_S = 1.0
BATTERY_DRAIN_PER_HOUR = 12.0  # % per hour of streaming: a body-worn camera lasts a shift


class SimulatedRadio:
    """A battery that drains while streaming and an LTE/Wi-Fi signal that wanders a little."""

    def __init__(self, seed: str, battery: float = 100.0) -> None:
        self._random = random.Random(seed)
        self._battery = battery
        self._since = time.monotonic()

    def battery(self) -> int:
        """Percent left."""
        hours = (time.monotonic() - self._since) / 3600
        return max(0, round(self._battery - hours * BATTERY_DRAIN_PER_HOUR))

    def signal(self) -> int:
        """Received signal strength in dBm."""
        return -58 + self._random.randint(-4, 4)


def status(radio: SimulatedRadio, now_ms: int, recording: bool, last_frame: tuple[int, float] | None,
           clock_offset: float) -> dict[str, object]:
    """The status message: ``{"type": "status", "t", "battery", "signal", "recording",
    "frame": {"ctr", "t"}}`` (``frame``: the SFrame counter of the last video frame and
    its capture time, camera clock, ms)."""
    message: dict[str, object] = {"type": "status", "t": now_ms, "battery": radio.battery(),
                                  "signal": radio.signal(), "recording": recording}
    if last_frame is not None:
        counter, captured = last_frame
        message["frame"] = {"ctr": counter, "t": round((captured + clock_offset) * 1000)}
    return message


def help_request(now_ms: int) -> dict[str, object]:
    """The sealed help request: ``{"type": "help", "t"}``."""
    return {"type": "help", "t": now_ms}
