"""The uplink's loss-based estimate (sfu/uplink.py) and the camera following it
(camera/congestion.py), without a network."""
from __future__ import annotations

from bwlive_rtc.camera.congestion import FLOOR_BPS, BitrateFollower
from bwlive_rtc.sfu.uplink import PACKET_OVERHEAD, PROBE_AFTER_S, UplinkEstimator


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _second(estimator: UplinkEstimator, clock: Clock, first: int, count: int, lose_every: int = 0) -> int | None:
    """One second of ``count`` 1000-byte packets from ``first`` on, every ``lose_every``-th lost."""
    estimate = None
    for i in range(count):
        clock.now += 1 / count
        if lose_every and i % lose_every == 0:
            continue
        estimate = estimator.add((first + i) & 0xFFFF, 1000) or estimate
    return estimate


def test_random_loss_leaves_the_rate_alone_a_full_link_brings_it_down_at_once_and_it_stays_below_for_a_while() -> None:
    clock = Clock()
    estimator = UplinkEstimator(clock)
    # each call returns the estimate of the window the call before filled (a window closes
    # at its first packet a second after it opened)
    for second in range(10):  # 5 % lost at random, across the 16-bit wrap: the camera keeps its rate
        assert _second(estimator, clock, 65000 + 100 * second, 100, lose_every=20) is None
    _second(estimator, clock, 464, 100, lose_every=3)  # a full link: a third lost...
    dropped = _second(estimator, clock, 564, 100)  # ...drops the estimate at once
    clean = 100 * (1000 + PACKET_OVERHEAD) * 8  # bits/s of a second without loss
    assert dropped is not None and dropped < clean * 0.75
    held = [_second(estimator, clock, 664 + 100 * i, 100) for i in range(int(PROBE_AFTER_S) - 2)]
    assert all(estimate == dropped for estimate in held)  # not into the same wall again
    later = [_second(estimator, clock, 664 + 100 * (len(held) + i), 100) or 0 for i in range(6)]
    assert later[-1] > dropped / 0.9  # the wall forgotten, it probes above


def test_the_camera_goes_down_at_once_up_in_steps_and_lowers_its_frame_rate_when_thin() -> None:
    clock = Clock()
    follower = BitrateFollower(ceiling=1_000_000, clock=clock)
    assert follower.update(2_000_000) is None  # already at its ceiling
    assert follower.update(400_000) == 340_000 and follower.frame_divisor == 1
    clock.now += 0.1
    assert follower.update(200_000) is None  # too soon after the last change
    clock.now += 0.5
    assert follower.update(200_000) == 170_000 and follower.frame_divisor == 2
    clock.now += 0.6
    assert follower.update(1_000_000) is None  # up only every 2 s
    clock.now += 2
    assert follower.update(1_000_000) == int(170_000 * 1.15)
    clock.now += 1
    assert follower.update(10_000) == FLOOR_BPS and follower.frame_divisor == 3


def test_retransmissions_and_audio_count_in_the_rate_not_as_arrived_video() -> None:
    clock = Clock()
    estimator = UplinkEstimator(clock)
    for second in range(4):
        for i in range(100):
            clock.now += 0.01
            if i % 4 == 0:
                estimator.count(1000)  # its retransmission, late
                continue  # a quarter of the first transmissions lost
            estimator.count(100)  # audio beside
            estimator.add(second * 100 + i, 1000)
    assert estimator.loss > 0.1 and estimator.estimate is not None  # the retransmissions did not hide the loss
