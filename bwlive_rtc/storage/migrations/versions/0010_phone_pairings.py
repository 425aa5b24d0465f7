"""Phones as cameras (issue 14, part 5).

``phone_pairings``: one row per pairing code an admin made for a camera user. The code
is kept as its SHA-256 only, valid 10 minutes, used once. When a phone redeems it, the
row gets the camera made for the phone, the phone's device public key (raw Ed25519,
b64u) and the SHA-256 of the pickup secret the phone keeps; the system's dock
(``bwlive camera dock-phones``) puts the dock package (JSON) there, and renews it.
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    op.create_table(
        "phone_pairings",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("organisation_id", sa.Text, nullable=False),
        sa.Column("camera_user_id", sa.Text, nullable=False),
        sa.Column("code_hash", sa.Text, nullable=False, unique=True),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Text, nullable=False),
        sa.Column("redeemed_at", sa.Text),
        sa.Column("camera_id", sa.Text),
        sa.Column("device_key", sa.Text),
        sa.Column("pickup_hash", sa.Text, unique=True),
        sa.Column("package", sa.Text),
        sa.Column("docked_at", sa.Text),
    )
    op.create_index("phone_pairings_organisation", "phone_pairings", ["organisation_id"])
