"""Recording metadata in the server's metadata database (tables ``recordings`` and
``recording_segments``). Evidence itself is elsewhere (storage.py); only its keys are here."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from ..storage.sql import Sql

RECORDING = "recording"  # being written
COMPLETE = "complete"


class Catalog:
    def __init__(self, db: Sql) -> None:
        self.db = db
        self.in_organisation = db.json_contains("organisations", "organisation")

    def begin(self, recording_id: str, camera: str, organisation_ids: list[str], started_at: datetime,
              key_envelope: dict[str, object], storage: str, manifest: str | None = None) -> None:
        self.db.insert(
            "recordings", {
                "id": recording_id, "camera": camera, "organisations": json.dumps(organisation_ids),
                "started_at": started_at.isoformat(), "ended_at": None, "duration_ms": 0, "size": 0,
                "key_envelope": json.dumps(key_envelope), "state": RECORDING, "storage": storage,
                "manifest": manifest,
            }
        )

    def add_segments(self, rows: list[dict[str, object]]) -> None:
        """Register segments (``recording_id``, ``seq``, ``key``, ``start_ms``, ``end_ms``,
        ``size``, ``frames``) in one transaction. Idempotent: recovering a segment twice
        leaves one row."""
        with self.db.transaction():
            for row in rows:
                self.db.run(
                    "INSERT INTO recording_segments (recording_id, seq, key, start_ms, end_ms, size, frames)"
                    " VALUES (:recording_id, :seq, :key, :start_ms, :end_ms, :size, :frames)"
                    " ON CONFLICT (recording_id, seq) DO UPDATE SET key = excluded.key, start_ms = excluded.start_ms,"
                    " end_ms = excluded.end_ms, size = excluded.size, frames = excluded.frames", **row)

    def finish(self, recording_id: str) -> None:
        """Close a recording: its end and size follow from its stored segments. A recording
        without any (the camera left before its first key frame) is dropped."""
        started_at = self.db.value("SELECT started_at FROM recordings WHERE id = :id", id=recording_id)
        totals = self.db.row(
            "SELECT count(*) AS count, coalesce(max(end_ms), 0) AS duration_ms, coalesce(sum(size), 0) AS size"
            " FROM recording_segments WHERE recording_id = :id", id=recording_id)
        assert totals is not None
        duration_ms, size = int(totals["duration_ms"]), int(totals["size"])
        if totals["count"] == 0:
            self.delete(recording_id)
            return
        ended = datetime.fromisoformat(started_at) + timedelta(milliseconds=duration_ms)
        self.db.update(
            "recordings", {"id": recording_id},
            {"ended_at": ended.isoformat(), "duration_ms": duration_ms, "size": size, "state": COMPLETE}
        )

    def unfinished(self, started_before: datetime) -> list[str]:
        """The recordings being written, begun before ``started_before``."""
        return [row["id"] for row in self.db.rows(
            "SELECT id FROM recordings WHERE state = :state AND started_at < :before ORDER BY started_at",
            state=RECORDING, before=started_before.isoformat())]

    def exists(self, recording_id: str) -> bool:
        return self.db.value("SELECT 1 FROM recordings WHERE id = :id", id=recording_id) is not None

    def listing(self, organisation_id: str, camera: str | None = None) -> list[dict[str, Any]]:
        """An organisation's recordings, newest first, optionally of one camera user."""
        where = self.in_organisation + (" AND camera = :camera" if camera else "")
        return [_public(row) for row in self.db.rows(f"SELECT * FROM recordings WHERE {where} ORDER BY started_at DESC",
                                                     organisation=organisation_id, camera=camera)]

    def get(self, recording_id: str, organisation_id: str) -> dict[str, Any] | None:
        """A recording with its key envelope and segments, None unless the organisation has it."""
        row = self.db.row(f"SELECT * FROM recordings WHERE id = :id AND {self.in_organisation}",
                          id=recording_id, organisation=organisation_id)
        if row is None:
            return None
        recording = _public(row)
        recording["key_envelope"] = json.loads(row["key_envelope"])
        recording["manifest"] = row["manifest"]  # the camera's signed stream manifest (PROTOCOL §5.3)
        recording["segments"] = self.segment_rows(recording_id)
        if recording["state"] == RECORDING and recording["segments"]:  # still growing: as far as stored
            recording["duration_ms"] = recording["segments"][-1]["end_ms"]
        return recording

    def segment_rows(self, recording_id: str) -> list[dict[str, Any]]:
        return self.db.rows("SELECT * FROM recording_segments WHERE recording_id = :id ORDER BY seq", id=recording_id)

    def expired(self, before: datetime) -> list[str]:
        return [row["id"] for row in self.db.rows("SELECT id FROM recordings WHERE state = :state AND ended_at < :before",
                                                  state=COMPLETE, before=before.isoformat())]

    def delete(self, recording_id: str) -> None:
        with self.db.transaction():
            self.db.delete("recording_segments", recording_id=recording_id)
            self.db.delete("recordings", id=recording_id)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    public = {key: value for key, value in row.items() if key not in ("key_envelope", "manifest")}
    public["organisations"] = json.loads(row["organisations"])
    return public
