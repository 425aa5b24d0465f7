"""Token buckets: how often something may happen, with bursts (keyframe requests of one
viewer, acknowledgements of one operator, …); kernel/counts.py's ``SharedRateLimiter``
keeps them for every node of a cluster."""
from __future__ import annotations

import time
from collections.abc import Callable, Hashable

Monotonic = Callable[[], float]  # seconds, like time.monotonic (tests pass one they move)


def refilled(tokens: float, seconds: float, capacity: float, refill_per_second: float) -> float:
    """The tokens of a bucket that had ``tokens`` ``seconds`` ago."""
    return min(capacity, tokens + max(0.0, seconds) * refill_per_second)


class TokenBucket:
    """``capacity`` at once, refilled by ``refill_per_second``."""

    def __init__(self, capacity: float, refill_per_second: float, clock: Monotonic = time.monotonic) -> None:
        self.capacity = capacity
        self.refill_per_second = refill_per_second
        self._clock = clock
        self._tokens = capacity
        self._stamp = clock()

    def _refill(self) -> float:
        now = self._clock()
        self._tokens = refilled(self._tokens, now - self._stamp, self.capacity, self.refill_per_second)
        self._stamp = now
        return self._tokens

    def take(self) -> bool:
        """Take one token if there is one."""
        if self._refill() >= 1.0:
            self._tokens -= 1.0
            return True
        return False

    def wait(self) -> float:
        """Seconds until a token is there (0 when one is)."""
        return max(0.0, (1.0 - self._refill()) / self.refill_per_second)

    @property
    def full(self) -> bool:
        return self._refill() >= self.capacity


class RateLimiter:
    """One bucket per key; keys whose bucket has filled up again are forgotten, so the
    memory stays bounded by the keys active recently."""

    def __init__(self, capacity: float, refill_per_second: float, clock: Monotonic = time.monotonic,
                 max_keys: int = 10_000) -> None:
        self._capacity, self._refill_per_second, self._clock = capacity, refill_per_second, clock
        self._buckets: dict[Hashable, TokenBucket] = {}
        self._max_keys = max_keys

    def take(self, key: Hashable) -> float:
        """Take a token for ``key``: 0.0 when allowed, else the seconds to wait."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._buckets = {k: b for k, b in self._buckets.items() if not b.full}
            bucket = self._buckets[key] = TokenBucket(self._capacity, self._refill_per_second, self._clock)
        return 0.0 if bucket.take() else bucket.wait()
