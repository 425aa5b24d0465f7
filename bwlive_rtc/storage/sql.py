"""The metadata database through SQLAlchemy Core, on SQLite (a file: the embedded default)
or PostgreSQL, with the same statements on both.

Stores write portable SQL with named parameters (``:name``; a list or tuple value is
expanded for ``IN :name``) and build inserts, updates and deletes from dicts. What the two
engines spell differently (reading JSON text) is a method of ``Sql``. Statements run in a
transaction of their own unless one is open (``with sql.transaction():``): then they join
it, whichever store runs them, so a store may call another inside its transaction.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import sqlalchemy as sa

SQLITE, POSTGRESQL = "sqlite", "postgresql"
_OPEN: ContextVar[tuple[sa.Engine, sa.Connection] | None] = ContextVar("bwlive_open_transaction", default=None)


class UnsupportedDatabase(ValueError):
    """A database URL of an engine bwlive does not run on."""


def url_of(location: str | Path) -> sa.URL:
    """A database URL (``sqlite:///…``, ``postgresql://…``) or a SQLite file's path as a
    URL; ``postgresql://`` means the psycopg (3) driver."""
    url = sa.make_url(f"sqlite:///{location}" if isinstance(location, Path) else location)
    backend = url.get_backend_name()
    if backend not in (SQLITE, POSTGRESQL):
        raise UnsupportedDatabase(f"bwlive keeps its metadata in SQLite or PostgreSQL, not {backend}: "
                                  "give a sqlite:///FILE or postgresql://… URL")
    return url.set(drivername="postgresql+psycopg") if url.drivername == POSTGRESQL else url


def create_engine(location: str | Path, **options: Any) -> sa.Engine:
    """An engine for the database; SQLite files in WAL mode (a command may read and write
    beside the running server)."""
    url = url_of(location)
    if url.get_backend_name() == POSTGRESQL:
        return sa.create_engine(url, pool_pre_ping=True, **options)
    engine = sa.create_engine(url, **options)
    sa.event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA journal_mode=WAL"))
    return engine


class Sql:
    """One database's engine and the statements the stores run on it."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """A transaction, committed when the block ends without an error; statements run
        in the block (through this ``Sql``) join it."""
        open_now = _OPEN.get()
        if open_now is not None and open_now[0] is self.engine:
            yield open_now[1]
            return
        with self.engine.begin() as connection:
            token = _OPEN.set((self.engine, connection))
            try:
                yield connection
            finally:
                _OPEN.reset(token)

    def execute(self, statement: sa.Executable) -> sa.CursorResult[Any]:
        with self.transaction() as connection:
            return connection.execute(statement)

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        """Every row the query gives, as dicts."""
        with self.transaction() as connection:
            return [dict(row) for row in connection.execute(_text(sql, params), params).mappings()]

    def row(self, sql: str, **params: Any) -> dict[str, Any] | None:
        """The first row the query gives (None: none)."""
        rows = self.rows(sql, **params)
        return rows[0] if rows else None

    def value(self, sql: str, **params: Any) -> Any:
        """The first column of the first row (a count, a sum)."""
        with self.transaction() as connection:
            return connection.execute(_text(sql, params), params).scalar()

    def run(self, sql: str, **params: Any) -> int:
        """Run a statement; how many rows it changed."""
        with self.transaction() as connection:
            return connection.execute(_text(sql, params), params).rowcount

    def insert(self, table: str, *rows: Mapping[str, Any]) -> None:
        """Insert rows (all with the same columns)."""
        if rows:
            with self.transaction() as connection:
                connection.execute(sa.insert(_table(table, rows[0])), [dict(row) for row in rows])

    def update(self, table: str, where: Mapping[str, Any], values: Mapping[str, Any]) -> int:
        """Set ``values`` in the rows whose columns equal ``where``; how many changed."""
        changed = _table(table, {**where, **values})
        return self.execute(sa.update(changed).where(*_equal(changed, where)).values(dict(values))).rowcount

    def delete(self, table: str, **where: Any) -> int:
        """Delete the rows whose columns equal ``where``; how many there were."""
        rows = _table(table, where)
        return self.execute(sa.delete(rows).where(*_equal(rows, where))).rowcount

    def json_text(self, column: str, key: str) -> str:
        """SQL for the text at ``key`` of the JSON object in ``column`` (a constant key)."""
        if not key.isidentifier():
            raise ValueError(f"not a JSON key bwlive uses: {key!r}")
        if self.dialect == POSTGRESQL:
            return f"(CAST({column} AS jsonb) ->> '{key}')"
        return f"json_extract({column}, '$.{key}')"

    def json_contains(self, column: str, parameter: str) -> str:
        """SQL: whether the JSON array of strings in ``column`` holds ``:parameter``."""
        if self.dialect == POSTGRESQL:
            return f"(CAST({column} AS jsonb) @> jsonb_build_array(CAST(:{parameter} AS text)))"
        return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE value = :{parameter})"

    def close(self) -> None:
        self.engine.dispose()


def _text(sql: str, params: Mapping[str, Any]) -> sa.TextClause:
    statement = sa.text(sql)
    lists: list[sa.BindParameter[Any]] = [sa.bindparam(name, expanding=True) for name, value in params.items()
             if isinstance(value, list | tuple) and re.search(rf"(?<!:):{name}\b", sql)]
    return statement.bindparams(*lists) if lists else statement


def _table(name: str, columns: Mapping[str, Any]) -> sa.TableClause:
    return sa.table(name, *(sa.column(column) for column in columns))


def _equal(table: sa.TableClause, where: Mapping[str, Any]) -> list[sa.ColumnElement[bool]]:
    return [table.c[column] == value for column, value in where.items()]
