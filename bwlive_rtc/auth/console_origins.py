"""The console origins an organisation configured: where its members may sign in to the
web client hosted on the organisation's own origin (docs/EMBEDDING.md, "Hosting the
console yourself"). Table ``console_origins`` (migration 0011)."""
from __future__ import annotations

from ..kernel.clock import Clock
from ..storage.sql import Sql


class ConsoleOrigins:
    def __init__(self, db: Sql, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def of(self, organisation_id: str) -> list[str]:
        return [row["origin"] for row in self.db.rows(
            "SELECT origin FROM console_origins WHERE organisation_id = :organisation ORDER BY origin",
            organisation=organisation_id)]

    def replace(self, organisation_id: str, origins: list[str], by: str) -> None:
        """Make ``origins`` the organisation's console origins."""
        now = self.clock.now().isoformat()
        with self.db.transaction():
            self.db.delete("console_origins", organisation_id=organisation_id)
            self.db.insert("console_origins", *({"organisation_id": organisation_id, "origin": origin,
                                                 "added_by": by, "added_at": now} for origin in origins))

    def configured(self, origin: str) -> bool:
        """Whether some organisation configured ``origin`` (a preflight names no organisation)."""
        return self.db.value("SELECT COUNT(*) FROM console_origins WHERE origin = :origin", origin=origin) > 0

    def allows(self, organisation_id: str, origin: str) -> bool:
        return origin in self.of(organisation_id)
