"""The database schema's version: numbered Alembic migrations (``migrations/versions``)
bring a database to the latest version. Alembic rather than a SQLite-only tool, so the
same migrations can later build the schema on PostgreSQL."""
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

MIGRATIONS = Path(__file__).with_name("migrations")


def upgrade(path: Path) -> None:
    """Apply the migrations this database has not had yet, in one transaction."""
    with _connect(path) as connection:
        command.upgrade(_config(connection), "head")


def version(path: Path) -> str | None:
    """The database's schema version (None: no schema yet)."""
    with _connect(path) as connection:
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
def _connect(path: Path) -> Iterator[sa.Connection]:
    """A connection in a write transaction (``BEGIN IMMEDIATE``: a second process opening
    the database at the same time waits, then finds it upgraded), committed on success."""
    engine = sa.create_engine(f"sqlite:///{path}", poolclass=NullPool)
    # pysqlite would begin transactions itself, and not before DDL: SQLAlchemy does it instead.
    sa.event.listen(engine, "connect", lambda dbapi, _: setattr(dbapi, "isolation_level", None))
    sa.event.listen(engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN IMMEDIATE"))
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()
