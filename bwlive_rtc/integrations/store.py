"""Integrations, the delivery queue and the attempt log, in the server's metadata database.

The queue is persistent: a delivery stays ``queued`` or ``retrying`` until an attempt
succeeds or the retry policy gives up, across server restarts. Several nodes may drain one
queue: a node claims each due delivery for a lease (a conditional update: one node wins)
before it sends it, so a delivery is sent by one node at a time, and again only after its
node died and the lease ended. Times are Unix seconds to callers and ISO-8601 UTC text in
the database, as in every table.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..kernel.tokens import new_id
from ..storage.sql import Sql

QUEUED, RETRYING, DELIVERED, FAILED = "queued", "retrying", "delivered", "failed"
PENDING = (QUEUED, RETRYING)


@dataclass(frozen=True)
class Integration:
    id: str
    organisation_id: str
    url: str
    secret: str | None
    created_at: float


@dataclass(frozen=True)
class Due:
    """A delivery whose next attempt is due, with what the attempt needs."""

    id: str
    url: str
    secret: str | None
    event_id: str
    event_type: str
    body: str
    created_at: float
    attempts: int


@dataclass(frozen=True)
class Attempt:
    """The result of one attempt and what happens next (``next_attempt_at`` when retrying)."""

    number: int
    at: float
    response_code: int | None
    error: str | None
    duration_ms: int
    status: str
    next_attempt_at: float | None


class IntegrationStore:
    """Tables ``integrations``, ``integration_deliveries``, ``integration_attempts``."""

    def __init__(self, db: Sql) -> None:
        self.db = db

    # ------------------------------------------------------------ integrations
    def add(self, organisation_id: str, url: str, secret: str | None, now: float) -> Integration:
        integration = Integration(new_id(), organisation_id, url, secret, now)
        self.db.insert("integrations", {**vars(integration), "created_at": _stored(now)})
        return integration

    def of(self, organisation_ids: list[str]) -> list[Integration]:
        """The integrations of these organisations, oldest first."""
        rows = self.db.rows("SELECT * FROM integrations WHERE organisation_id IN :organisations ORDER BY created_at",
                            organisations=list(organisation_ids))
        return [Integration(**_in_seconds(row, "created_at")) for row in rows]

    def get(self, organisation_id: str, integration_id: str) -> Integration | None:
        row = self.db.row("SELECT * FROM integrations WHERE id = :id AND organisation_id = :organisation",
                          id=integration_id, organisation=organisation_id)
        return Integration(**_in_seconds(row, "created_at")) if row else None

    def has_url(self, organisation_id: str, url: str) -> bool:
        return self.db.row("SELECT id FROM integrations WHERE organisation_id = :organisation AND url = :url",
                           organisation=organisation_id, url=url) is not None

    def remove(self, integration_id: str) -> bool:
        """Remove an integration with its queue and log; False if there was none."""
        with self.db.transaction():
            self._delete_deliveries("integration_id = :integration", integration=integration_id)
            removed = self.db.delete("integrations", id=integration_id)
        return removed > 0

    def prune(self, before: float) -> None:
        """Forget finished deliveries (and their attempts) of events older than ``before``."""
        with self.db.transaction():
            self._delete_deliveries("status IN :finished AND created_at < :before", finished=[DELIVERED, FAILED],
                                    before=_stored(before))

    def _delete_deliveries(self, where: str, **params: object) -> None:
        self.db.run(
            f"DELETE FROM integration_attempts WHERE delivery_id IN (SELECT id FROM integration_deliveries WHERE {where})",
            **params)
        self.db.run(f"DELETE FROM integration_deliveries WHERE {where}", **params)

    # ------------------------------------------------------------------- queue
    def enqueue(self, integration_id: str, event_id: str, event_type: str, body: str, now: float) -> str:
        delivery_id = new_id()
        self.db.run(
            "INSERT INTO integration_deliveries (id, integration_id, event_id, event_type, body, status, created_at,"
            " next_attempt_at, attempts, seq) VALUES (:id, :integration, :event, :type, :body, :status, :now, :now, 0,"
            " (SELECT coalesce(max(seq), 0) + 1 FROM integration_deliveries))",
            id=delivery_id, integration=integration_id, event=event_id, type=event_type, body=body, status=QUEUED,
            now=_stored(now))
        return delivery_id

    def claim_due(self, now: float, lease: float, limit: int) -> list[Due]:
        """Claim up to ``limit`` pending deliveries whose next attempt is due and that no
        node holds (or whose node's lease ended), oldest first, until ``now + lease``."""
        rows = self.db.rows(
            f"SELECT d.id, i.url, i.secret, d.event_id, d.event_type, d.body, d.created_at, d.attempts "
            f"FROM integration_deliveries d JOIN integrations i ON i.id = d.integration_id "
            f"WHERE {_claimable('d.')} "
            f"ORDER BY d.next_attempt_at LIMIT :limit",
            pending=PENDING, now=_stored(now), limit=limit,
        )
        return [Due(**_in_seconds(row, "created_at")) for row in rows if self.db.run(
            f"UPDATE integration_deliveries SET claimed_until = :until WHERE id = :id AND {_claimable('')}",
            id=row["id"], pending=PENDING, now=_stored(now), until=_stored(now + lease)) == 1]

    def release(self, delivery_ids: list[str]) -> None:
        """Give back claimed deliveries not attempted (the node stops): due again at once."""
        if delivery_ids:
            self.db.run("UPDATE integration_deliveries SET claimed_until = NULL WHERE id IN :ids", ids=delivery_ids)

    def next_attempt_at(self) -> float | None:
        """When the earliest pending delivery is due (one another node holds: when its
        lease ends); None if there is none."""
        return _seconds(self.db.value(
            "SELECT MIN(CASE WHEN claimed_until > next_attempt_at THEN claimed_until ELSE next_attempt_at END) AS at "
            "FROM integration_deliveries WHERE status IN :pending", pending=PENDING))

    def record_attempt(self, delivery_id: str, attempt: Attempt) -> None:
        """Log an attempt and move its delivery on (no-op if the integration was removed)."""
        with self.db.transaction():
            changed = self.db.update("integration_deliveries", {"id": delivery_id}, {
                "status": attempt.status, "attempts": attempt.number,
                "next_attempt_at": _stored(attempt.next_attempt_at), "claimed_until": None})
            if changed:
                self.db.insert("integration_attempts", {
                    "delivery_id": delivery_id, "number": attempt.number, "at": _stored(attempt.at),
                    "response_code": attempt.response_code, "error": attempt.error,
                    "duration_ms": attempt.duration_ms})

    # --------------------------------------------------------------------- log
    def recent_deliveries(self, organisation_id: str, limit: int) -> list[dict[str, Any]]:
        """An organisation's newest deliveries with their integration's URL and the list of
        their attempts."""
        deliveries = self.db.rows(
            "SELECT d.id, d.integration_id, i.url, d.event_id, d.event_type, d.status, d.created_at, "
            "d.next_attempt_at, d.attempts FROM integration_deliveries d "
            "JOIN integrations i ON i.id = d.integration_id WHERE i.organisation_id = :organisation "
            "ORDER BY d.created_at DESC, d.seq DESC LIMIT :limit",
            organisation=organisation_id, limit=limit,
        )
        by_id = {delivery["id"]: {**_in_seconds(delivery, "created_at", "next_attempt_at"), "attempts": []}
                 for delivery in deliveries}
        if by_id:
            for attempt in self.db.rows(
                "SELECT delivery_id, number, at, response_code, error, duration_ms FROM integration_attempts "
                "WHERE delivery_id IN :deliveries ORDER BY number",
                deliveries=list(by_id),
            ):
                by_id[attempt.pop("delivery_id")]["attempts"].append(_in_seconds(attempt, "at"))
        return list(by_id.values())


def _stored(seconds: float | None) -> str | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC).isoformat()


def _seconds(stored: str | None) -> float | None:
    return None if stored is None else datetime.fromisoformat(stored).timestamp()


def _in_seconds(row: dict[str, Any], *columns: str) -> dict[str, Any]:
    """The row with its time ``columns`` as Unix seconds."""
    return {**row, **{column: _seconds(row[column]) for column in columns}}


def _claimable(table: str) -> str:
    """Pending, due, and no node's (or its node's lease ended): what a node may claim."""
    return (f"{table}status IN :pending AND {table}next_attempt_at <= :now "
            f"AND ({table}claimed_until IS NULL OR {table}claimed_until <= :now)")
