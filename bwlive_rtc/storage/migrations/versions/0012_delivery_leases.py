"""Deliveries are claimed before they are sent (issue 15, part 2: several nodes).

``integration_deliveries.claimed_until``: a node that takes a due delivery sets it to the
end of its lease with a conditional update (only if unclaimed or the lease ended), so two
nodes draining one queue never send one delivery both; an attempt's result clears it, and
a delivery whose node died is taken again once its lease has ended.
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    with op.batch_alter_table("integration_deliveries") as batch:
        batch.add_column(sa.Column("claimed_until", sa.Text))
