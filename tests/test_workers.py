"""``bwlive serve --workers N``: the SFU in media worker processes (workers/, media_worker.py).
Real processes throughout: the server with two workers, two camera agents, a decrypting
viewer; streams placed on different workers, acknowledgements reaching the camera through
its worker, the worker sockets closed to everyone but the front, recordings made in the
workers, and a worker killed while a camera streams."""
from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bwlive_rtc.cli.admin import bootstrap
from bwlive_rtc.crypto.acknowledgement import seal_acknowledgement, viewer_sender
from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.storage.database import Database
from bwlive_rtc.viewer.session import ApiClient
from bwlive_rtc.workers.pool import MediaWorkers
from bwlive_rtc.workers.wire import port_share
from tests.postgres import database_of
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Camera, Server
from tests.test_groups import invite
from tests.test_integrations import until
from tests.test_recordings import assert_in_order, fetch_recording, played_back, wait_for_recording
from tests.viewing import DecodingViewer

SYSTEM_PYTHON = "/usr/bin/python3"  # one that user nobody may run
OTHER_EMAIL, OTHER_PASSWORD = "oz@other.test", "another organisation's password"


@pytest.fixture(scope="module")
def keys(system_keys: SystemKeyPair) -> SystemKeyPair:
    return system_keys


@pytest.fixture(scope="module")
def two_workers(workdir: Path, keys: SystemKeyPair) -> Iterator[Server]:
    server = Server(workdir, workdir / "keys", "--workers", "2")
    yield server
    server.stop()


def _workers(server: Server) -> list[dict]:
    return server.get_json("/api/media-workers")["workers"]


def _holder(server: Server, stream_id: str) -> dict:
    [worker] = [w for w in _workers(server) if stream_id in w["streams"]]
    return worker


async def _frames(viewer: DecodingViewer, at_least: int = 10, timeout: float = 30) -> None:
    await until(lambda: _enough(viewer, at_least), timeout=timeout)


async def _enough(viewer: DecodingViewer, at_least: int) -> bool:
    return len(viewer.codes) >= at_least and viewer.audio_packets > 0


async def test_two_cameras_stream_through_two_workers(workdir: Path, keys: SystemKeyPair, two_workers: Server) -> None:
    server = two_workers
    workers = _workers(server)
    assert [w["index"] for w in workers] == [0, 1] and all(w["pid"] != server.proc.pid for w in workers)
    cameras = [Camera(workdir, server.url, workdir / "keys", name) for name in ("Wil Worker", "Wanda Worker")]
    admin = await ApiClient.signed_in(server.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    viewers: list[DecodingViewer] = []
    try:
        streams = [await asyncio.to_thread(server.wait_for_stream, camera.name, 60) for camera in cameras]
        holders = [_holder(server, stream["id"]) for stream in streams]
        assert {h["index"] for h in holders} == {0, 1}, holders  # each on its own worker
        # Another organisation's admin sees the workers but none of these streams.
        await asyncio.to_thread(_other_organisation, workdir, server)
        other = await ApiClient.signed_in(server.url, OTHER_EMAIL, OTHER_PASSWORD)
        try:
            async with other.request("GET", "/api/media-workers") as response:
                assert response.status == 200
                seen = (await response.json())["workers"]
            assert [w["index"] for w in seen] == [0, 1] and all(w["streams"] == [] for w in seen), seen
        finally:
            await other.close()
        for holder in holders:  # processes of their own
            assert await asyncio.to_thread(_alive, holder["pid"])
        for stream in streams:
            viewer = DecodingViewer(admin, stream, keys)
            viewers.append(viewer)
            await viewer.start()
        for viewer in viewers:
            await _frames(viewer)  # decrypted, decoded, the camera's own frame codes
        assert all(v.codes[-1][1] > v.codes[0][1] for v in viewers)

        # An acknowledgement reaches the camera through the worker that holds its stream.
        stream_key = KeyEnvelope.from_json(streams[1]["key_envelope"]).open(keys)
        sealed = seal_acknowledgement(viewer_sender(stream_key), int(time.time() * 1000))
        async with admin.request("POST", f"/api/streams/{streams[1]['id']}/acknowledge", json={"sealed": sealed}) as response:
            assert response.status == 200, await response.text()
        await asyncio.to_thread(cameras[1].wait_for, "acknowledged: by Ada Admin", 10)
        assert "acknowledged" not in cameras[0].output

        # A camera ending its stream (WHIP DELETE) ends it in its worker and in the list.
        cameras[0].stop()
        await until(lambda: _gone(server, streams[0]["id"]), timeout=15)
        assert streams[0]["id"] not in _holder(server, streams[1]["id"])["streams"]
        assert all(streams[0]["id"] not in w["streams"] for w in _workers(server))
        assert len(viewers[1].codes) > 0
    finally:
        for viewer in viewers:
            await viewer.stop()
        await admin.close()
        for camera in cameras:
            camera.stop()


def _other_organisation(workdir: Path, server: Server) -> None:
    """A second organisation with its own admin, in the server's database."""
    bootstrap(Settings(data_dir=server.data_dir, keys_dir=workdir / "no-keys", database_url=database_of(server.data_dir)),
              "Other organisation", OTHER_EMAIL, "Oz Other", OTHER_PASSWORD)


async def _gone(server: Server, stream_id: str) -> bool:
    return all(s["id"] != stream_id for s in server.get_json("/api/streams")["streams"])


async def test_only_the_front_reaches_a_worker(two_workers: Server) -> None:
    """The worker sockets: 0600 in a 0700 directory of the data directory, no other user
    may connect, and no worker listens on TCP; the front answers for unknown streams."""
    server = two_workers
    directory = server.data_dir / "workers"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    sockets = sorted(directory.glob("*.sock"))
    assert [s.name for s in sockets] == ["0.sock", "1.sock"]
    for path in sockets:
        assert stat.S_ISSOCK(path.stat().st_mode) and stat.S_IMODE(path.stat().st_mode) == 0o600
    if os.geteuid() == 0 and os.access(SYSTEM_PYTHON, os.X_OK):  # another user (nobody) cannot connect
        probe = ("import socket,sys\ns=socket.socket(socket.AF_UNIX)\n"
                 "try:\n s.connect(sys.argv[1]); print('connected')\nexcept PermissionError: print('refused')")
        result = await asyncio.to_thread(subprocess.run, [SYSTEM_PYTHON, "-c", probe, str(sockets[0])],
                                         user="nobody", capture_output=True, text=True, timeout=30)
        assert result.stdout.strip() == "refused", result
    for worker in _workers(server):
        assert _tcp_listeners(worker["pid"]) == set(), worker
    anyone = ApiClient(server.url)
    try:
        async with anyone.request("POST", "/whep/nosuchstream", data="v=0",
                                  headers={"Content-Type": "application/sdp"}) as response:
            assert response.status == 401
        async with anyone.request("GET", "/api/media-workers") as response:  # who holds what: admins only
            assert response.status == 401
    finally:
        await anyone.close()
    admin = await ApiClient.signed_in(server.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    viewer = await invite(admin, "vera@example.test", "Vera Viewer", "viewer")
    try:
        async with admin.request("POST", "/whep/nosuchstream", data="v=0",
                                 headers={"Content-Type": "application/sdp"}) as response:
            assert response.status == 404 and "no live stream" in (await response.json())["error"]
        async with viewer.request("GET", "/api/media-workers") as response:
            assert response.status == 403 and (await response.json())["error"]
    finally:
        await viewer.close()
        await admin.close()


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def _tcp_listeners(pid: int) -> set[int]:
    """The inodes of listening TCP sockets process ``pid`` holds."""
    held = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            held.add(int(target[8:-1]))
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # LISTEN
                listening.add(int(fields[9]))
    return held & listening



async def test_a_stream_is_recorded_in_its_worker_and_verifies(workdir: Path, keys: SystemKeyPair,
                                                              two_workers: Server) -> None:
    server = two_workers
    camera = Camera(workdir, server.url, workdir / "keys", "Rita Recorded")
    admin = await ApiClient.signed_in(server.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    try:
        stream = await asyncio.to_thread(server.wait_for_stream, camera.name, 60)
        assert _holder(server, stream["id"])["pid"] != server.proc.pid
        await asyncio.sleep(6)
        camera.stop()  # the camera closes its stream: the worker writes the recording out
        recording = await wait_for_recording(admin, camera.name, timeout=30)
        assert recording["id"] == stream["id"]
        recording, frames = await fetch_recording(admin, recording["id"])
        assert len(recording["segments"]) >= 2
        assert_in_order(played_back(recording, frames, keys).codes, at_least=60)
        async with admin.request("GET", f"/api/recordings/{recording['id']}/verification") as response:
            result = await response.json()
        assert response.status == 200 and result["verified"] is True, result
    finally:
        await admin.close()
        camera.stop()


async def test_a_killed_worker_is_restarted_and_its_camera_comes_back(workdir: Path, keys: SystemKeyPair,
                                                                     two_workers: Server) -> None:
    server = two_workers
    cameras = [Camera(workdir, server.url, workdir / "keys", name) for name in ("Kai Killed", "Sam Spared")]
    admin = await ApiClient.signed_in(server.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    try:
        killed, spared = [await asyncio.to_thread(server.wait_for_stream, c.name, 60) for c in cameras]
        victim, other = _holder(server, killed["id"]), _holder(server, spared["id"])
        assert victim["index"] != other["index"]
        await asyncio.sleep(6)  # a few segments stored
        os.kill(victim["pid"], signal.SIGKILL)  # no clean-up of any kind
        killed_at, killed_at_ms = time.monotonic(), int(time.time() * 1000) % (1 << 32)  # ms: the camera's clock

        # The front sees it at once: the stream ends (row closed), the worker starts again.
        await until(lambda: _gone(server, killed["id"]), timeout=10)
        assert await asyncio.to_thread(_ended_at, server, killed["id"])
        await until(lambda: _restarted(server, victim), timeout=60)
        # The camera sees the server fall silent and publishes afresh by itself, within seconds.
        again = await asyncio.to_thread(server.wait_for_stream, cameras[0].name, 60)
        back_after = time.monotonic() - killed_at
        assert again["id"] != killed["id"]
        await asyncio.to_thread(cameras[0].wait_for, f"streaming: stream {again['id']}", 30)
        # 7.4 s measured (6 s to see the silence); ICE consent (30 s) where the server sent no estimate yet
        assert back_after < 45, f"the camera came back {back_after:.1f} s after the kill"
        # The other worker's stream went on untouched.
        assert _holder(server, spared["id"])["pid"] == other["pid"]
        assert any(s["id"] == spared["id"] for s in server.get_json("/api/streams")["streams"])

        # The first stream's recording keeps its segments, finished from the spool.
        recording, frames = await fetch_recording(admin, killed["id"])
        assert recording["state"] == "complete" and len(recording["segments"]) >= 2, recording
        playback = played_back(recording, frames, keys)
        assert_in_order(playback.codes, at_least=60)
        lost_ms = (killed_at_ms - playback.last_capture_ms) % (1 << 32)
        assert lost_ms < 3000, f"the recording ends {lost_ms} ms before the kill"
    finally:
        await admin.close()
        for camera in cameras:
            camera.stop()


async def _restarted(server: Server, before: dict) -> bool:
    [now] = [w for w in _workers(server) if w["index"] == before["index"]]
    return now["pid"] not in (None, before["pid"])


def _ended_at(server: Server, stream_id: str) -> str | None:
    database = Database(Settings(data_dir=server.data_dir, database_url=database_of(server.data_dir)).database)
    try:
        return database.stream(stream_id)["ended_at"]
    finally:
        database.close()


async def test_stopping_the_server_ends_the_workers_streams_and_stores_their_recordings(
        tmp_path: Path, system_keys: SystemKeyPair) -> None:
    system_keys.save(tmp_path / "keys")
    server = await asyncio.to_thread(Server, tmp_path, tmp_path / "keys", "--workers", "2")
    camera = Camera(tmp_path, server.url, tmp_path / "keys", "Stella Stopped")
    try:
        stream = await asyncio.to_thread(server.wait_for_stream, camera.name, 60)
        pids = [w["pid"] for w in _workers(server)]
        await asyncio.sleep(5)
        server.proc.terminate()  # SIGTERM, as Ctrl+C's SIGINT
        assert await asyncio.to_thread(server.proc.wait, 30) == 0, server.output
    finally:
        camera.stop()
        server.stop()
    assert not any([await asyncio.to_thread(_alive, pid) for pid in pids])  # the workers stopped with it
    assert await asyncio.to_thread(_ended_at, server, stream["id"])
    database = Database(Settings(data_dir=server.data_dir, database_url=database_of(server.data_dir)).database)
    try:
        [recording] = database.db.rows("SELECT id, state, duration_ms FROM recordings")
    finally:
        database.close()
    assert (recording["id"], recording["state"]) == (stream["id"], "complete") and recording["duration_ms"] >= 3000
    assert not any((server.data_dir / "recording-spool").rglob("*.rtp*"))  # every segment stored


def test_the_media_ports_are_split_among_the_workers() -> None:
    assert [port_share((40000, 40999), i, 4) for i in range(4)] == [
        (40000, 40249), (40250, 40499), (40500, 40749), (40750, 40999)]
    assert port_share(None, 1, 2) is None
    with pytest.raises(ValueError, match="fewer ports than the 3 media workers"):
        port_share((40000, 40001), 0, 3)


def test_a_data_directory_too_deep_for_a_socket_is_refused_with_a_sentence(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 100)
    with pytest.raises(ValueError, match="too long for the media workers' sockets"):
        MediaWorkers(Settings(data_dir=deep), 2)
