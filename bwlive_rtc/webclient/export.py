"""The web client as static files, for an organisation to host on an origin it controls
(docs/EMBEDDING.md, "Hosting the player yourself" and "Hosting the console yourself";
docs/SECURITY.md): a page loaded from there runs key-handling code the bwlive server
cannot change, the decrypting worker included, while it talks to the bwlive API across
origins with bearer tokens (the player's viewer tokens, the console's session tokens)."""
from __future__ import annotations

import json
import shutil
from html import escape
from pathlib import Path

from .player import VERSION, PlayerRelease, player_release

RELEASE_FILE = "release.json"
CONSOLE_PAGES = "web"  # the console's pages and modules, as the server serves them under /web/
API_META = '<meta name="bwlive-api" content="{}">'  # read by web/api.js
CHARSET = '<meta charset="utf-8">'


def _empty(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"{out} is not an empty directory: export into a new one")


def _write_release(release: PlayerRelease, path: Path) -> None:
    path.write_text(json.dumps({
        "version": VERSION,
        "module": release.entry,
        "integrity": release.modules[release.entry],
        "imports": release.modules,
    }, indent=2) + "\n")


def export_player(web_dir: Path, out: Path) -> PlayerRelease:
    """Copy every file the player loads into ``out`` (a new or empty directory), in the
    layout of ``/web/``, with ``release.json``: the entry and each module's SRI hash."""
    _empty(out)
    release = player_release(web_dir)
    for name in release.files:
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(web_dir / name, target)
    _write_release(release, out / RELEASE_FILE)
    return release


def export_console(web_dir: Path, out: Path, api: str) -> list[str]:
    """Copy the whole web client, console and player, into ``out`` (a new or empty
    directory) in the server's layout: the console at ``index.html``, every file under
    ``web/``, each page naming the bwlive server ``api`` (an origin) it talks to, and the
    player's ``web/release.json``. Returns the files written, by path under ``out``."""
    _empty(out)
    meta = API_META.format(escape(api, quote=True))
    written = []
    for source in sorted(web_dir.rglob("*")):
        name = source.relative_to(web_dir)
        if source.is_dir() or source.suffix == ".py" or "__pycache__" in name.parts:
            continue
        target = out / CONSOLE_PAGES / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.suffix == ".html":
            page = source.read_text(encoding="utf-8")
            if CHARSET not in page:
                raise ValueError(f"{name} has no {CHARSET} to put the server's address after")
            target.write_text(page.replace(CHARSET, f"{CHARSET}\n  {meta}", 1), encoding="utf-8")
        else:
            shutil.copyfile(source, target)
        written.append(f"{CONSOLE_PAGES}/{name}")
    shutil.copyfile(out / CONSOLE_PAGES / "index.html", out / "index.html")
    _write_release(player_release(web_dir), out / CONSOLE_PAGES / RELEASE_FILE)
    return ["index.html", *written, f"{CONSOLE_PAGES}/{RELEASE_FILE}"]
