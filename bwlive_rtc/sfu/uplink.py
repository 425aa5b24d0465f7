"""A camera uplink's bandwidth estimate from what arrives (sent to the camera as REMB).

One estimate for the whole uplink (audio, video and retransmissions, each packet with its
RTP, SRTP, UDP and IP overhead: what a thin link carries), the loss read from the video's
first transmissions (a retransmission counts in the rate, not as arrived: a full link whose
losses retransmissions make good is still full). Loss-based, as the loss half of Google
Congestion Control: per one-second window, the received rate and the share of first
transmissions that never came, smoothed over windows (a link that loses 5 % at random
loses over 10 % in some second; a full link loses far more, at once). Over 10 % lost: the estimate drops to
``rate * (1 - loss / 2)``, at most 90 % of the rate, and what got through is kept as the link's capacity; under 2 %:
it grows by 8 % (at most to 1.5 times what arrives, plus 100 kbit/s, so an idle camera
cannot run it up), and for ``PROBE_AFTER_S`` after a loss no higher than 90 % of that
capacity, so the camera does not run into the same wall every few seconds; between: it
holds. It needs no clocks of the camera's and is not misled by a busy CPU, which delays
packets but does not lose them (the delay-based half, aiortc's estimator, was: on a loaded
machine it read scheduling delays as queues, down to 40 kbit/s).
"""
from __future__ import annotations

import time

from ..kernel.rate import Monotonic

WINDOW_S = 1.0
DECREASE_ABOVE, INCREASE_BELOW = 0.10, 0.02
GROWTH = 1.08
SMOOTHING = 0.3  # weight of the last window's loss
PACKET_OVERHEAD = 12 + 10 + 8 + 20  # bytes: RTP header, SRTP tag, UDP, IPv4
BELOW_CAPACITY = 0.9
PROBE_AFTER_S = 30.0  # then the capacity is forgotten: the link may have grown


class UplinkEstimator:
    """Feed it every media packet of one uplink (``add`` the video's first transmissions,
    ``count`` the others');
    it returns an estimate once per window, from the first window with loss on (until then
    the sender keeps its own rate)."""

    def __init__(self, clock: Monotonic = time.monotonic) -> None:
        self._clock = clock
        self._started: float | None = None
        self._highest: int | None = None  # extended sequence number
        self._first: int | None = None
        self._received = 0
        self._bytes = 0
        self.estimate: int | None = None
        self.loss = 0.0
        self._capacity: tuple[float, float] | None = None  # (bits/s that got through, when)

    def count(self, payload_size: int) -> None:
        """Count one arrived packet of audio, or a retransmission (its bytes only)."""
        self._bytes += payload_size + PACKET_OVERHEAD

    def add(self, sequence_number: int, payload_size: int) -> int | None:
        """Count one arrived video packet; the new estimate (bits/s) when a window closes."""
        now = self._clock()
        extended = self._extend(sequence_number)
        if self._started is None:
            self._started, self._first, self._bytes = now, extended, 0
        self._received += 1
        self._bytes += payload_size + PACKET_OVERHEAD
        elapsed = now - self._started
        if elapsed < WINDOW_S:
            return None
        assert self._first is not None and self._highest is not None
        expected = max(1, self._highest - self._first + 1)
        self.loss += SMOOTHING * (max(0.0, 1 - self._received / expected) - self.loss)
        rate = self._bytes * 8 / elapsed
        if self.loss > DECREASE_ABOVE:
            self.estimate = int(rate * min(BELOW_CAPACITY, 1 - self.loss / 2))
            self._capacity = (rate, now)
        elif self.estimate is not None and self.loss < INCREASE_BELOW:
            limit = rate * 1.5 + 100_000
            if self._capacity is not None and now - self._capacity[1] < PROBE_AFTER_S:
                limit = min(limit, self._capacity[0] * BELOW_CAPACITY)
            self.estimate = max(self.estimate, int(min(self.estimate * GROWTH, limit)))
        self._started, self._first, self._received, self._bytes = now, self._highest + 1, 0, 0
        return self.estimate

    def _extend(self, sequence_number: int) -> int:
        """The 16-bit sequence number extended past its wrap-arounds."""
        if self._highest is None:
            self._highest = sequence_number
            return sequence_number
        delta = (sequence_number - self._highest + 0x8000) % 0x10000 - 0x8000
        extended = self._highest + delta
        self._highest = max(self._highest, extended)
        return extended
