"""One time representation: the integration tables' Unix seconds become ISO-8601 UTC text
(``datetime.isoformat()``), as every other table already stores its times."""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

TIMES = {  # table: its key and its time columns
    "integrations": ("id", ("created_at",)),
    "integration_deliveries": ("id", ("created_at", "next_attempt_at")),
    "integration_attempts": ("id", ("at",)),
}


def _iso(seconds: float | None) -> str | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC).isoformat()


def upgrade() -> None:
    connection = op.get_bind()
    for name, (key, columns) in TIMES.items():
        table = sa.table(name, sa.column(key), *(sa.column(column) for column in columns))
        rows = connection.execute(sa.select(table)).all()
        with op.batch_alter_table(name) as batch:
            for column in columns:
                batch.alter_column(column, type_=sa.Text, existing_type=sa.Float)
        for row in rows:
            values = {column: _iso(seconds) for column, seconds in zip(columns, row[1:], strict=True)}
            connection.execute(table.update().where(table.c[key] == row[0]).values(values))
