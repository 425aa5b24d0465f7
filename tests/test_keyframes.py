"""Keyframe requests: paced and deferred (never dropped), budgeted per viewer; on a
clock the test moves."""
from __future__ import annotations

import asyncio

from bwlive_rtc.kernel.rate import TokenBucket
from bwlive_rtc.sfu.keyframes import KeyframePacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_pacer_defers_instead_of_dropping() -> None:
    clock = FakeClock()
    sent: list[float] = []
    pacer = KeyframePacer(lambda: sent.append(clock.now), min_interval=0.25, clock=clock)
    pacer.request()  # goes out at once
    clock.now += 0.2
    pacer.request()  # too soon: deferred to the end of the interval (0.05 s from now)
    pacer.request()  # already one deferred: merged into it
    assert sent == [1000.0]
    await asyncio.sleep(0.1)
    assert sent == [1000.0, 1000.2] and pacer.sent == 2
    clock.now += 0.3
    pacer.request()  # interval over: at once again
    assert len(sent) == 3
    clock.now += 0.01
    pacer.request()
    pacer.close()  # a deferred request dies with its producer
    await asyncio.sleep(0.3)
    assert len(sent) == 3


def test_budget_limits_a_storm_and_refills() -> None:
    clock = FakeClock()
    budget = TokenBucket(capacity=3, refill_per_second=0.5, clock=clock)
    assert [budget.take() for _ in range(4)] == [True, True, True, False]
    clock.now += 1.0  # half a token
    assert not budget.take()
    clock.now += 1.0  # one token
    assert [budget.take(), budget.take()] == [True, False]
    clock.now += 60  # refills, capped at the capacity
    assert [budget.take() for _ in range(4)] == [True, True, True, False]
