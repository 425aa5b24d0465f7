"""A wheel built with ``pip wheel .`` and installed into a fresh virtual environment runs
the demo and serves every page of the web client (the pages and the migrations are package
data, not the checkout's files)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.processes import Process

ROOT = Path(__file__).resolve().parents[1]


def _fetch(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def _demo_camera_streams(base: str, email: str, password: str) -> bool:
    """The demo's camera shows in the signed-in admin's live list within 30 s."""
    request = urllib.request.Request(f"{base}/api/session", data=json.dumps({"email": email, "password": password}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        cookie = response.headers["Set-Cookie"].split(";")[0]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with urllib.request.urlopen(urllib.request.Request(f"{base}/api/streams", headers={"Cookie": cookie}),
                                    timeout=10) as response:
            if json.load(response)["streams"]:
                return True
        time.sleep(0.5)
    return False


def test_wheel_in_a_fresh_venv_runs_the_demo_and_serves_every_page(tmp_path: Path) -> None:
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

    server = Process(["demo", "--port", "0", "--cameras", "1"], cwd=tmp_path, python=str(python))
    try:
        base = server.wait_for(r"bwlive demo: server on (http\S+)", timeout=60).group(1)
        email, password = server.wait_for(r"sign in as (\S+) with password (\S+)", timeout=30).groups()
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
        release = json.loads(_fetch(f"{base}/api/player")[1])  # the embedded player and every module it loads
        assert all(_fetch(url)[0] == 200 for url in release["imports"]), release["imports"]
        assert _demo_camera_streams(base, email, password)
    finally:
        server.stop()
