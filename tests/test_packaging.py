"""A wheel built with ``pip wheel .`` and installed into a fresh virtual environment serves
every page of the web client (the pages are package data, not the checkout's files)."""
from __future__ import annotations

import re
import subprocess
import sys
import urllib.request
from pathlib import Path

from bwlive_rtc.crypto.system_key import SystemKeyPair
from tests.processes import LISTENING, Process

ROOT = Path(__file__).resolve().parents[1]


def _fetch(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def test_wheel_in_a_fresh_venv_serves_every_page(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "-w", str(tmp_path / "dist"), str(ROOT)], check=True)
    wheel = next((tmp_path / "dist").glob("bwlive-*.whl"))
    venv = tmp_path / "venv"
    # the dependencies come from this interpreter's site-packages; bwlive itself from the wheel
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)
    where = subprocess.run([str(python), "-c", "import bwlive_rtc.webclient.routes as r; print(r.WEB_DIR)"],
                           cwd=tmp_path, check=True, capture_output=True, text=True).stdout.strip()
    assert where.startswith(str(venv)), f"the page files come from {where}, not from the wheel"

    SystemKeyPair.generate().save(tmp_path / "keys")
    server = Process(["serve", "--port", "0", "--data-dir", str(tmp_path / "data"), "--keys-dir",
                      str(tmp_path / "keys")], cwd=tmp_path, python=str(python))
    try:
        base = server.wait_for(LISTENING).group(1)
        pages = sorted(p.name for p in (ROOT / "web").glob("*.html"))
        assert "index.html" in pages and len(pages) >= 5
        for page in pages:
            status, body = _fetch(f"{base}/web/{page}")
            assert status == 200 and b"<html" in body.lower(), page
            for module in re.findall(rb'src="/web/([\w./-]+\.js)"', body):
                assert _fetch(f"{base}/web/{module.decode()}")[0] == 200, module
        status, body = _fetch(f"{base}/")
        assert status == 200 and body == (ROOT / "web" / "index.html").read_bytes()
        assert _fetch(f"{base}/web/vendor/leaflet/leaflet.js")[0] == 200
    finally:
        server.stop()
