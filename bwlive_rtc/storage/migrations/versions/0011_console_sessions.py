"""The console hosted on an organisation's own origin (issue 14, part 4).

``console_origins``: the origins an organisation's admins configured, from which its
members may sign in to the console across origins. ``sessions`` gains ``origin`` and
``expires_at``: a session signed in from such an origin is a bearer token bound to it
(its hash is the key, as a cookie's), short-lived and renewed by its page; a cookie
session has neither.
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    op.create_table(
        "console_origins",
        sa.Column("organisation_id", sa.Text, primary_key=True),
        sa.Column("origin", sa.Text, primary_key=True),
        sa.Column("added_by", sa.Text, nullable=False),
        sa.Column("added_at", sa.Text, nullable=False),
    )
    op.create_index("console_origins_origin", "console_origins", ["origin"])
    with op.batch_alter_table("sessions") as table:
        table.add_column(sa.Column("origin", sa.Text))
        table.add_column(sa.Column("expires_at", sa.Text))
