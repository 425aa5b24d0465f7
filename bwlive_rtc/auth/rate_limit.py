"""Sign-in attempt limiting: after too many failures for one e-mail or one client
address within a window, further attempts are refused until the window has passed."""
from __future__ import annotations

from collections import defaultdict, deque
from datetime import datetime, timedelta

from ..kernel.clock import Clock


class SignInLimiter:
    def __init__(self, clock: Clock, max_failures: int = 5, window: timedelta = timedelta(minutes=15)) -> None:
        self.clock = clock
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[str, deque[datetime]] = defaultdict(deque)

    def _recent(self, key: str) -> deque[datetime]:
        failures = self._failures[key]
        cutoff = self.clock.now() - self.window
        while failures and failures[0] <= cutoff:
            failures.popleft()
        return failures

    def retry_after(self, *keys: str) -> float:
        """Seconds until another attempt is allowed for these keys (0: allowed now)."""
        wait = 0.0
        for key in keys:
            failures = self._recent(key)
            if len(failures) >= self.max_failures:
                wait = max(wait, (failures[0] + self.window - self.clock.now()).total_seconds())
        return wait

    def failed(self, *keys: str) -> None:
        for key in keys:
            self._recent(key).append(self.clock.now())

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)
