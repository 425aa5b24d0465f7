"""The server's life as an operator runs it: one server per data directory, streams ended
(with their webhooks) when it stops or after a crash, a quick stop with viewers attached,
and plain errors for a bad or taken port."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from bwlive_rtc.crypto.system_key import SystemKeyPair
from tests.processes import Camera, Process, Server


def _recorded_ms(server: Server) -> tuple[str, int]:
    [recording] = server.get_json("/api/recordings")["recordings"]
    detail = server.get_json(f"/api/recordings/{recording['id']}")
    return recording["state"], detail["duration_ms"]


def _grows(server: Server, timeout: float = 15.0) -> bool:
    state, before = _recorded_ms(server)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.5)
        state, now = _recorded_ms(server)
        if state == "recording" and now > before:
            return True
    return False


def test_a_second_serve_on_the_same_data_dir_is_refused_and_the_first_keeps_recording(
    tmp_path: Path, system_keys: SystemKeyPair,
) -> None:
    system_keys.save(tmp_path / "keys")
    server = Server(tmp_path, tmp_path / "keys")
    camera = Camera(tmp_path, server.url, tmp_path / "keys", "Lock Test")
    try:
        camera.wait_for("streaming")
        server.wait_for_stream("Lock Test")
        time.sleep(4)  # a segment or two stored
        assert _grows(server)
        port = server.url.rsplit(":", 1)[1]
        second = Process(["serve", "--port", port, "--keys-dir", str(tmp_path / "keys"),
                          "--data-dir", str(server.data_dir)], cwd=tmp_path)
        started = time.monotonic()
        code = second.proc.wait(15)
        second._reader.join(2)
        assert code != 0 and time.monotonic() - started < 10, second.output
        assert str(server.data_dir) in second.output and f"pid {server.proc.pid}" in second.output, second.output
        assert "Traceback" not in second.output, second.output
        # The first server did not notice: its stream is live and its recording grows.
        assert [s["camera"] for s in server.get_json("/api/streams")["streams"]] == ["Lock Test"]
        assert _grows(server), server.output
        # Admin commands still work beside the running server (no lock for them).
        listed = subprocess.run([sys.executable, "-m", "bwlive_rtc", "fleet", "list", "--data-dir", str(server.data_dir)],
                                cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert listed.returncode == 0 and "Lock Test" in listed.stdout, listed.stderr
    finally:
        camera.stop()
        server.stop()
