"""The live list marks a stream lost when its camera sent no media for 2 s (with the time of
its last media), and clears the mark when media resumes (issue 13, defect 2)."""
from __future__ import annotations

from datetime import UTC, datetime

from bwlive_rtc.kernel.bus import LocalBus
from bwlive_rtc.sfu.router import Router
from bwlive_rtc.streams.hub import StreamHub

LAST = datetime(2026, 11, 30, 12, 0, 5, tzinfo=UTC)


class QuietProducer:
    """What the hub reads of a Producer, with a settable silence."""

    def __init__(self) -> None:
        self.id, self.camera, self.organisation_ids = "s1", "Lena Mol", ["org"]
        self.started_at = datetime(2026, 11, 30, 12, tzinfo=UTC)
        self.quiet = 0.0
        self.received_media = True

    def quiet_for(self) -> float:
        return self.quiet

    def last_media_at(self) -> datetime:
        return LAST

    def describe(self) -> dict[str, object]:
        return {"id": self.id, "camera": self.camera, "started_at": self.started_at.isoformat(), "key_envelope": {}}


async def test_a_silent_stream_is_lost_with_its_last_media_time_until_media_resumes() -> None:
    router = Router()
    producer = QuietProducer()
    router.producers[producer.id] = producer  # type: ignore[assignment]
    hub = StreamHub(router, LocalBus())
    pushed: list[object] = []

    async def changed(_: object) -> None:
        pushed.append(hub.snapshot("org"))

    hub._changed = changed  # type: ignore[method-assign]

    def lost_at() -> object:
        return hub.snapshot("org")["streams"][0]["lost_at"]  # type: ignore[index]

    producer.quiet = 1.9
    await hub.check_silence()
    assert lost_at() is None and not pushed

    producer.quiet = 2.0
    await hub.check_silence()
    await hub.check_silence()  # pushed once, not on every check
    assert lost_at() == LAST.isoformat() and len(pushed) == 1

    producer.quiet = 0.1
    await hub.check_silence()
    assert lost_at() is None and len(pushed) == 2


async def test_a_stream_still_connecting_gets_longer_before_it_is_lost() -> None:
    router = Router()
    producer = QuietProducer()
    producer.received_media = False
    router.producers[producer.id] = producer  # type: ignore[assignment]
    hub = StreamHub(router, LocalBus())
    producer.quiet = 5.0
    await hub.check_silence()
    assert hub.lost == {}
    producer.quiet = 10.0
    await hub.check_silence()
    assert hub.lost == {producer.id: LAST.isoformat()}
