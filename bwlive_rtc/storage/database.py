"""Stream metadata in SQLite via sqlite-utils. Holds no key material: the key envelope
stored with a stream is sealed to the system key and useless to the server."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from ..kernel.files import private_directory
from .schema import upgrade


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class InterruptedStream:
    """A stream a crash left open: its id, camera and organisation ids."""

    id: str
    camera: str
    organisation_ids: tuple[str, ...]


class Database:
    """The server's metadata database, brought to the latest schema version when opened."""

    def __init__(self, path: Path) -> None:
        private_directory(path.parent)
        upgrade(path)
        self.db = sqlite_utils.Database(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.streams = self.db.table("streams")

    def close_interrupted_streams(self) -> list[InterruptedStream]:
        """At server start-up only: streams left open by a crash ended at the latest when
        the server stopped; returns them, to be announced as ended. (A command opening the
        database while the server runs must not end the server's live streams.)"""
        now = _now()
        with self.db.conn:
            rows = list(self.db.query("SELECT id, camera, organisations FROM streams WHERE ended_at IS NULL"))
            self.db.execute("UPDATE streams SET ended_at = ? WHERE ended_at IS NULL", [now])
        return [InterruptedStream(row["id"], row["camera"], tuple(json.loads(row["organisations"] or "[]")))
                for row in rows]

    def stream_started(self, stream_id: str, camera: str, started_at: datetime, key_envelope: dict[str, object],
                       organisation_ids: list[str] | None = None, manifest: str | None = None) -> None:
        self.streams.insert(
            {
                "id": stream_id,
                "camera": camera,
                "started_at": started_at.isoformat(),
                "ended_at": None,
                "key_envelope": json.dumps(key_envelope),
                "organisations": json.dumps(list(organisation_ids or [])),
                "manifest": manifest,
            }
        )

    def stream_ended(self, stream_id: str) -> None:
        self.streams.update(stream_id, {"ended_at": _now()})

    def stream(self, stream_id: str) -> dict[str, Any]:
        return self.streams.get(stream_id)

    def close(self) -> None:
        self.db.close()
