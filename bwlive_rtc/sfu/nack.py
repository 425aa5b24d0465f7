"""Which missing packets to NACK, and when. aiortc's receiver, at each new gap, NACKs every
packet still missing: under heavy loss each is asked for at every packet, and the
retransmissions fill the link (a retransmission storm); and a gap that is the last one is
never asked again. ``NackRepeater`` asks for a packet when it goes missing, then again
less and less often, a few times."""
from __future__ import annotations

import time

from ..kernel.rate import Monotonic

REPEAT_AFTER_S = 0.04  # a little more than a round trip on most links; then twice as long each time
MAX_TRIES = 6  # then the packet is given up (the viewer's own NACKs and PLIs take over)
ASK_SHARE = 0.25  # packets asked for, at most, per packet that arrives (after a first burst)
ASK_BURST = 40


class NackRepeater:
    """Tracks when each missing sequence number was last asked for and how often. Each
    ask waits twice as long as the one before (40, 80, 160 ms…): on a thin link whose queue
    holds a retransmission longer than a round trip, a fixed pause would ask for it again
    and again, and the duplicates would fill the link (a retransmission storm)."""

    def __init__(self, repeat_after: float = REPEAT_AFTER_S, max_tries: int = MAX_TRIES,
                 clock: Monotonic = time.monotonic) -> None:
        self.repeat_after = repeat_after
        self.max_tries = max_tries
        self._clock = clock
        self._asked: dict[int, tuple[float, int]] = {}  # seq -> (last asked, times)
        self._may_ask = float(ASK_BURST)
        self.repeated = 0

    def arrived(self) -> None:
        """A packet arrived: a little more may be asked for."""
        self._may_ask = min(ASK_BURST, self._may_ask + ASK_SHARE)

    def due(self, missing: set[int]) -> list[int]:
        """The packets of ``missing`` to NACK now: those just gone missing, and those due
        again (all marked as asked)."""
        self._forget(missing)
        if self._may_ask < 1:
            return []  # nothing may be asked now: spare the per-packet sort
        now = self._clock()
        again = []
        for seq in sorted(missing):
            if self._may_ask < 1:
                break
            last, times = self._asked.get(seq, (now, 0))
            if times == 0 or (times < self.max_tries and now - last >= self.repeat_after * 2 ** (times - 1)):
                self._asked[seq] = (now, times + 1)
                self._may_ask -= 1
                again.append(seq)
        self.repeated += sum(1 for seq in again if self._asked[seq][1] > 1)
        return again

    def _forget(self, missing: set[int]) -> None:
        for seq in [seq for seq in self._asked if seq not in missing]:
            del self._asked[seq]
