"""Request rate limiting: a token bucket per key (an address, a camera), on the app clock.

A key may make ``burst`` requests at once and then ``per_minute`` a minute; beyond that
``take`` says how long to wait, which handlers send back as ``429`` with ``Retry-After``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from .clock import Clock
from .errors import TooManyRequests

MAX_KEYS = 100_000  # beyond this many keys, the buckets that are full again are forgotten
SLACK = 1e-9  # float rounding must not make a promised Retry-After one second short


@dataclass
class _Bucket:
    tokens: float
    at: datetime


class RateLimit:
    def __init__(self, clock: Clock, burst: int, per_minute: float) -> None:
        self.clock = clock
        self.burst = burst
        self.per_second = per_minute / 60
        self._buckets: dict[str, _Bucket] = {}

    def _refilled(self, key: str) -> _Bucket:
        now = self.clock.now()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_KEYS:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        else:
            elapsed = max(0.0, (now - bucket.at).total_seconds())
            bucket.tokens, bucket.at = min(float(self.burst), bucket.tokens + elapsed * self.per_second), now
        return bucket

    def _forget_full(self, now: datetime) -> None:
        self._buckets = {key: bucket for key, bucket in self._buckets.items()
                         if bucket.tokens + (now - bucket.at).total_seconds() * self.per_second < self.burst}

    def take(self, key: str) -> float:
        """Count one request of ``key``: 0 if it may go, else the seconds until it may."""
        bucket = self._refilled(key)
        if bucket.tokens >= 1 - SLACK:
            bucket.tokens = max(0.0, bucket.tokens - 1)
            return 0.0
        return (1 - bucket.tokens) / self.per_second

    def check(self, key: str, who: str) -> None:
        """``take`` one request, raising ``TooManyRequests`` (429, ``Retry-After``) when
        ``who`` (words for the client: "this camera", "this address") must wait."""
        wait = self.take(key)
        if wait:
            seconds = math.ceil(wait - SLACK)
            raise TooManyRequests(f"too many requests from {who}: try again in {seconds} s",
                                  headers={"Retry-After": str(seconds)})
