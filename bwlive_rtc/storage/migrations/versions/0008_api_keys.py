"""API keys for integrators (issue 14, part 2).

``api_keys``: one row per key of an organisation: its name, the role its viewer tokens
get at most (viewer or operator), the origins its tokens are for (a JSON list), when it
expires (NULL: never), who made it and when, when it last minted a token, when it was
revoked. The secret is kept as its SHA-256 only; ``prefix`` is what lists show.
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("organisation_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("origins", sa.Text, nullable=False),
        sa.Column("prefix", sa.Text, nullable=False),
        sa.Column("secret_hash", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Text),
        sa.Column("last_used_at", sa.Text),
        sa.Column("revoked_at", sa.Text),
    )
    op.create_index("api_keys_organisation", "api_keys", ["organisation_id"])
