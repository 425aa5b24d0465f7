"""Recordings in both evidence stores (a local directory; S3 against a real S3-compatible
server, moto's, over HTTP) and their purge after the retention period (injected clock)."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.kernel.clock import ManualClock
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.server import start_server
from bwlive_rtc.viewer.session import ApiClient
from tests.postgres import database_of
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Camera, Process, bootstrap_admin
from tests.test_recordings import assert_in_order, fetch_recording, played_back, wait_for_recording

BUCKET = "evidence"


def start_moto(port: int = 0) -> ThreadedMotoServer:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server


@contextmanager
def s3_bucket() -> Iterator[ThreadedMotoServer]:
    """A real S3-compatible HTTP server on an ephemeral port, with an empty bucket (and the
    test credentials in the environment meanwhile)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                            "AWS_DEFAULT_REGION": "us-east-1"}.items():
            patch.setenv(name, value)
        server = start_moto()
        boto3.client("s3", endpoint_url=endpoint(server)).create_bucket(Bucket=BUCKET)
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def moto() -> Iterator[ThreadedMotoServer]:
    """``s3_bucket`` for one test."""
    with s3_bucket() as server:
        yield server


def endpoint(server: ThreadedMotoServer) -> str:
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}"


def evidence(settings: Settings, recording_id: str) -> list[str]:
    """Names of the files a recording has in its store."""
    if settings.recordings_storage == "s3":
        listed = boto3.client("s3", endpoint_url=settings.s3_endpoint_url).list_objects_v2(
            Bucket=BUCKET, Prefix=f"{settings.s3_prefix}/{recording_id}/")
        return sorted(item["Key"].rsplit("/", 1)[1] for item in listed.get("Contents", []))
    directory = settings.recordings_path / recording_id
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


@pytest.mark.parametrize("backend", ["local", "s3"])
async def test_recorded_to_the_store_and_purged_after_retention(
    backend: str, tmp_path: Path, system_keys: SystemKeyPair, request: pytest.FixtureRequest
) -> None:
    keys_dir = tmp_path / "keys"
    system_keys.save(keys_dir)
    bootstrap_admin(tmp_path / "data", keys_dir)
    settings = Settings(port=0, keys_dir=keys_dir, data_dir=tmp_path / "data", retention_hours=24, purge_interval=0.1,
                        database_url=database_of(tmp_path / "data"))
    if backend == "s3":
        settings.recordings_storage = "s3"
        settings.s3_endpoint_url = endpoint(request.getfixturevalue("moto"))
        settings.s3_bucket, settings.s3_prefix = BUCKET, "site-a"
    clock = ManualClock(datetime.now(UTC))
    runner, port = await start_server(settings, clock)
    api = await ApiClient.signed_in(f"http://127.0.0.1:{port}", ADMIN_EMAIL, ADMIN_PASSWORD)
    try:
        camera = Camera(tmp_path, f"http://127.0.0.1:{port}", keys_dir, "Kept A Day", "--duration", "4", clock=clock)
        await asyncio.to_thread(camera.proc.wait, 30)
        listed = await wait_for_recording(api, "Kept A Day")
        recording, frames = await fetch_recording(api, listed["id"])
        assert_in_order(played_back(recording, frames, system_keys).codes, at_least=60)
        files = evidence(settings, recording["id"])
        assert files == [f"{s['seq']:06d}.rtp" for s in recording["segments"]] and len(files) >= 2  # a log per segment
        assert not (settings.recordings_path / recording["id"]).exists() or backend == "local"

        clock.advance(timedelta(hours=23, minutes=59))
        await asyncio.sleep(0.5)
        assert evidence(settings, recording["id"]) == files  # kept for 24 hours

        clock.advance(timedelta(minutes=2))
        for _ in range(50):
            async with api.request("GET", f"/api/recordings/{recording['id']}") as response:
                if response.status == 404:
                    assert "purged" in (await response.json())["error"]
                    break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("not purged after the retention period")
        assert evidence(settings, recording["id"]) == []
        async with api.request("GET", "/api/recordings") as response:
            assert (await response.json())["recordings"] == []
    finally:
        await api.close()
        await runner.cleanup()



async def test_store_outage_loses_nothing(tmp_path: Path, system_keys: SystemKeyPair, moto: ThreadedMotoServer) -> None:
    """S3 goes away mid-stream: segments wait in the spool, the recording stays open, and
    the next start stores them all."""
    keys_dir = tmp_path / "keys"
    system_keys.save(keys_dir)
    bootstrap_admin(tmp_path / "data", keys_dir)
    settings = Settings(port=0, keys_dir=keys_dir, data_dir=tmp_path / "data", database_url=database_of(tmp_path / "data"),
                        recordings_storage="s3",
                        s3_bucket=BUCKET, s3_prefix="site-b", s3_endpoint_url=endpoint(moto))
    runner, port = await start_server(settings)
    try:
        camera = Camera(tmp_path, f"http://127.0.0.1:{port}", keys_dir, "Outage", "--duration", "6")
        await asyncio.to_thread(camera.wait_for, "streaming")
        await asyncio.sleep(1)
        moto.stop()
        await asyncio.to_thread(camera.proc.wait, 30)
    finally:
        await runner.cleanup()
    assert any(settings.recordings_spool.rglob("*.rtp")), "expected segments waiting for the store"

    moto_port = moto.get_host_and_port()[1]
    back = start_moto(moto_port)  # the same store comes back
    runner, port = await start_server(settings)
    api = await ApiClient.signed_in(f"http://127.0.0.1:{port}", ADMIN_EMAIL, ADMIN_PASSWORD)
    try:
        listed = await wait_for_recording(api, "Outage")
        recording, frames = await fetch_recording(api, listed["id"])
    finally:
        await api.close()
        await runner.cleanup()
        back.stop()
    assert recording["duration_ms"] >= 5000  # the whole stream, none of it lost
    assert not any(settings.recordings_spool.rglob("*.rtp*"))
    assert_in_order(played_back(recording, frames, system_keys).codes, at_least=120)


def test_cli_configures_the_store_and_retention(tmp_path: Path, system_keys: SystemKeyPair, moto: ThreadedMotoServer) -> None:
    system_keys.save(tmp_path / "keys")
    common = ["serve", "--port", "0", "--keys-dir", str(tmp_path / "keys"), "--data-dir", str(tmp_path / "data")]
    refused = Process([*common, "--recordings-storage", "s3"], tmp_path)
    assert refused.proc.wait(30) != 0
    refused.wait_for("--recordings-storage s3 needs --s3-bucket")
    server = Process([*common, "--recordings-storage", "s3", "--s3-bucket", BUCKET, "--s3-prefix", "cli",
                      "--s3-endpoint-url", endpoint(moto), "--retention-hours", "6"], tmp_path)
    try:
        server.wait_for(f"recordings go to s3://{BUCKET}/cli/ at {endpoint(moto)}, kept 6 hours")
    finally:
        server.stop()
