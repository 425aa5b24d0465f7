"""License usage: for each day, the cameras assigned at any time that day to a camera
user whose profile has streaming enabled; the need is the average of the last 7 days."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import sqlite_utils

from ..kernel.clock import Clock

WINDOW_DAYS = 7


class CameraAssignments:
    """History of (camera, streaming-enabled assignment) intervals. Docking and the camera
    administration write it; licensing reads it."""

    def __init__(self, db: sqlite_utils.Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def start(self, organisation_id: str, camera_id: str, at: datetime | None = None) -> None:
        """From ``at``, the camera counts (assigned to a user with streaming enabled)."""
        if self._open(organisation_id, camera_id) is None:
            self.db.table("camera_assignments").insert(
                {"organisation_id": organisation_id, "camera_id": camera_id,
                 "start": (at or self.clock.now()).isoformat(), "end": None}
            )

    def end(self, organisation_id: str, camera_id: str, at: datetime | None = None) -> None:
        """From ``at``, the camera no longer counts (unassigned, or streaming turned off)."""
        row = self._open(organisation_id, camera_id)
        if row is not None:
            self.db.table("camera_assignments").update(row["id"], {"end": (at or self.clock.now()).isoformat()})

    def _open(self, organisation_id: str, camera_id: str) -> dict | None:
        rows = list(self.db.table("camera_assignments").rows_where(
            "organisation_id = ? AND camera_id = ? AND \"end\" IS NULL", [organisation_id, camera_id]))
        return rows[0] if rows else None

    def counting_now(self, organisation_id: str) -> int:
        """Cameras that count at this moment."""
        return self.db.table("camera_assignments").count_where(
            "organisation_id = ? AND \"end\" IS NULL", [organisation_id])

    def daily_count(self, organisation_id: str, day: date) -> int:
        """Distinct cameras counting at any moment of ``day`` (UTC)."""
        day_start = datetime.combine(day, time.min, tzinfo=UTC)
        day_end = day_start + timedelta(days=1)
        rows = self.db.query(
            "SELECT COUNT(DISTINCT camera_id) AS n FROM camera_assignments WHERE organisation_id = ? "
            "AND start < ? AND (\"end\" IS NULL OR \"end\" > ?)",
            [organisation_id, day_end.isoformat(), day_start.isoformat()],
        )
        return next(rows)["n"]

    def needed(self, organisation_id: str, today: date) -> float:
        """Licenses needed: the average daily count over the 7 days ending today."""
        days = [today - timedelta(days=i) for i in range(WINDOW_DAYS)]
        return sum(self.daily_count(organisation_id, d) for d in days) / WINDOW_DAYS
