"""The audit log: who did what, when, in which organisation."""
from __future__ import annotations

import json

import sqlite_utils
from aiohttp import web

from .access import caller
from .clock import Clock


class AuditLog:
    def __init__(self, db: sqlite_utils.Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def record(self, action: str, *, organisation_id: str | None, user_id: str | None = None,
               user_name: str | None = None, **details: object) -> None:
        self.db.table("audit_log").insert(
            {"time": self.clock.now().isoformat(), "organisation_id": organisation_id, "user_id": user_id,
             "user_name": user_name, "action": action, "details": json.dumps(details)}
        )

    def entries(self, organisation_id: str, limit: int = 200) -> list[dict[str, object]]:
        rows = self.db.query(
            "SELECT time, user_name, action, details FROM audit_log WHERE organisation_id = ? "
            "ORDER BY id DESC LIMIT ?",
            [organisation_id, limit],
        )
        return [{**row, "details": json.loads(row["details"])} for row in rows]


AUDIT = web.AppKey("audit", AuditLog)


def audit(request: web.Request, action: str, **details: object) -> None:
    """Record in the audit log that the signed-in caller did ``action``."""
    who = caller(request)
    request.app[AUDIT].record(action, organisation_id=who.organisation_id, user_id=who.user_id,
                              user_name=who.user_name, **details)
