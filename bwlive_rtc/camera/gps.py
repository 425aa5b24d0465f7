"""Position sources for the camera (1 Hz): a simple walk around a start point, a GPX
track replayed in a loop, and a simulated loss of the fix.

A fix is ``{"type": "position", "fix": true, "lat", "lon", "accuracy", "t"}``; while the
fix is lost the camera sends ``{"type": "position", "fix": false, "t", "last"}`` each
second (``last``: its last fix, ``{"lat", "lon", "accuracy", "t"}``, once it had one), so
operators see the loss at once instead of guessing from silence, and where it was.
"""
from __future__ import annotations

import math
import time
import xml.etree.ElementTree as ElementTree
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

Fix = dict[str, float | int | str | bool]
METRES_PER_DEGREE = 111_320


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _fix(lat: float, lon: float, accuracy: float) -> Fix:
    return {"type": "position", "fix": True, "lat": round(lat, 7), "lon": round(lon, 7),
            "accuracy": accuracy, "t": _now_ms()}


class PositionSource(Protocol):
    def fix(self) -> Mapping[str, object]: ...


class SimpleWalk:
    """Walks a circle of ``radius_m`` around (lat, lon) at walking pace; ``seed`` (e.g. the
    camera user's name) picks where on the circle, so several cameras spread out."""

    def __init__(self, lat: float = 52.3702, lon: float = 4.8952, radius_m: float = 60.0, speed_mps: float = 1.4,
                 seed: str = "") -> None:
        self.lat, self.lon = lat, lon
        self.radius_m = radius_m
        self.speed_mps = speed_mps
        self._phase = (zlib.crc32(seed.encode()) % 360) * math.pi / 180 if seed else 0.0
        self._start = time.monotonic()

    def fix(self) -> Fix:
        angle = self._phase + (time.monotonic() - self._start) * self.speed_mps / self.radius_m
        dlat = self.radius_m * math.sin(angle) / METRES_PER_DEGREE
        dlon = self.radius_m * math.cos(angle) / (METRES_PER_DEGREE * math.cos(math.radians(self.lat)))
        return _fix(self.lat + dlat, self.lon + dlon, 5.0)


class GpxTrack:
    """Replays the track points of a GPX file, one per call, looping at the end."""

    def __init__(self, path: Path) -> None:
        self.points = read_gpx(path)
        self._next = 0

    def fix(self) -> Fix:
        lat, lon = self.points[self._next % len(self.points)]
        self._next += 1
        return _fix(lat, lon, 4.0)


def read_gpx(path: Path) -> list[tuple[float, float]]:
    """The (lat, lon) of every track point (``trkpt``) of a GPX 1.0/1.1 file, in order."""
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as exc:
        raise ValueError(f"{path} is not a GPX file: {exc}") from None
    points = []
    for element in root.iter():
        if element.tag.rpartition("}")[2] == "trkpt":
            try:
                points.append((float(element.attrib["lat"]), float(element.attrib["lon"])))
            except (KeyError, ValueError):
                raise ValueError(f"{path}: a trkpt without a numeric lat and lon") from None
    if not points:
        raise ValueError(f"{path} has no track points (trkpt)")
    return points


class LosesFix:
    """Wraps a source: after ``after_s`` seconds the fix is lost (for ``for_s`` seconds,
    or for good); the underlying source is still stepped so the track goes on."""

    def __init__(self, source: PositionSource, after_s: float, for_s: float | None = None) -> None:
        self.source = source
        self.after_s, self.for_s = after_s, for_s
        self._start = time.monotonic()
        self._last: dict[str, object] | None = None

    def fix(self) -> dict[str, object]:
        fix = self.source.fix()
        elapsed = time.monotonic() - self._start
        lost = elapsed >= self.after_s and (self.for_s is None or elapsed < self.after_s + self.for_s)
        if not lost:
            self._last = {name: fix[name] for name in ("lat", "lon", "accuracy", "t")}
            return dict(fix)
        return {"type": "position", "fix": False, "t": fix["t"], **({"last": self._last} if self._last else {})}
