"""The audit log: who did what, when, in which organisation; read back a page at a time
or as a whole, filtered by person, camera, action and time range."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC
from typing import Annotated, Any

from aiohttp import web
from pydantic import AwareDatetime, Field

from ..storage.sql import Sql
from .access import caller
from .clock import Clock
from .requests import Id, Natural, OptionalName, RequestModel

CAMERA_KEYS = ("camera", "camera_user", "serial")  # where an entry's details name a camera
EXPORT_BATCH = 500
NEWEST_FIRST = "time DESC, id DESC"  # the index (organisation_id, time) holds the rowid too: no sort


class AuditFilter(RequestModel):
    """Which entries: all of them by default; ``until`` is exclusive."""

    person: Id | None = None  # a user id
    camera: OptionalName = ""  # the camera's user name or serial, as the entries name it
    action: OptionalName = ""
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None


class AuditPage(AuditFilter):
    page: Natural = 0  # from 0, newest first
    page_size: Annotated[Natural, Field(ge=1, le=200)] = 50


def _where(db: Sql, organisation_id: str, only: AuditFilter) -> tuple[str, dict[str, Any]]:
    clauses, values = ["organisation_id = :organisation"], {"organisation": organisation_id}
    if only.person:
        clauses.append("user_id = :person")
        values["person"] = only.person
    if only.action:
        clauses.append("action = :action")
        values["action"] = only.action
    if only.camera:
        clauses.append("(" + " OR ".join(f"{db.json_text('details', key)} = :camera" for key in CAMERA_KEYS) + ")")
        values["camera"] = only.camera
    for bound, operator, name in ((only.since, ">=", "since"), (only.until, "<", "until")):
        if bound is not None:
            clauses.append(f"time {operator} :{name}")
            values[name] = bound.astimezone(UTC).isoformat()
    return " AND ".join(clauses), values


class AuditLog:
    def __init__(self, db: Sql, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def record(self, action: str, *, organisation_id: str | None, user_id: str | None = None,
               user_name: str | None = None, **details: object) -> None:
        self.db.insert(
            "audit_log", {"time": self.clock.now().isoformat(), "organisation_id": organisation_id, "user_id": user_id,
             "user_name": user_name, "action": action, "details": json.dumps(details)}
        )

    def entries(self, organisation_id: str, only: AuditPage | None = None) -> list[dict[str, Any]]:
        """One page of the organisation's entries, newest first (by default the latest 50)."""
        return self.page(organisation_id, only or AuditPage())[0]

    def page(self, organisation_id: str, only: AuditPage) -> tuple[list[dict[str, Any]], int]:
        """One page of the organisation's entries (newest first) and how many match in all."""
        where, values = _where(self.db, organisation_id, only)
        total = int(self.db.value(f"SELECT COUNT(*) FROM audit_log WHERE {where}", **values))
        rows = self.db.rows(f"SELECT * FROM audit_log WHERE {where} ORDER BY {NEWEST_FIRST} LIMIT :limit OFFSET :offset",
                            **values, limit=only.page_size, offset=only.page * only.page_size)
        return [_entry(row) for row in rows], total

    def every(self, organisation_id: str, only: AuditFilter) -> Iterator[list[dict[str, Any]]]:
        """All matching entries, newest first, in batches (for an export of any length)."""
        where, values = _where(self.db, organisation_id, only)
        after: dict[str, Any] = {}  # the (time, id) of the last entry sent
        while True:
            page = " AND (time, id) < (:after_time, :after_id)" if after else ""
            rows = [_entry(row) for row in self.db.rows(
                f"SELECT * FROM audit_log WHERE {where}{page} ORDER BY {NEWEST_FIRST} LIMIT :limit",
                **values, **after, limit=EXPORT_BATCH)]
            if not rows:
                return
            yield rows
            after = {"after_time": rows[-1]["time"], "after_id": rows[-1]["id"]}

    def about(self, organisation_id: str, subject_id: str) -> list[dict[str, Any]]:
        """The organisation's entries about one stream or recording (its id as the entry's
        ``stream`` or ``recording``), oldest first: its chain of custody."""
        rows = self.db.rows(
            f"SELECT * FROM audit_log WHERE organisation_id = :organisation AND ({self.db.json_text('details', 'stream')}"
            f" = :subject OR {self.db.json_text('details', 'recording')} = :subject) ORDER BY time, id",
            organisation=organisation_id, subject=subject_id)
        return [_entry(row) for row in rows]

    def actions(self, organisation_id: str) -> list[str]:
        rows = self.db.rows("SELECT DISTINCT action FROM audit_log WHERE organisation_id = :organisation ORDER BY action",
                            organisation=organisation_id)
        return [row["action"] for row in rows]


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "time": row["time"], "user_id": row["user_id"], "user_name": row["user_name"],
            "action": row["action"], "details": json.loads(row["details"])}


AUDIT = web.AppKey("audit", AuditLog)


def audit(request: web.Request, action: str, **details: object) -> None:
    """Record in the audit log that the signed-in caller did ``action``."""
    who = caller(request)
    request.app[AUDIT].record(action, organisation_id=who.organisation_id, user_id=who.user_id,
                              user_name=who.user_name, **details)
