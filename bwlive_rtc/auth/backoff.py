"""Back-off after failed sign-ins, per account *and* address, and per address.

Failures from address X for account A make X wait before its next try at A (after
``FREE_PER_ACCOUNT`` failures) and before any try from X (after ``FREE_PER_ADDRESS``);
each further failure doubles the wait, up to ``LONGEST``. Nothing is kept per account
alone, so the owner signing in from another address is never locked out by an attacker.
Each attempt counts as a failure from the moment it starts (so concurrent guesses
cannot slip past the count) and is taken back when the password was right; a right
password forgets the account's failures from that address, not the address's.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..kernel.clock import Clock
from ..kernel.errors import TooManyRequests

FREE_PER_ACCOUNT = 3
FREE_PER_ADDRESS = 20
FIRST_WAIT = timedelta(seconds=1)
LONGEST = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)  # a key quiet this long starts afresh
MAX_KEYS = 100_000  # beyond, the least recently failed keys are forgotten
ANY = ""  # in a key (account, address): the address's failures for every account


@dataclass
class _Failures:
    count: int
    last: datetime


class SignInBackoff:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._failures: OrderedDict[tuple[str, str], _Failures] = OrderedDict()

    def attempt(self, account: str, address: str) -> None:
        """Refuse (429, ``Retry-After``) while ``address`` must wait for ``account`` or at
        all; else count this attempt as a failure until ``succeeded``."""
        pair, whole = (account, address), (ANY, address)
        wait = max(self._wait(pair, FREE_PER_ACCOUNT), self._wait(whole, FREE_PER_ADDRESS))
        if wait > 0:
            seconds = math.ceil(wait)
            raise TooManyRequests(f"too many failed sign-ins from this address: try again in {seconds} s",
                                  headers={"Retry-After": str(seconds)})
        for key in (pair, whole):
            self._count(key)

    def succeeded(self, account: str, address: str) -> None:
        """The password was right: forget ``account``'s failures from ``address`` and take
        this attempt back from the address's count."""
        self._failures.pop((account, address), None)
        whole = self._failures.get((ANY, address))
        if whole is not None:
            whole.count = max(0, whole.count - 1)

    def _current(self, key: tuple[str, str]) -> _Failures | None:
        failures = self._failures.get(key)
        if failures is not None and self.clock.now() - failures.last >= FORGET_AFTER:
            del self._failures[key]
            return None
        return failures

    def _wait(self, key: tuple[str, str], free: int) -> float:
        failures = self._current(key)
        if failures is None or failures.count < free:
            return 0.0
        doublings = min(failures.count - free, 32)
        delay = min(FIRST_WAIT * 2**doublings, LONGEST)
        return max(0.0, (failures.last + delay - self.clock.now()).total_seconds())

    def _count(self, key: tuple[str, str]) -> None:
        failures = self._current(key) or _Failures(0, self.clock.now())
        failures.count, failures.last = failures.count + 1, self.clock.now()
        self._failures[key] = failures
        self._failures.move_to_end(key)
        while len(self._failures) > MAX_KEYS:
            self._failures.popitem(last=False)
