"""``bwlive webclient export``: the player's files as served, with their SRI hashes, into
a new directory only."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bwlive_rtc.webclient.player import integrity
from bwlive_rtc.webclient.routes import WEB_DIR


def _export(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bwlive_rtc", "webclient", "export", str(directory)],
                          capture_output=True, text=True, timeout=60)


def test_the_export_is_the_served_files_with_their_hashes(tmp_path: Path) -> None:
    done = _export(tmp_path / "player")
    assert done.returncode == 0, done.stderr
    release = json.loads((tmp_path / "player" / "release.json").read_text())
    assert release["module"] == "player/v1/bwlive-player.js" and release["integrity"] == release["imports"][release["module"]]
    assert {"e2ee-worker.js", "tile.js", "whep.js"} <= set(release["imports"])
    for path, value in release["imports"].items():
        exported = (tmp_path / "player" / path).read_bytes()
        assert exported == (WEB_DIR / path).read_bytes() and integrity(exported) == value, path
    assert (tmp_path / "player" / "tile.css").read_bytes() == (WEB_DIR / "tile.css").read_bytes()
    assert not (tmp_path / "player" / "index.html").exists()  # the player only, not the console


def test_an_export_never_writes_over_a_directory_with_files(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("the integrator's own page")
    done = _export(tmp_path / "site")
    assert done.returncode == 2 and "is not an empty directory" in done.stderr and "Traceback" not in done.stderr
    assert [p.name for p in (tmp_path / "site").iterdir()] == ["index.html"]
