"""A stream row keeps the organisations it was shown to (issue 13, defect 9).

``streams`` gets ``organisations`` (a JSON list of organisation ids), so that a stream a
crash left open can still be announced as ended, at the next start, to the SOC
integrations of its organisations. Rows from before stay without (NULL): nobody is told.
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    with op.batch_alter_table("streams") as batch:
        batch.add_column(sa.Column("organisations", sa.Text))
