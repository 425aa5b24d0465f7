"""Two nodes draining one integrations queue (issue 15 part 2): a due delivery is claimed
by one node only, another node takes it when the claim's lease ended (its node died), a
result clears the claim, and a node that stops gives back what it had not sent. On the
store, over one database (SQLite here; PostgreSQL in tests/on_postgresql.sh)."""
from __future__ import annotations

from pathlib import Path

from bwlive_rtc.integrations.store import DELIVERED, RETRYING, Attempt, IntegrationStore
from bwlive_rtc.storage.database import Database
from tests.postgres import fresh_database

NOW = 1_800_000_000.0
LEASE = 15.0


def _two_nodes(tmp_path: Path) -> tuple[Database, Database, IntegrationStore, IntegrationStore]:
    location = fresh_database(tmp_path / "bwlive.sqlite")
    first, second = Database(location), Database(location)
    return first, second, IntegrationStore(first.db), IntegrationStore(second.db)


def test_a_due_delivery_is_claimed_by_one_node_until_its_lease_ends(tmp_path: Path) -> None:
    first, second, a, b = _two_nodes(tmp_path)
    try:
        integration = a.add("org", "https://soc.example/hook", None, NOW)
        ids = [a.enqueue(integration.id, f"e{n}", "stream.started", "{}", NOW) for n in range(3)]
        assert [due.id for due in a.claim_due(NOW, LEASE, 2)] == ids[:2]
        assert [due.id for due in b.claim_due(NOW + 5, LEASE, 8)] == ids[2:]  # only what node A left
        assert a.claim_due(NOW + 6, LEASE, 8) == [] and b.claim_due(NOW + LEASE - 0.1, LEASE, 8) == []
        assert a.next_attempt_at() == NOW + LEASE  # the claims' end, not their past due time

        # node A sends its first (result: the claim goes); its second's node dies unsent
        a.record_attempt(ids[0], Attempt(1, NOW + 1, 200, None, 5, DELIVERED, None))
        taken = b.claim_due(NOW + LEASE, LEASE, 8)
        assert [due.id for due in taken] == [ids[1]]  # after the lease: node B's
        assert taken[0].attempts == 0

        # a retry scheduled by one node is claimable when due, by whichever node asks first
        b.record_attempt(ids[1], Attempt(1, NOW + LEASE, 503, None, 5, RETRYING, NOW + 17))
        assert a.claim_due(NOW + 16, LEASE, 8) == []
        assert [due.id for due in a.claim_due(NOW + 17, LEASE, 8)] == [ids[1]]
        assert b.claim_due(NOW + 17, LEASE, 8) == []

        # a node that stops gives its claims back (node B's lasts till NOW + 20): due at once
        b.release([ids[2]])
        assert [due.id for due in a.claim_due(NOW + 19, LEASE, 8)] == [ids[2]]
    finally:
        first.close()
        second.close()
