"""Missing packets asked for again (sfu/nack.py) and a viewer's retransmission budget."""
from __future__ import annotations

from bwlive_rtc.sfu.consumer import RESEND_BURST, Consumer
from bwlive_rtc.sfu.nack import ASK_BURST, NackRepeater


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_missing_packets_are_asked_for_at_once_then_less_and_less_often_until_they_come_or_are_given_up() -> None:
    clock = Clock()
    repeater = NackRepeater(repeat_after=0.04, max_tries=3, clock=clock)
    assert repeater.due({10, 11}) == [10, 11]  # just gone missing: asked at once
    assert repeater.due({10, 11, 12}) == [12]  # a new gap: only the new packet, not every missing one again
    clock.now = 0.05
    assert repeater.due({10, 11, 12}) == [10, 11, 12]
    clock.now = 0.07
    assert repeater.due({10, 11}) == []  # 12 arrived; 10 and 11 asked 20 ms ago
    clock.now = 0.1
    assert repeater.due({11}) == []  # 10 arrived: forgotten; 11 asked 50 ms ago, the next ask waits 80
    clock.now = 0.13
    assert repeater.due({11}) == [11]
    clock.now = 0.5
    assert repeater.due({11}) == []  # asked 3 times: given up
    assert repeater.due({10}) == [10]  # missing again (a new wrap of the numbers): a new packet
    assert repeater.repeated == 4  # the asks after the first


def test_a_viewer_gets_its_budget_of_retransmissions_and_no_more() -> None:
    consumer = Consumer("c", producer=None, pc=None)  # type: ignore[arg-type]  # only the budget's state
    allowed = sum(consumer.may_resend() for _ in range(RESEND_BURST * 3))
    assert RESEND_BURST <= allowed <= RESEND_BURST + 2  # the burst, plus what refilled meanwhile
    assert consumer.counts["retransmissions refused"] == RESEND_BURST * 3 - allowed


def test_no_more_is_asked_for_than_a_quarter_of_what_arrives() -> None:
    repeater = NackRepeater(clock=Clock())
    assert len(repeater.due(set(range(100)))) == ASK_BURST  # a burst, then
    assert repeater.due(set(range(100))) == []
    for _ in range(8):
        repeater.arrived()
    assert repeater.due(set(range(100))) == [ASK_BURST, ASK_BURST + 1]  # the oldest not yet asked, first
