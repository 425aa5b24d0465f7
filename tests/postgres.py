"""The engine the suite runs on: SQLite files (the default), or PostgreSQL when
``BWLIVE_TEST_DATABASE`` names a server (``postgresql://USER@HOST:PORT/postgres``; .ci/run
starts a throwaway one). Then every database a test opens is a new one on that server,
copied from a template migrated once, and dropped after the test (or module)."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import sqlalchemy as sa

from bwlive_rtc.kernel.config import DATABASE_VARIABLE, Settings
from bwlive_rtc.storage import schema
from bwlive_rtc.storage.sql import create_engine

SERVER = os.environ.get("BWLIVE_TEST_DATABASE", "")
TEMPLATE = f"bwlive_template_{os.getpid()}"


class Databases:
    """Databases made on the PostgreSQL server, each a copy of the migrated template."""

    def __init__(self, server: str) -> None:
        self.server = sa.make_url(server)
        self.made: list[str] = []
        self.template_made = False

    def _admin(self, statement: str) -> None:
        url = self.server
        with psycopg.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                             dbname=url.database or "postgres", autocommit=True) as connection:
            connection.execute(statement)

    def url(self, name: str) -> str:
        return self.server.set(database=name).render_as_string(hide_password=False)

    def create(self) -> str:
        """A new database with the latest schema; its URL."""
        if not self.template_made:
            self._admin(f"CREATE DATABASE {TEMPLATE}")
            schema.upgrade(self.url(TEMPLATE))
            self.template_made = True
        name = f"bwlive_test_{uuid.uuid4().hex[:12]}"
        self._admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        self.made.append(name)
        return self.url(name)

    def drop(self, url: str) -> None:
        name = sa.make_url(url).database
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.made.remove(str(name))

    def drop_all(self) -> None:
        for name in list(self.made):
            self.drop(self.url(name))
        if self.template_made:
            self._admin(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")


DATABASES = Databases(SERVER) if SERVER else None


def fresh_database(path: Path) -> str | Path:
    """Where a test's own new database is: the SQLite file ``path``, or a new PostgreSQL
    database (dropped at the end of the session)."""
    return DATABASES.create() if DATABASES else path


_CLAIMED: dict[str, Path] = {}  # the test's (or module's) database -> the data directory that uses it
_OWN: dict[Path, str] = {}  # further data directories -> their own databases


def database_of(data_dir: Path) -> str:
    """The database URL of a server or command on ``data_dir``: ``$BWLIVE_DATABASE`` on
    SQLite (empty: the data directory's file); on PostgreSQL the test's (or module's) database for the first data
    directory that asks under it, and a new database for every other, so servers with
    keys of their own never share one."""
    current = os.environ.get(DATABASE_VARIABLE, "")
    if DATABASES is None or not current:
        return current
    data_dir = data_dir.resolve()
    if _CLAIMED.setdefault(current, data_dir) == data_dir:
        return current
    if data_dir not in _OWN:
        _OWN[data_dir] = DATABASES.create()
    return _OWN[data_dir]


def share_database(data_dir: Path) -> None:
    """``data_dir`` uses the test's (or module's) database too: nodes of one cluster."""
    _OWN[data_dir.resolve()] = os.environ.get(DATABASE_VARIABLE, "")


def stored_metadata(data_dir: Path) -> bytes:
    """Everything the metadata database of ``data_dir`` holds: its SQLite files' bytes, or
    (on PostgreSQL) the text of every row of every table."""
    if DATABASES is None:
        return b"".join(path.read_bytes() for path in data_dir.glob("bwlive.sqlite*"))
    engine = create_engine(Settings(data_dir=data_dir, database_url=database_of(data_dir)).database)
    try:
        with engine.connect() as connection:
            return "\n".join(repr(row) for table in sa.inspect(connection).get_table_names()
                             for row in connection.execute(sa.text(f"SELECT * FROM {table}"))).encode()
    finally:
        engine.dispose()


@contextmanager
def shared_postgresql() -> Iterator[str]:
    """A PostgreSQL database for several servers at once (a cluster): a new one on the
    suite's server, or on a throwaway server of its own (.ci/postgres, in a directory of
    /tmp that its user reaches) on the SQLite run."""
    if DATABASES is not None:
        url = DATABASES.create()
        try:
            yield url
        finally:
            DATABASES.drop(url)
        return
    script, directory = Path(__file__).parent.parent / ".ci" / "postgres", tempfile.mkdtemp()
    started = subprocess.run(["bash", str(script), "start", directory], capture_output=True, text=True)
    assert started.returncode == 0, f"PostgreSQL did not start (Debian's postgresql is needed): {started.stderr}"
    databases = Databases(started.stdout.strip())
    try:
        yield databases.create()
    finally:
        databases.drop_all()
        subprocess.run(["bash", str(script), "stop", directory], check=False)
        shutil.rmtree(directory, ignore_errors=True)


SQLITE_FILES = {"bwlive.sqlite", "bwlive.sqlite-wal"} if DATABASES is None else set()  # what the data directory holds

__all__ = ["DATABASES", "DATABASE_VARIABLE", "fresh_database"]
