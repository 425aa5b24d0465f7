"""The metadata database (SQLite by default, or PostgreSQL) and its ``streams`` table.
Holds no key material: the key envelope stored with a stream is sealed to the system key
and useless to the server."""
from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..kernel.files import private_directory
from .schema import upgrade
from .sql import SQLITE, Sql, create_engine, url_of


def _now() -> str:
    return datetime.now(UTC).isoformat()


@dataclass(frozen=True)
class InterruptedStream:
    """A stream a crash left open: its id, camera and organisation ids."""

    id: str
    camera: str
    organisation_ids: tuple[str, ...]


class Database:
    """The server's metadata database (a SQLite file's path, or a database URL), brought to
    the latest schema version when opened; ``db`` is what the stores run statements on."""

    def __init__(self, location: str | Path) -> None:
        url = url_of(location)
        if url.get_backend_name() == SQLITE and url.database:
            private_directory(Path(url.database).parent)
        upgrade(location)
        self.db = Sql(create_engine(location))

    def close_interrupted_streams(self, live: Collection[str] = ()) -> list[InterruptedStream]:
        """At server start-up only: streams left open by a crash ended at the latest when
        the server stopped; returns them, to be announced as ended. ``live``: streams
        other nodes hold, which stay open. (A command opening the database while the server
        runs must not end the server's live streams.)"""
        with self.db.transaction():
            rows = [row for row in self.db.rows("SELECT id, camera, organisations FROM streams WHERE ended_at IS NULL")
                    if row["id"] not in live]
            if rows:
                self.db.run("UPDATE streams SET ended_at = :now WHERE id IN :ids AND ended_at IS NULL",
                            now=_now(), ids=[row["id"] for row in rows])
        return [InterruptedStream(row["id"], row["camera"], tuple(json.loads(row["organisations"] or "[]")))
                for row in rows]

    def stream_started(self, stream_id: str, camera: str, started_at: datetime, key_envelope: dict[str, object],
                       organisation_ids: list[str] | None = None, manifest: str | None = None) -> None:
        self.db.insert("streams", {
            "id": stream_id,
            "camera": camera,
            "started_at": started_at.isoformat(),
            "ended_at": None,
            "key_envelope": json.dumps(key_envelope),
            "organisations": json.dumps(list(organisation_ids or [])),
            "manifest": manifest,
        })

    def stream_ended(self, stream_id: str) -> None:
        self.db.update("streams", {"id": stream_id}, {"ended_at": _now()})

    def stream_ended_if_open(self, stream_id: str) -> bool:
        """End a stream whose node died; True for the one caller that ended it."""
        return self.db.run("UPDATE streams SET ended_at = :now WHERE id = :id AND ended_at IS NULL",
                           now=_now(), id=stream_id) == 1

    def stream(self, stream_id: str) -> dict[str, Any]:
        row = self.db.row("SELECT * FROM streams WHERE id = :id", id=stream_id)
        if row is None:
            raise KeyError(f"no stream {stream_id}")
        return row

    def close(self) -> None:
        self.db.close()
