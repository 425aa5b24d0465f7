"""The embedded player as static files, for an organisation to host on an origin it
controls (docs/EMBEDDING.md, "Hosting the player yourself"; docs/SECURITY.md): a page that
loads the player from there runs key-handling code the bwlive server cannot change, the
decrypting worker included, while it talks to the bwlive API across origins with viewer
tokens as before."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from .player import VERSION, PlayerRelease, player_release

RELEASE_FILE = "release.json"


def export_player(web_dir: Path, out: Path) -> PlayerRelease:
    """Copy every file the player loads into ``out`` (a new or empty directory), in the
    layout of ``/web/``, with ``release.json``: the entry and each module's SRI hash."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} is not an empty directory: export into a new one")
    release = player_release(web_dir)
    for name in release.files:
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(web_dir / name, target)
    (out / RELEASE_FILE).write_text(json.dumps({
        "version": VERSION,
        "module": release.entry,
        "integrity": release.modules[release.entry],
        "imports": release.modules,
    }, indent=2) + "\n")
    return release
