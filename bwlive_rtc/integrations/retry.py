"""When to try again: exponential backoff with jitter, bounded in total time."""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from .store import DELIVERED, FAILED, RETRYING


@dataclass(frozen=True)
class Outcome:
    status: str
    next_attempt_at: float | None = None


@dataclass
class RetryPolicy:
    """Retries on no answer, timeouts, 429 and 5xx; gives up on other answers and once
    the next attempt would come later than ``give_up_after`` seconds after the event.
    The n-th retry waits between half and all of ``first_delay * 2**(n-1)`` (capped)."""

    first_delay: float = 5.0
    max_delay: float = 3600.0
    give_up_after: float = 24 * 3600.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        ceiling = min(self.max_delay, self.first_delay * 2 ** (attempt - 1))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    @staticmethod
    def retryable(response_code: int | None) -> bool:
        return response_code is None or response_code == 429 or response_code >= 500

    def outcome(self, response_code: int | None, attempt: int, created_at: float, now: float) -> Outcome:
        """What follows attempt number ``attempt`` that got ``response_code`` (None: no answer)."""
        if response_code is not None and 200 <= response_code < 300:
            return Outcome(DELIVERED)
        if self.retryable(response_code):
            next_at = now + self.delay(attempt)
            if next_at - created_at <= self.give_up_after:
                return Outcome(RETRYING, next_at)
        return Outcome(FAILED)
