"""Stream metadata in SQLite via sqlite-utils. Holds no key material: the key envelope
stored with a stream is sealed to the system key and useless to the server."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from ..kernel.files import private_directory
from .schema import upgrade


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Database:
    """The server's metadata database, brought to the latest schema version when opened."""

    def __init__(self, path: Path) -> None:
        private_directory(path.parent)
        upgrade(path)
        self.db = sqlite_utils.Database(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.streams = self.db.table("streams")

    def close_interrupted_streams(self) -> None:
        """At server start-up only: streams left open by a crash ended at the latest when
        the server stopped. (A command opening the database while the server runs must
        not end the server's live streams.)"""
        self.db.execute(
            "UPDATE streams SET ended_at = ? WHERE ended_at IS NULL", [_now()]
        )
        self.db.conn.commit()

    def stream_started(self, stream_id: str, camera: str, started_at: datetime, key_envelope: dict[str, object]) -> None:
        self.streams.insert(
            {
                "id": stream_id,
                "camera": camera,
                "started_at": started_at.isoformat(),
                "ended_at": None,
                "key_envelope": json.dumps(key_envelope),
            }
        )

    def stream_ended(self, stream_id: str) -> None:
        self.streams.update(stream_id, {"ended_at": _now()})

    def stream(self, stream_id: str) -> dict[str, Any]:
        return self.streams.get(stream_id)

    def close(self) -> None:
        self.db.close()
