"""Each system's signing public key (issue 11, part 1): the server verifies cameras'
certificates with it and never holds the private half.

``systems`` gets ``signing_key`` (b64u of the raw 32-byte Ed25519 public key) and
``signing_key_id`` (its key id, PROTOCOL §5, which certificates name as ``issuer``).
Existing systems stay without (NULL): their cameras' credentials were signed by the key the
server used to hold, and are refused until the camera docks again. The next
``bwlive camera dock`` at the system, with its own keys directory (or ``bwlive admin
bootstrap``), registers the signing key of that directory (``bwlive system keys generate
--signing-only``).
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    with op.batch_alter_table("systems") as batch:
        batch.add_column(sa.Column("signing_key", sa.Text))
        batch.add_column(sa.Column("signing_key_id", sa.Text))
