"""``bwlive webclient export``: the embedded player as static files for an organisation's
own origin (docs/EMBEDDING.md, "Hosting the player yourself")."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_commands(commands: argparse._SubParsersAction) -> None:
    webclient = commands.add_parser("webclient", help="the web client as static files to host yourself")
    actions = webclient.add_subparsers(dest="webclient_command", required=True)
    export = actions.add_parser("export", help="write <bwlive-player> and every file it loads into a new directory")
    export.add_argument("directory", type=Path, help="a new or empty directory")
    export.set_defaults(run=_export)


def _export(args: argparse.Namespace) -> int:
    from ..webclient.export import RELEASE_FILE, export_player
    from ..webclient.routes import WEB_DIR

    release = export_player(WEB_DIR, args.directory)
    print(f"{len(release.files)} files written to {args.directory}")
    print(f"entry: {release.entry}  integrity: {release.modules[release.entry]}")
    print(f"every module's integrity (for an import map): {args.directory / RELEASE_FILE}")
    return 0
