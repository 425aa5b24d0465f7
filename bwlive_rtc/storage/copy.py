"""Moving an installation's metadata to another database (``bwlive database copy``, e.g.
its SQLite file into PostgreSQL for a cluster): both brought to the latest schema, then
every table's rows as they are, tables in the order of their foreign keys, in one
transaction on the target, which must be empty. PostgreSQL's counters of integer keys
(the audit log's ids, …) continue after the copied rows."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from . import schema
from .sql import POSTGRESQL, create_engine, url_of

BATCH = 1000  # rows read and written at a time


class CopyRefused(ValueError):
    """The copy would mix data or overwrite it: nothing was written."""


def copy_database(source: str | Path, target: str | Path) -> dict[str, int]:
    """Copy every table of ``source`` into the empty ``target``; the rows copied per table."""
    if url_of(source).render_as_string(hide_password=False) == url_of(target).render_as_string(hide_password=False):
        raise CopyRefused("the source and the target are the same database")
    schema.upgrade(source)
    schema.upgrade(target)
    reader, writer = create_engine(source), create_engine(target)
    try:
        tables = [table for table in _tables(writer) if table.name != "alembic_version"]
        copied: dict[str, int] = {}
        with reader.connect() as reading, writer.begin() as writing:
            full = [table.name for table in tables
                    if writing.execute(sa.select(sa.func.count()).select_from(table)).scalar()]
            if full:
                raise CopyRefused(f"the target database is not empty (rows in {', '.join(full)}): "
                                  "copy into a new, empty database")
            for table in tables:
                copied[table.name] = _copy_table(reading, writing, table)
                if writer.dialect.name == POSTGRESQL:
                    _continue_counter(writing, table)
        return copied
    finally:
        reader.dispose()
        writer.dispose()


def _tables(engine: sa.Engine) -> list[sa.Table]:
    metadata = sa.MetaData()
    metadata.reflect(engine)
    return list(metadata.sorted_tables)


def _copy_table(reading: sa.Connection, writing: sa.Connection, table: sa.Table) -> int:
    columns: list[sa.ColumnClause[object]] = [sa.column(column.name) for column in table.columns]
    result = reading.execution_options(stream_results=True).execute(sa.select(*columns).select_from(sa.table(table.name)))
    count = 0
    for batch in result.mappings().partitions(BATCH):
        writing.execute(table.insert(), [dict(row) for row in batch])
        count += len(batch)
    return count


def _continue_counter(writing: sa.Connection, table: sa.Table) -> None:
    """A table keyed by a PostgreSQL serial: its sequence goes on after the largest key."""
    keys = list(table.primary_key.columns)
    if len(keys) != 1 or not isinstance(keys[0].type, sa.Integer):
        return
    key = keys[0].name
    sequence = writing.execute(sa.text("SELECT pg_get_serial_sequence(:table, :column)"),
                               {"table": table.name, "column": key}).scalar()
    if sequence is not None:
        writing.execute(sa.text(f'SELECT setval(:sequence, coalesce((SELECT max("{key}") FROM "{table.name}"), 0) + 1, '
                                "false)"), {"sequence": sequence})
