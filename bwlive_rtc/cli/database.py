"""``bwlive database copy``: move an installation's metadata into another database (its
SQLite file into PostgreSQL, for a cluster; docs/DEPLOYMENT.md). Run it with the server
stopped."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_commands(commands: argparse._SubParsersAction) -> None:
    database = commands.add_parser("database", help="the metadata database")
    actions = database.add_subparsers(dest="database_command", required=True)
    copy = actions.add_parser("copy", help="copy every table into a new, empty database (stop the server first)")
    copy.add_argument("--from", dest="source", required=True, metavar="FILE_OR_URL",
                      help="the database to copy: a SQLite file (DATA-DIR/bwlive.sqlite) or a URL")
    copy.add_argument("--to", dest="target", required=True, metavar="URL",
                      help="the empty database to fill: postgresql://USER@HOST/NAME")
    copy.set_defaults(run=_copy)


def _location(text: str) -> str | Path:
    return text if "://" in text else Path(text)


def _copy(args: argparse.Namespace) -> int:
    from ..storage.copy import copy_database

    source = _location(args.source)
    if isinstance(source, Path) and not source.is_file():
        raise FileNotFoundError(f"there is no database file at {source}")
    copied = copy_database(source, _location(args.target))
    for table, rows in copied.items():
        print(f"{table}: {rows} rows")
    print(f"copied {sum(copied.values())} rows of {len(copied)} tables; start the servers with --database on the new one")
    return 0
