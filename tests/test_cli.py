"""The commands as a person runs them: keys, the demo, a camera refused, a file source."""
from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import urllib.request
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from bwlive_rtc.crypto.link import parse_link
from bwlive_rtc.crypto.system_key import SystemKeyPair, SystemPublicKey
from bwlive_rtc.crypto.system_signing import SigningPublicKey
from bwlive_rtc.kernel.tokens import new_id
from bwlive_rtc.sfu import router
from tests.postgres import DATABASES
from tests.processes import Camera, Process, dock_camera, sign_in_cookie


def bwlive(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bwlive_rtc", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL)


def test_keys_generate_and_show(tmp_path: Path) -> None:
    result = bwlive("system", "keys", "generate", "--base-url", "https://soc.example:8443", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    thumbprint = re.search(r"^thumbprint: ([0-9A-F ]+)", result.stdout, re.M).group(1).strip()
    link = re.search(r"(https://soc\.example:8443/#key=\S+)", result.stdout).group(1)
    public = SystemPublicKey.load(tmp_path / "keys")
    assert thumbprint == public.thumbprint
    assert SystemKeyPair.from_link(link).public.key_id == public.key_id
    again = bwlive("system", "keys", "generate", cwd=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr
    shown = bwlive("system", "keys", "show", cwd=tmp_path)
    assert f"thumbprint: {thumbprint}" in shown.stdout
    missing = bwlive("system", "keys", "show", "--keys-dir", "nowhere", cwd=tmp_path)
    assert missing.returncode == 2 and "bwlive system keys generate" in missing.stderr


def test_demo_shows_three_live_cameras(tmp_path: Path) -> None:
    demo = Process(["demo", "--port", "0"], cwd=tmp_path)
    try:
        # keys made and cameras docked by child processes first (the server never loads the signing key)
        link = demo.wait_for(r"(http://127\.0\.0\.1:\d+/#key=\S+)", timeout=60).group(1)
        base = link.split("/#")[0]
        for camera in ("Alex Jansen", "Sam de Vries", "Robin Bakker"):
            demo.wait_for(rf"\[{camera}\] .* streaming", timeout=30)
        email, password = demo.wait_for(r"sign in as (\S+) with password (\S+)").groups()
        request = urllib.request.Request(base + "/api/streams", headers={"Cookie": sign_in_cookie(base, email, password)})
        with urllib.request.urlopen(request, timeout=5) as response:
            streams = json.load(response)["streams"]
        assert sorted(s["camera"] for s in streams) == ["Alex Jansen", "Robin Bakker", "Sam de Vries"]
        assert SystemKeyPair.from_link(link).public.key_id == streams[0]["key_envelope"]["kid"]
        assert parse_link(link).signing_key == SigningPublicKey.load(tmp_path / "keys").raw
    finally:
        assert demo.stop() == 0
    assert (tmp_path / "bwlive-data" / "bwlive.sqlite").exists() == (DATABASES is None)


def _stream_with(tmp_path: Path, server_url: str, dock_file: Path) -> Process:
    return Process(["camera", "stream", "--server", server_url, "--dock-file", str(dock_file)], cwd=tmp_path)


def test_camera_with_a_stale_key_is_refused_with_the_reason(server, tmp_path: Path) -> None:
    dock_file = dock_camera(server.data_dir, "Stale Key", tmp_path / "dock.json")
    docked = json.loads(dock_file.read_text())
    docked["public_key"] = SystemKeyPair.generate().public.pem().decode()  # e.g. from before a key change
    dock_file.write_text(json.dumps(docked))
    camera = _stream_with(tmp_path, server.url, dock_file)
    camera.wait_for(r"error: server refused the stream \(400\): .*not this camera's system key: dock the camera")
    assert camera.proc.wait(10) == 1


def test_camera_unreachable_server(server, tmp_path: Path) -> None:
    camera = _stream_with(tmp_path, "http://127.0.0.1:9", dock_camera(server.data_dir, "Nowhere", tmp_path / "dock.json"))
    camera.wait_for(r"error: cannot reach http://127\.0\.0\.1:9")
    assert camera.proc.wait(10) == 1


def test_dock_and_fleet_commands(server, tmp_path: Path) -> None:
    added = bwlive("fleet", "add-camera", "--data-dir", str(server.data_dir), "--serial", "BW-100",
                   "--user", "Mia Jong", "--profile", "Office", "--no-streaming", cwd=tmp_path)
    assert added.returncode == 0 and "streaming off" in added.stdout, added.stderr
    again = bwlive("fleet", "add-camera", "--data-dir", str(server.data_dir), "--serial", "BW-100", "--user", "X", cwd=tmp_path)
    assert again.returncode == 2 and "exists already" in again.stderr
    keys = ("--keys-dir", str(server.data_dir.parent / "keys"))
    docked = bwlive("camera", "dock", "--data-dir", str(server.data_dir), *keys, "--serial", "BW-100",
                    "--out", str(tmp_path / "bw100.json"), cwd=tmp_path)
    assert docked.returncode == 0, docked.stderr
    package = json.loads((tmp_path / "bw100.json").read_text())
    assert package["camera_user"] == "Mia Jong" and package["profile"]["streaming"] is False
    assert package["thumbprint"] in docked.stdout
    for command, stdin in ((("set-profile", "--profile", "Office", "--location", "off"), None),
                           (("add-network", "--ssid", "Office-WLAN", "--password-stdin", "--profile", "Office"), "pw\n"),
                           (("add-network", "--ssid", "Mia-Phone", "--password-stdin", "--user", "Mia Jong"), "pw2\n")):
        done = bwlive("fleet", *command, "--data-dir", str(server.data_dir), cwd=tmp_path, stdin=stdin)
        assert done.returncode == 0, done.stderr
        assert "pw" not in done.stdout + done.stderr
    listed = bwlive("fleet", "list", "--data-dir", str(server.data_dir), cwd=tmp_path).stdout
    assert "profile Office: streaming off, location off" in listed
    assert "camera BW-100 (bwlive simulated camera): Mia Jong, last docked" in listed
    assert "network Mia-Phone: camera user Mia Jong" in listed
    redocked = bwlive("camera", "dock", "--data-dir", str(server.data_dir), *keys, "--serial", "BW-100",
                      "--out", str(tmp_path / "bw100b.json"), cwd=tmp_path)
    networks = json.loads((tmp_path / "bw100b.json").read_text())["networks"]
    assert networks == [{"ssid": "Mia-Phone", "password": "pw2"}], redocked.stderr
    unknown = bwlive("camera", "dock", "--data-dir", str(server.data_dir), *keys, "--serial", "NOPE",
                     "--out", str(tmp_path / "x.json"), cwd=tmp_path)
    assert unknown.returncode == 1 and "unknown camera NOPE" in unknown.stderr
    camera = _stream_with(tmp_path, server.url, tmp_path / "bw100.json")
    camera.wait_for(r"error: server refused the stream \(403\): streaming is off in profile Office of camera user Mia Jong")
    assert camera.proc.wait(10) == 1


def _write_clip(path: Path, frames: int = 30) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libvpx", rate=30)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for i in range(frames):
            image = np.full((240, 320, 3), (i * 8) % 256, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 30)
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


def test_camera_streams_a_video_file(server, tmp_path: Path) -> None:
    clip = tmp_path / "clip.webm"
    _write_clip(clip)
    camera = Camera(tmp_path, server.url, server.data_dir.parent / "keys", "File Camera", "--file", str(clip), "--no-audio")
    camera.wait_for("streaming")
    stream = server.wait_for_stream("File Camera")
    assert stream["key_envelope"]["kid"]
    assert camera.stop() == 0


def test_wifi_password_is_not_taken_from_the_command_line_silently(server, tmp_path: Path) -> None:
    data = ("--data-dir", str(server.data_dir))
    made = bwlive("fleet", "add-camera", "--serial", "BW-200", "--user", "Wi Fi", "--profile", "Streaming", *data,
                  cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    asked = bwlive("fleet", "add-network", "--ssid", "No-Password", "--profile", "Streaming", *data, cwd=tmp_path)
    assert asked.returncode == 2 and "--password-stdin" in asked.stderr, asked.stderr  # no terminal to ask on
    legacy = bwlive("fleet", "add-network", "--ssid", "Legacy", "--password", "pw3", "--profile", "Streaming", *data,
                    cwd=tmp_path)
    assert legacy.returncode == 0 and "warning: --password leaves the Wi-Fi password in your shell history" in legacy.stderr
    listed = bwlive("fleet", "list", *data, cwd=tmp_path).stdout
    assert "network Legacy" in listed and "network No-Password" not in listed


def test_serve_port_errors_are_one_line(tmp_path: Path) -> None:
    bad = bwlive("serve", "--port", "70000", "--data-dir", str(tmp_path / "data"), cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr, bad.stderr
    assert "argument --port: 70000 is not a port number (0-65535)" in bad.stderr
    assert not (tmp_path / "data").exists()
    SystemKeyPair.generate().save(tmp_path / "keys")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = bwlive("serve", "--port", str(port), "--keys-dir", str(tmp_path / "keys"),
                      "--data-dir", str(tmp_path / "data"), cwd=tmp_path)
    assert busy.returncode == 2 and "Traceback" not in busy.stderr, busy.stderr
    assert f"error: port {port} is in use (another bwlive serve?): choose another with --port" in busy.stderr


def test_ids_a_command_line_is_given_never_read_as_an_option() -> None:
    """A stream (recording) id is typed after ``bwlive evidence export``: one starting with
    '-' was taken for an option (CI saw it, one id in 64). Streams and viewers take their
    ids from ``new_id``, whose ids are letters and digits only."""
    assert "new_id()" in Path(router.__file__).read_text() and "token_urlsafe" not in Path(router.__file__).read_text()
    ids = {new_id() for _ in range(2000)}
    assert len(ids) == 2000 and all(re.fullmatch(r"[A-Za-z0-9]{12}", each) for each in ids)
