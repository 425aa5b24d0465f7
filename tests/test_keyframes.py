"""Keyframe requests: paced and deferred (never dropped), budgeted per viewer."""
from __future__ import annotations

import asyncio
import time

from bwlive_rtc.sfu.keyframes import KeyframeBudget, KeyframePacer


async def test_pacer_defers_instead_of_dropping() -> None:
    sent: list[float] = []
    pacer = KeyframePacer(lambda: sent.append(time.monotonic()), min_interval=0.2)
    start = time.monotonic()
    pacer.request()  # goes out at once
    pacer.request()  # too soon: deferred to the end of the interval
    pacer.request()  # already one deferred: merged into it
    assert len(sent) == 1
    await asyncio.sleep(0.3)
    assert len(sent) == 2 and 0.18 <= sent[1] - start <= 0.3
    await asyncio.sleep(0.25)
    pacer.request()  # interval over: at once again
    assert len(sent) == 3
    pacer.close()


def test_budget_limits_a_storm_and_refills() -> None:
    budget = KeyframeBudget(capacity=3, refill_per_second=100)
    assert [budget.take() for _ in range(5)][:3] == [True, True, True]
    assert not budget.take()
    time.sleep(0.05)  # refills 5 tokens, capped at 3
    assert [budget.take() for _ in range(4)] == [True, True, True, False]
