"""Missing packets asked for again (sfu/nack.py) and a viewer's retransmission budget."""
from __future__ import annotations

from bwlive_rtc.sfu.consumer import RESEND_BURST, Consumer
from bwlive_rtc.sfu.nack import NackRepeater


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_missing_packets_are_asked_for_again_until_they_come_or_are_given_up() -> None:
    clock = Clock()
    repeater = NackRepeater(repeat_after=0.04, max_tries=3, clock=clock)
    repeater.asked({10, 11})
    assert repeater.due({10, 11}) == []  # just asked
    clock.now = 0.05
    assert repeater.due({10, 11}) == [10, 11]
    clock.now = 0.07
    assert repeater.due({10, 11}) == []  # asked 20 ms ago
    clock.now = 0.1
    assert repeater.due({11}) == [11]  # 10 arrived: forgotten
    clock.now = 0.2
    assert repeater.due({11}) == []  # asked 3 times: given up
    assert repeater.due({10}) == []  # a packet seen missing first now is asked at once by aiortc
    clock.now = 0.3
    assert repeater.due({10}) == [10]
    assert repeater.repeated == 4


def test_a_viewer_gets_its_budget_of_retransmissions_and_no_more() -> None:
    consumer = Consumer("c", producer=None, pc=None)  # type: ignore[arg-type]  # only the budget's state
    allowed = sum(consumer.may_resend() for _ in range(RESEND_BURST * 3))
    assert RESEND_BURST <= allowed <= RESEND_BURST + 2  # the burst, plus what refilled meanwhile
    assert consumer.counts["retransmissions refused"] == RESEND_BURST * 3 - allowed
