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


def test_the_console_export_is_the_whole_web_client_naming_its_server(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "bwlive_rtc", "webclient", "export", str(tmp_path / "site"),
                           "--console", "https://bwlive.example.org"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    site = tmp_path / "site"
    meta = '<meta name="bwlive-api" content="https://bwlive.example.org">'
    served = {path.relative_to(WEB_DIR) for path in WEB_DIR.rglob("*")
              if path.is_file() and path.suffix != ".py" and "__pycache__" not in path.parts}
    assert {path.relative_to(site / "web") for path in (site / "web").rglob("*") if path.is_file()} == served | {
        Path("release.json")}
    for name in served:
        exported = (site / "web" / name).read_bytes()
        if name.suffix == ".html":  # each page names the server, and is otherwise the same
            assert exported.decode().count(meta) == 1, name
            assert exported.decode().replace(f"\n  {meta}", "") == (WEB_DIR / name).read_text(), name
        else:
            assert exported == (WEB_DIR / name).read_bytes(), name
    assert (site / "index.html").read_bytes() == (site / "web" / "index.html").read_bytes()
    release = json.loads((site / "web" / "release.json").read_text())
    assert all(integrity((site / "web" / path).read_bytes()) == value for path, value in release["imports"].items())

    for wrong in ("https://bwlive.example.org/api", "bwlive.example.org", "https://BWLIVE.example.org"):
        refused = subprocess.run([sys.executable, "-m", "bwlive_rtc", "webclient", "export", str(tmp_path / "other"),
                                  "--console", wrong], capture_output=True, text=True, timeout=60)
        assert refused.returncode == 2 and "is not an origin" in refused.stderr and "Traceback" not in refused.stderr
        assert not (tmp_path / "other").exists()
