"""License usage: for each day, the cameras assigned at any time that day to a camera
user whose profile has streaming enabled; the need is the average of the last 7 days."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from ..kernel.clock import Clock
from ..storage.sql import Sql

WINDOW_DAYS = 7


class CameraAssignments:
    """History of (camera, streaming-enabled assignment) intervals. Docking and the camera
    administration write it; licensing reads it."""

    def __init__(self, db: Sql, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def start(self, organisation_id: str, camera_id: str, at: datetime | None = None) -> None:
        """From ``at``, the camera counts (assigned to a user with streaming enabled)."""
        if self._open(organisation_id, camera_id) is None:
            self.db.insert(
                "camera_assignments", {"organisation_id": organisation_id, "camera_id": camera_id,
                 "start": (at or self.clock.now()).isoformat(), "end": None}
            )

    def end(self, organisation_id: str, camera_id: str, at: datetime | None = None) -> None:
        """From ``at``, the camera no longer counts (unassigned, or streaming turned off)."""
        row = self._open(organisation_id, camera_id)
        if row is not None:
            self.db.update("camera_assignments", {"id": row["id"]}, {"end": (at or self.clock.now()).isoformat()})

    def _open(self, organisation_id: str, camera_id: str) -> dict | None:
        return self.db.row("SELECT * FROM camera_assignments WHERE organisation_id = :organisation"
                           " AND camera_id = :camera AND \"end\" IS NULL", organisation=organisation_id, camera=camera_id)

    def counting_now(self, organisation_id: str) -> int:
        """Cameras that count at this moment."""
        return int(self.db.value("SELECT count(*) FROM camera_assignments WHERE organisation_id = :organisation"
                                 " AND \"end\" IS NULL", organisation=organisation_id))

    def daily_count(self, organisation_id: str, day: date) -> int:
        """Distinct cameras counting at any moment of ``day`` (UTC)."""
        day_start = datetime.combine(day, time.min, tzinfo=UTC)
        day_end = day_start + timedelta(days=1)
        return int(self.db.value(
            "SELECT COUNT(DISTINCT camera_id) FROM camera_assignments WHERE organisation_id = :organisation "
            "AND start < :day_end AND (\"end\" IS NULL OR \"end\" > :day_start)",
            organisation=organisation_id, day_end=day_end.isoformat(), day_start=day_start.isoformat(),
        ))

    def needed(self, organisation_id: str, today: date) -> float:
        """Licenses needed: the average daily count over the 7 days ending today."""
        days = [today - timedelta(days=i) for i in range(WINDOW_DAYS)]
        return sum(self.daily_count(organisation_id, d) for d in days) / WINDOW_DAYS
