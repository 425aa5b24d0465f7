"""What the player marks on a recording's timeline.

* Acknowledgements: from the audit log, where the console records each one ("stream
  acknowledged", with the stream's id, which is the recording's), of the caller's
  organisation only.
* Loss of the GPS fix: the server cannot see it, since positions are encrypted with the
  stream key. It hands the browser every encrypted position of the recording (the
  data-channel records of each segment log, or the positions side files of segments in
  the first format, in time order); the browser decrypts them and marks where
  ``fix`` was false (docs/RECORDINGS.md, "Markers").
"""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import Any

from ..crypto.b64 import b64url_encode
from ..storage.sql import Sql
from .container import positions_path, read_positions
from .rtplog import LOG_SUFFIX, RecordKind, records
from .storage import EvidenceStore

ACKNOWLEDGED = "stream acknowledged"  # the console's audit action


def acknowledgements(db: Sql, recording: dict[str, Any], organisation_id: str) -> list[dict[str, Any]]:
    """``[{ms, at, by}]``: when, in the recording's time, and by whom it was acknowledged."""
    started = datetime.fromisoformat(recording["started_at"])
    rows = db.rows(
        "SELECT time, user_name FROM audit_log WHERE organisation_id = :organisation AND action = :action"
        f" AND {db.json_text('details', 'stream')} = :stream ORDER BY id",
        organisation=organisation_id, action=ACKNOWLEDGED, stream=recording["id"],
    )
    return [{"ms": max(0, (datetime.fromisoformat(row["time"]) - started) // timedelta(milliseconds=1)),
             "at": row["time"], "by": row["user_name"]} for row in rows]


def encrypted_positions(store: EvidenceStore, segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``[{ms, data}]``: every encrypted position message of the stored segments (base64url)."""
    positions = []
    for segment in segments:
        key = segment["key"]
        if key.endswith(LOG_SUFFIX):  # a segment log: its data records, no RTP parsed
            found = records(store.get(key))[1]
            positions += [{"ms": record.arrival_us // 1000, "data": b64url_encode(record.body)}
                          for record in found if record.kind is RecordKind.DATA]
            continue
        side = store.get(positions_path(PurePosixPath(key)).as_posix())
        positions += [{"ms": frame.ms, "data": b64url_encode(frame.data)}
                      for frame in read_positions(side.decode("ascii", errors="replace"))]
    return positions
