"""Playing a recording is audited once per play session, not per segment: a session of a
user and a recording starts with the first segment fetched and lasts while the next ones
follow within ``idle`` (pausing longer, or coming back later, is a new session)."""
from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

from ..kernel.clock import Clock

IDLE = timedelta(minutes=5)


class PlaySessions:
    """The open play sessions, bounded: those idle longer than ``idle`` are forgotten."""

    def __init__(self, clock: Clock, idle: timedelta = IDLE) -> None:
        self.clock = clock
        self.idle = idle
        self._last: OrderedDict[tuple[str, str], datetime] = OrderedDict()  # oldest fetch first

    def fetched(self, user_id: str, recording_id: str) -> bool:
        """Note a segment fetched; True when it starts a play session."""
        now = self.clock.now()
        while self._last and next(iter(self._last.values())) < now - self.idle:
            self._last.popitem(last=False)
        key = (user_id, recording_id)
        starts = key not in self._last
        self._last[key] = now
        self._last.move_to_end(key)
        return starts
