"""Recording metadata in the server's SQLite database (tables ``recordings`` and
``recording_segments``). Evidence itself is elsewhere (storage.py); only its keys are here."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

RECORDING = "recording"  # being written
COMPLETE = "complete"
IN_ORGANISATION = "EXISTS (SELECT 1 FROM json_each(organisations) WHERE value = ?)"


class Catalog:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.recordings = db.table("recordings")
        self.segments = db.table("recording_segments")

    def begin(self, recording_id: str, camera: str, organisation_ids: list[str], started_at: datetime,
              key_envelope: dict[str, object], storage: str, manifest: str | None = None) -> None:
        self.recordings.insert(
            {
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
        with self.db.conn:
            self.segments.upsert_all(rows, pk=("recording_id", "seq"))

    def finish(self, recording_id: str) -> None:
        """Close a recording: its end and size follow from its stored segments. A recording
        without any (the camera left before its first key frame) is dropped."""
        row = self.recordings.get(recording_id)
        count, duration_ms, size = self.db.execute(
            "SELECT count(*), coalesce(max(end_ms), 0), coalesce(sum(size), 0) FROM recording_segments"
            " WHERE recording_id = ?",
            [recording_id],
        ).fetchone()
        if count == 0:
            self.delete(recording_id)
            return
        ended = datetime.fromisoformat(row["started_at"]) + timedelta(milliseconds=duration_ms)
        self.recordings.update(
            recording_id, {"ended_at": ended.isoformat(), "duration_ms": duration_ms, "size": size, "state": COMPLETE}
        )

    def unfinished(self) -> list[str]:
        return [row["id"] for row in self.recordings.rows_where("state = ?", [RECORDING])]

    def listing(self, organisation_id: str, camera: str | None = None) -> list[dict[str, Any]]:
        """An organisation's recordings, newest first, optionally of one camera user."""
        where, args = IN_ORGANISATION, [organisation_id]
        if camera:
            where, args = where + " AND camera = ?", [*args, camera]
        return [_public(row) for row in self.recordings.rows_where(where, args, order_by="started_at desc")]

    def get(self, recording_id: str, organisation_id: str) -> dict[str, Any] | None:
        """A recording with its key envelope and segments, None unless the organisation has it."""
        rows = list(self.recordings.rows_where("id = ? AND " + IN_ORGANISATION, [recording_id, organisation_id]))
        if not rows:
            return None
        recording = _public(rows[0])
        recording["key_envelope"] = json.loads(rows[0]["key_envelope"])
        recording["manifest"] = rows[0]["manifest"]  # the camera's signed stream manifest (PROTOCOL §5.3)
        recording["segments"] = self.segment_rows(recording_id)
        if recording["state"] == RECORDING and recording["segments"]:  # still growing: as far as stored
            recording["duration_ms"] = recording["segments"][-1]["end_ms"]
        return recording

    def segment_rows(self, recording_id: str) -> list[dict[str, Any]]:
        return list(self.segments.rows_where("recording_id = ?", [recording_id], order_by="seq"))

    def expired(self, before: datetime) -> list[str]:
        return [row["id"] for row in self.recordings.rows_where("state = ? AND ended_at < ?", [COMPLETE, before.isoformat()])]

    def delete(self, recording_id: str) -> None:
        with self.db.conn:
            self.db.execute("DELETE FROM recording_segments WHERE recording_id = ?", [recording_id])
            self.db.execute("DELETE FROM recordings WHERE id = ?", [recording_id])


def _public(row: dict[str, Any]) -> dict[str, Any]:
    public = {key: value for key, value in row.items() if key not in ("key_envelope", "manifest")}
    public["organisations"] = json.loads(row["organisations"])
    return public
