"""Streams and recordings keep the camera's signed stream manifest (issue 11, part 3).

``streams`` and ``recordings`` get ``manifest``: the token the camera signed with its
device key at the publish (docs/PROTOCOL.md §5.3), kept as received, so that browsers and
later verifiers check it themselves. Rows from before stay without (NULL): not signed.
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    for table in ("streams", "recordings"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("manifest", sa.Text))
