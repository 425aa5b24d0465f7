"""``bwlive webclient export``: the embedded player, or the whole web client with the
console, as static files for an organisation's own origin (docs/EMBEDDING.md, "Hosting
the player yourself" and "Hosting the console yourself")."""
from __future__ import annotations

import argparse
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from ..kernel.requests import Origin


def _origin(value: str) -> str:
    try:
        return TypeAdapter(Origin).validate_python(value)
    except ValidationError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an origin such as https://bwlive.example.org "
                                         "(scheme, lower-case host, port; no path)") from None


def add_commands(commands: argparse._SubParsersAction) -> None:
    webclient = commands.add_parser("webclient", help="the web client as static files to host yourself")
    actions = webclient.add_subparsers(dest="webclient_command", required=True)
    export = actions.add_parser("export", help="write <bwlive-player> and every file it loads (with --console: the "
                                               "whole web client) into a new directory")
    export.add_argument("directory", type=Path, help="a new or empty directory")
    export.add_argument("--console", metavar="API_ORIGIN", type=_origin,
                        help="also the console, whose pages talk to the bwlive server at this origin (an admin adds "
                             "the origin the files are served from as a console origin of the organisation)")
    export.set_defaults(run=_export)


def _export(args: argparse.Namespace) -> int:
    from ..webclient.export import RELEASE_FILE, export_console, export_player
    from ..webclient.routes import WEB_DIR

    if args.console:
        written = export_console(WEB_DIR, args.directory, args.console)
        print(f"{len(written)} files written to {args.directory}: serve it as the root of your console's origin")
        print(f"its pages talk to {args.console}; the player's integrity: "
              f"{args.directory / 'web' / RELEASE_FILE}")
        return 0
    release = export_player(WEB_DIR, args.directory)
    print(f"{len(release.files)} files written to {args.directory}")
    print(f"entry: {release.entry}  integrity: {release.modules[release.entry]}")
    print(f"every module's integrity (for an import map): {args.directory / RELEASE_FILE}")
    return 0
