"""Back-off after failed sign-ins, per account *and* address, and per address.

Failures from address X for account A make X wait before its next try at A (after
``FREE_PER_ACCOUNT`` failures) and before any try from X (after ``FREE_PER_ADDRESS``);
each further failure doubles the wait, up to ``LONGEST``. Nothing is kept per account
alone, so the owner signing in from another address is never locked out by an attacker.
Each attempt counts as a failure from the moment it starts (so concurrent guesses
cannot slip past the count) and is taken back when the password was right; a right
password forgets the account's failures from that address, not the address's.

The failures are counted in kernel/counts.py's ``SharedCounts``: this server's, or, on a
cluster's bus (``--bus redis://``), every node's (one count whichever node a guess
reaches; an address's attempts are checked and counted under its lock in Redis), each
node's own while Redis is away.
"""
from __future__ import annotations

import math
from datetime import timedelta

from ..kernel.bus import Bus
from ..kernel.clock import Clock
from ..kernel.counts import Count, Counts, SharedCounts
from ..kernel.errors import TooManyRequests

FREE_PER_ACCOUNT = 3
FREE_PER_ADDRESS = 20
FIRST_WAIT = timedelta(seconds=1)
LONGEST = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)  # a key quiet this long starts afresh
ANY = ""  # in a key (account, address): the address's failures for every account
Key = tuple[str, str]  # (account or ANY, address)


class SignInBackoff:
    """Counts failures in ``bus``'s shared counts (on a ``LocalBus``: this server's)."""

    def __init__(self, clock: Clock, bus: Bus) -> None:
        self.clock = clock
        self.failures = SharedCounts(bus, "sign-in", FORGET_AFTER)

    async def attempt(self, account: str, address: str) -> None:
        """Refuse (429, ``Retry-After``) while ``address`` must wait for ``account`` or at
        all; else count this attempt as a failure until ``succeeded``."""
        await self.failures.run(lambda failures: self._attempt(failures, account, address))

    async def succeeded(self, account: str, address: str) -> None:
        """The password was right: forget ``account``'s failures from ``address`` and take
        this attempt back from the address's count."""
        await self.failures.run(lambda failures: self._succeeded(failures, account, address))

    async def _attempt(self, failures: Counts, account: str, address: str) -> None:
        pair, whole = (account, address), (ANY, address)
        async with failures.locked(address):
            found = {key: await self._current(failures, key) for key in (pair, whole)}
            wait = max(self._wait(found[pair], FREE_PER_ACCOUNT), self._wait(found[whole], FREE_PER_ADDRESS))
            if wait > 0:
                seconds = math.ceil(wait)
                raise TooManyRequests(f"too many failed sign-ins from this address: try again in {seconds} s",
                                      headers={"Retry-After": str(seconds)})
            for key, counted in found.items():
                await failures.put(key, Count((counted.value if counted else 0) + 1, self.clock.now()))

    @staticmethod
    async def _succeeded(failures: Counts, account: str, address: str) -> None:
        async with failures.locked(address):
            await failures.forget((account, address))
            whole = await failures.get((ANY, address))
            if whole is not None:
                await failures.put((ANY, address), Count(max(0, whole.value - 1), whole.last))

    async def _current(self, failures: Counts, key: Key) -> Count | None:
        counted = await failures.get(key)
        if counted is not None and self.clock.now() - counted.last >= FORGET_AFTER:
            await failures.forget(key)
            return None
        return counted

    def _wait(self, failures: Count | None, free: int) -> float:
        if failures is None or failures.value < free:
            return 0.0
        doublings = min(int(failures.value) - free, 32)
        delay = min(FIRST_WAIT * 2**doublings, LONGEST)
        return max(0.0, (failures.last + delay - self.clock.now()).total_seconds())
