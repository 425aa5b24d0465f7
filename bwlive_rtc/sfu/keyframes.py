"""Keyframe requests toward a camera: paced, deferred rather than dropped (each viewer's
are budgeted by a ``kernel.rate.TokenBucket``)."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from ..kernel.rate import Monotonic


class KeyframePacer:
    """Sends at most one keyframe request per ``min_interval``; one arriving too soon is
    deferred to the end of the interval (never dropped: a late joiner needs it)."""

    def __init__(self, send: Callable[[], None], min_interval: float = 0.25, clock: Monotonic = time.monotonic) -> None:
        self._send = send
        self.min_interval = min_interval
        self._clock = clock
        self._last = float("-inf")
        self._deferred: asyncio.TimerHandle | None = None
        self.sent = 0

    def request(self) -> None:
        if self._deferred is not None:
            return
        wait = self._last + self.min_interval - self._clock()
        if wait <= 0:
            self._fire()
        else:
            self._deferred = asyncio.get_running_loop().call_later(wait, self._fire)

    def _fire(self) -> None:
        self._deferred = None
        self._last = self._clock()
        self.sent += 1
        self._send()

    def close(self) -> None:
        if self._deferred is not None:
            self._deferred.cancel()
            self._deferred = None
