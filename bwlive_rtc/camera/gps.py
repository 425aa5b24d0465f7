"""Position sources for the camera: a simple walk around a start point (1 Hz)."""
from __future__ import annotations

import math
import time


class SimpleWalk:
    """Walks a circle of ``radius_m`` around (lat, lon) at walking pace."""

    def __init__(self, lat: float = 52.3702, lon: float = 4.8952, radius_m: float = 60.0, speed_mps: float = 1.4) -> None:
        self.lat, self.lon = lat, lon
        self.radius_m = radius_m
        self.speed_mps = speed_mps
        self._start = time.monotonic()

    def fix(self) -> dict[str, float | int | str]:
        angle = (time.monotonic() - self._start) * self.speed_mps / self.radius_m
        dlat = self.radius_m * math.sin(angle) / 111_320
        dlon = self.radius_m * math.cos(angle) / (111_320 * math.cos(math.radians(self.lat)))
        return {
            "type": "position",
            "lat": round(self.lat + dlat, 7),
            "lon": round(self.lon + dlon, 7),
            "accuracy": 5.0,
            "t": time.time_ns() // 1_000_000,
        }
