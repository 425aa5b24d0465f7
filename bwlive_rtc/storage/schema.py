"""The database schema's version: numbered Alembic migrations (``migrations/versions``)
bring a database, SQLite or PostgreSQL, to the latest version; the same migrations build
the schema on both."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.pool import NullPool

from .sql import POSTGRESQL, create_engine

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 0x62776C697665  # PostgreSQL advisory lock of whoever migrates ("bwlive")


def upgrade(location: str | Path) -> None:
    """Apply the migrations this database has not had yet, in one transaction."""
    with _connect(location) as connection:
        command.upgrade(_config(connection), "head")


def version(location: str | Path) -> str | None:
    """The database's schema version (None: no schema yet)."""
    with _connect(location) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def latest() -> str:
    """The version the migrations lead to."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def _config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@contextmanager
def _connect(location: str | Path) -> Iterator[sa.Connection]:
    """A connection in a write transaction, committed on success. A second process
    opening the database at the same time waits, then finds it upgraded: on SQLite the
    transaction is ``BEGIN IMMEDIATE``, on PostgreSQL it first takes an advisory lock."""
    engine = create_engine(location, poolclass=NullPool)
    if engine.dialect.name != POSTGRESQL:
        # pysqlite would begin transactions itself, and not before DDL: SQLAlchemy does it instead.
        sa.event.listen(engine, "connect", lambda dbapi, _: setattr(dbapi, "isolation_level", None))
        sa.event.listen(engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN IMMEDIATE"))
    try:
        with engine.begin() as connection:
            if engine.dialect.name == POSTGRESQL:
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            yield connection
    finally:
        engine.dispose()
