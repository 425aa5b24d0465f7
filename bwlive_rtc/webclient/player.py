"""The embedded player's module and its Subresource Integrity (docs/EMBEDDING.md).

``<bwlive-player>`` is one ES module, ``/web/player/v1/bwlive-player.js``, which imports
the console's own modules. ``GET /api/player`` publishes the sha384 SRI hash of the
entry (for the page's ``<script integrity>``) and of every module it loads, the
decrypting worker's included (for an import map's ``integrity``, so that the whole graph
is pinned), computed from the bytes this server serves."""
from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath

VERSION = "v1"
ENTRY = f"player/{VERSION}/bwlive-player.js"
STATIC_PATH = "/web/"
# `import … from './x.js'`, `import './x.js'`, `new URL('./x.js', import.meta.url)` (the
# worker; a style sheet, `.css`, is an asset: it goes with the player, outside the import map)
_REFERENCES = re.compile(r"""(?:\bfrom\s+|^import\s+|new URL\(\s*)'(\.{1,2}/[^']+\.(?:js|css))'""", re.MULTILINE)


def integrity(data: bytes) -> str:
    """The SRI form of a sha384 digest (W3C Subresource Integrity)."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


@dataclass(frozen=True)
class PlayerRelease:
    """The player's entry module, the SRI of every module of its graph and the other files
    it loads (style sheets), by path under ``/web/``."""

    entry: str
    modules: dict[str, str]
    assets: tuple[str, ...]

    @property
    def files(self) -> list[str]:
        """Every file the player loads, modules and assets."""
        return sorted([*self.modules, *self.assets])

    def published(self, base: str) -> dict[str, object]:
        """What ``GET /api/player`` answers: absolute URLs under ``base``."""
        url = f"{base}{STATIC_PATH}"
        return {
            "version": VERSION,
            "module": url + self.entry,
            "integrity": self.modules[self.entry],
            "imports": {url + path: value for path, value in sorted(self.modules.items())},
        }


@cache
def player_release(web_dir: Path) -> PlayerRelease:
    """The graph of the entry's static imports and worker, read once (the files are the package's)."""
    modules: dict[str, str] = {}
    assets: set[str] = set()
    pending = [PurePosixPath(ENTRY)]
    while pending:
        path = pending.pop()
        if path.suffix != ".js":
            assets.add(str(path))
            continue
        if str(path) in modules:
            continue
        source = (web_dir / path).read_bytes()
        modules[str(path)] = integrity(source)
        for reference in _REFERENCES.findall(source.decode("utf-8")):
            pending.append(_resolve(path.parent, reference))
    return PlayerRelease(ENTRY, modules, tuple(sorted(assets)))


def _resolve(folder: PurePosixPath, reference: str) -> PurePosixPath:
    parts = list(folder.parts)
    for part in PurePosixPath(reference).parts:
        if part == "..":
            parts.pop()
        elif part != ".":
            parts.append(part)
    return PurePosixPath(*parts)
