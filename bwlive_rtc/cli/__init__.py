"""``bwlive`` command line: serve, demo, camera stream, system keys."""
from __future__ import annotations

import argparse
import asyncio
import inspect
import logging
import sys

from . import admin, apikeys, camera, database, evidence, fleet, license, serve, system, webclient

# each adds its commands, in --help's order
AREAS = (serve, fleet, camera, license, admin, system, apikeys, webclient, evidence, database)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bwlive", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)
    for area in AREAS:
        area.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("aioice").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        result = args.run(args)  # an exit code, or a coroutine for the commands that run on the event loop
        code: int = asyncio.run(result) if inspect.iscoroutine(result) else result
        return code
    except KeyboardInterrupt:
        return 130
    except (FileNotFoundError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
