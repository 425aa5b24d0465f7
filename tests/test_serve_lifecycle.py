"""The server's life as an operator runs it: one server per data directory, streams ended
(with their webhooks) when it stops or after a crash, a quick stop with viewers attached,
and plain errors for a bad or taken port."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

from aiohttp import WSMsgType

from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.storage.database import Database
from bwlive_rtc.viewer.client import HeadlessViewer
from bwlive_rtc.viewer.session import ApiClient
from tests.postgres import database_of
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Camera, Process, Server
from tests.test_integrations import SECRET, Receiver, api_call, receiver, until  # noqa: F401


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


async def _started_stream(tmp_path: Path, api: ApiClient, server: Server, receiver: Receiver, name: str) -> tuple[Camera, dict]:
    """An integration to ``receiver``, then a camera streaming and its stream.started delivered."""
    await api_call(api, "POST", "/api/integrations", {"url": receiver.url, "secret": SECRET}, expect=201)
    camera = await asyncio.to_thread(Camera, tmp_path, server.url, tmp_path / "keys", name)
    await asyncio.to_thread(camera.wait_for, "streaming")
    stream = await asyncio.to_thread(server.wait_for_stream, name)
    await until(lambda: _event(receiver, "stream.started", stream["id"]), timeout=20)
    return camera, stream


async def _event(receiver: Receiver, event_type: str, stream_id: str) -> dict | None:
    return next((e for e in receiver.events() if e["type"] == event_type and e["stream_id"] == stream_id), None)


def _stream_row(data_dir: Path, stream_id: str) -> dict:
    database = Database(Settings(data_dir=data_dir, database_url=database_of(data_dir)).database)
    try:
        return database.stream(stream_id)
    finally:
        database.close()


async def test_sigterm_with_viewers_ends_live_streams_announces_them_and_exits_quickly(
    tmp_path: Path, system_keys: SystemKeyPair, receiver: Receiver,
) -> None:
    system_keys.save(tmp_path / "keys")
    server = await asyncio.to_thread(Server, tmp_path, tmp_path / "keys", "--allow-private-integration-targets")
    api = await ApiClient.signed_in(server.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    camera, viewers = None, []
    try:
        camera, stream = await _started_stream(tmp_path, api, server, receiver, "Shutdown Test")
        frames = [0, 0]
        for i in range(2):
            def counted(_frame: object, i: int = i) -> None:
                frames[i] += 1
            viewer = HeadlessViewer(api, stream["id"], on_video_frame=counted)
            viewers.append(viewer)
            await viewer.start()
        await until(lambda: _all_positive(frames), timeout=20)
        socket = await api.http.ws_connect(server.url.replace("http", "ws", 1) + "/api/streams/ws")
        assert (await socket.receive_json(timeout=5))["type"] == "streams"

        stopping = time.monotonic()
        server.proc.terminate()  # SIGTERM, as Ctrl+C's SIGINT
        closed = await socket.receive(timeout=10)
        told_after = time.monotonic() - stopping
        code = await asyncio.to_thread(server.proc.wait, 20)
        took = time.monotonic() - stopping
        assert closed.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING), closed
        assert told_after < 2, f"the stream list was closed only after {told_after:.1f} s"
        assert code == 0 and took < 5, f"the server took {took:.1f} s to stop (exit code {code}):\n{server.output}"
        assert await _event(receiver, "stream.ended", stream["id"]), receiver.events()
        assert _stream_row(server.data_dir, stream["id"])["ended_at"] is not None
    finally:
        for viewer in viewers:
            await viewer.pc.close()
        await api.close()
        if camera is not None:
            await asyncio.to_thread(camera.stop)
        await asyncio.to_thread(server.stop)


async def _all_positive(counts: list[int]) -> bool:
    return all(counts)


async def test_streams_a_crash_left_open_are_announced_as_ended_at_the_next_start(
    tmp_path: Path, system_keys: SystemKeyPair, receiver: Receiver,
) -> None:
    system_keys.save(tmp_path / "keys")
    server = await asyncio.to_thread(Server, tmp_path, tmp_path / "keys", "--allow-private-integration-targets")
    api = await ApiClient.signed_in(server.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    camera = None
    try:
        camera, stream = await _started_stream(tmp_path, api, server, receiver, "Crash Test")
        server.proc.kill()  # SIGKILL: no clean-up of any kind
        await asyncio.to_thread(server.proc.wait)
        await asyncio.to_thread(camera.stop)
        assert not await _event(receiver, "stream.ended", stream["id"])
        assert _stream_row(server.data_dir, stream["id"])["ended_at"] is None
        await asyncio.to_thread(server.restart)
        ended = await until(lambda: _event(receiver, "stream.ended", stream["id"]), timeout=20)
        assert ended["camera"] == "Crash Test"
        assert _stream_row(server.data_dir, stream["id"])["ended_at"] is not None
        assert [e["type"] for e in receiver.events()].count("stream.ended") == 1
    finally:
        await api.close()
        if camera is not None:
            await asyncio.to_thread(camera.stop)
        await asyncio.to_thread(server.stop)
