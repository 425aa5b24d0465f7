"""Deliveries keep the order they were queued in (issue 15, part 2).

The delivery log lists the newest first; deliveries queued at one moment (one event for
several integrations, a test clock) were told apart by SQLite's ``rowid``, which
PostgreSQL has not. ``integration_deliveries`` gets ``seq``: one more than the largest
when queued. Rows from before take their ``rowid`` (SQLite, the only engine that had any).
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    with op.batch_alter_table("integration_deliveries") as batch:
        batch.add_column(sa.Column("seq", sa.Integer))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("UPDATE integration_deliveries SET seq = rowid")
