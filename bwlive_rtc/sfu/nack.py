"""Asking again for packets still missing: aiortc's receiver NACKs a gap once, when it
appears, so a lost NACK or a lost retransmission is asked for again only at the next gap.
``NackRepeater`` says which missing packets are due for another NACK."""
from __future__ import annotations

import time

from ..kernel.rate import Monotonic

REPEAT_AFTER_S = 0.04  # a little more than a round trip on most links; duplicates are cheap
MAX_TRIES = 6  # then the packet is given up (the viewer's own NACKs and PLIs take over)


class NackRepeater:
    """Tracks when each missing sequence number was last asked for and how often."""

    def __init__(self, repeat_after: float = REPEAT_AFTER_S, max_tries: int = MAX_TRIES,
                 clock: Monotonic = time.monotonic) -> None:
        self.repeat_after = repeat_after
        self.max_tries = max_tries
        self._clock = clock
        self._asked: dict[int, tuple[float, int]] = {}  # seq -> (last asked, times)
        self.repeated = 0

    def asked(self, missing: set[int]) -> None:
        """All of ``missing`` were just NACKed (a new gap)."""
        now = self._clock()
        for seq in missing:
            _, times = self._asked.get(seq, (now, 0))
            self._asked[seq] = (now, times + 1)
        self._forget(missing)

    def due(self, missing: set[int]) -> list[int]:
        """The packets of ``missing`` to NACK again now (marked as asked)."""
        self._forget(missing)
        now = self._clock()
        again = []
        for seq in missing:
            last, times = self._asked.setdefault(seq, (now, 1))
            if times < self.max_tries and now - last >= self.repeat_after:
                self._asked[seq] = (now, times + 1)
                again.append(seq)
        self.repeated += len(again)
        return sorted(again)

    def _forget(self, missing: set[int]) -> None:
        for seq in [seq for seq in self._asked if seq not in missing]:
            del self._asked[seq]
