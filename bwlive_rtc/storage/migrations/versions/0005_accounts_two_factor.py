"""Sign-in security (issue 13, defect 5): TOTP two-factor, recovery codes, password-reset
links, and the organisation's policy that requires two-factor sign-in.

``users`` gets ``totp_secret`` (base32; set once enrolment is confirmed),
``totp_pending_secret`` (between "set up" and the confirming code) and ``totp_last_step``
(the time step of the last code accepted, so a code is used once). ``recovery_codes`` holds
each code's SHA-256 and when it was used. ``password_resets`` holds each admin-made link
(its token's SHA-256, the member, the organisation, who made it, expiry, use).
``organisations`` gets ``require_two_factor`` (0/1).
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("totp_secret", sa.Text))
        batch.add_column(sa.Column("totp_pending_secret", sa.Text))
        batch.add_column(sa.Column("totp_last_step", sa.Integer))
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("require_two_factor", sa.Integer, nullable=False, server_default="0"))
    op.create_table("recovery_codes", sa.Column("code_hash", sa.Text, primary_key=True),
                    sa.Column("user_id", sa.Text, nullable=False), sa.Column("used_at", sa.Text))
    op.create_index("idx_recovery_codes_user_id", "recovery_codes", ["user_id"])
    op.create_table("password_resets", sa.Column("key", sa.Text, primary_key=True),
                    sa.Column("organisation_id", sa.Text, nullable=False), sa.Column("user_id", sa.Text, nullable=False),
                    sa.Column("created_by", sa.Text, nullable=False), sa.Column("created_at", sa.Text, nullable=False),
                    sa.Column("expires_at", sa.Text, nullable=False), sa.Column("used_at", sa.Text))
