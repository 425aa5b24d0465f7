"""Issue 15, recordings across a node's start (two ``bwlive serve`` nodes on loopback, one
PostgreSQL, one Redis, one S3 store: moto's real S3 server). A node starting finishes
only the recordings that were its own (their spool is in its data directory) or whose node
is known dead (no live node holds their stream in the directory): node B restarting while
node A records leaves A's recording growing, and it ends whole. A node killed (kill -9)
leaves a recording open and its last seconds in its spool: the node that ends its stream
(once its directory entry expired) finishes the recording with what reached the store, or,
when no node was there to, the next node to start does; the dead node, started again on
its data directory, adds its spooled seconds to it."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.kernel.bus import DIRECTORY_TTL_S
from bwlive_rtc.streams.hub import DIRECTORY_CHECK_S
from bwlive_rtc.viewer.session import ApiClient
from tests.cluster_nodes import Cluster, two_nodes, until
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Camera
from tests.test_recordings import assert_in_order, fetch_recording, played_back
from tests.test_recordings_storage import BUCKET, endpoint, s3_bucket

PREFIX = "recovery"


@pytest.fixture(scope="module")
def s3() -> Iterator[ThreadedMotoServer]:
    with s3_bucket() as server:
        yield server


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, system_keys: SystemKeyPair, workdir: Path,
            s3: ThreadedMotoServer) -> Iterator[Cluster]:
    with two_nodes(workdir, tmp_path_factory.mktemp("redis"), "--recordings-storage", "s3", "--s3-bucket", BUCKET,
                   "--s3-prefix", PREFIX, "--s3-endpoint-url", endpoint(s3)) as nodes:
        yield nodes


async def _recording(api: ApiClient, recording_id: str) -> dict:
    async with api.request("GET", f"/api/recordings/{recording_id}") as response:
        assert response.status == 200, await response.text()
        return dict(await response.json())


async def _stream_of(api: ApiClient, camera: str) -> dict | None:
    async with api.request("GET", "/api/streams") as response:
        return next((s for s in (await response.json())["streams"] if s["camera"] == camera), None)


def _in_store(s3: ThreadedMotoServer, recording_id: str) -> set[str]:
    listed = boto3.client("s3", endpoint_url=endpoint(s3)).list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/{recording_id}/")
    return {item["Key"].removeprefix(f"{PREFIX}/") for item in listed.get("Contents", [])}


async def _whole(api: ApiClient, recording_id: str, s3: ThreadedMotoServer, keys: SystemKeyPair, at_least: int) -> dict:
    """The recording is complete, lists every segment in the store, numbered without a gap,
    plays in order and verifies; returns it."""
    recording, frames = await fetch_recording(api, recording_id)
    assert recording["state"] == "complete", recording["state"]
    listed = [segment["key"] for segment in recording["segments"]]
    assert set(listed) == _in_store(s3, recording_id), (listed, _in_store(s3, recording_id))
    assert [segment["seq"] for segment in recording["segments"]] == list(range(len(listed)))
    assert recording["duration_ms"] == recording["segments"][-1]["end_ms"]
    assert_in_order(played_back(recording, frames, keys).codes, at_least=at_least)
    async with api.request("GET", f"/api/recordings/{recording_id}/verification") as response:
        verified = await response.json()
    assert response.status == 200 and verified["verified"] is True, verified
    return recording


async def test_node_b_starting_leaves_node_a_s_live_recording_alone(cluster: Cluster, s3: ThreadedMotoServer,
                                                                    system_keys: SystemKeyPair) -> None:
    on_a = await ApiClient.signed_in(cluster.a.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    camera = Camera(cluster.workdir, cluster.a.url, cluster.workdir / "keys", "Officer Recorded",
                    data_dir=cluster.a.data_dir)
    try:
        stream = await until(lambda: _stream_of(on_a, camera.name), "the camera's stream on node A")

        async def segments(at_least: int) -> list[dict] | None:
            listed = (await _recording(on_a, stream["id"]))["segments"]
            return listed if len(listed) >= at_least else None

        async def complete() -> dict | None:
            found = await _recording(on_a, stream["id"])
            return found if found["state"] == "complete" else None

        before = await until(lambda: segments(2), "two segments of node A's recording")
        await asyncio.to_thread(cluster.b.restart)  # node B starts while node A records
        assert "was interrupted" not in cluster.b.output, cluster.b.output
        recording = await _recording(on_a, stream["id"])
        assert recording["state"] == "recording", recording["state"]  # not finished by node B
        assert [s["key"] for s in recording["segments"][:len(before)]] == [s["key"] for s in before]
        grown = await until(lambda: segments(len(recording["segments"]) + 2), "node A's recording growing on")
        assert await _stream_of(on_a, camera.name) is not None
        await asyncio.to_thread(camera.stop)
        await until(complete, "node A finishing its recording as the camera stopped")
        on_b = await ApiClient.signed_in(cluster.b.url, ADMIN_EMAIL, ADMIN_PASSWORD)
        try:  # played through node B, from the shared store
            whole = await _whole(on_b, stream["id"], s3, system_keys, at_least=100)
        finally:
            await on_b.close()
        assert len(whole["segments"]) >= len(grown)
    finally:
        await asyncio.to_thread(camera.stop)
        await on_a.close()


async def _killed_while_recording(cluster: Cluster, camera_name: str) -> tuple[dict, Path]:
    """A camera records on node A, which is killed (kill -9) into a segment: the stream,
    and node A's spool of its recording (not empty)."""
    on_a = await ApiClient.signed_in(cluster.a.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    camera = Camera(cluster.workdir, cluster.a.url, cluster.workdir / "keys", camera_name, data_dir=cluster.a.data_dir)
    try:
        stream = await until(lambda: _stream_of(on_a, camera.name), "the camera's stream on node A")

        async def two_segments() -> bool:
            return len((await _recording(on_a, stream["id"]))["segments"]) >= 2

        await until(two_segments, "two segments of node A's recording")
        await asyncio.sleep(1.0)  # into the next segment: seconds in node A's spool only
        cluster.a.proc.kill()
    finally:
        await on_a.close()
        await asyncio.to_thread(camera.stop)
    spool = cluster.a.data_dir / "recording-spool" / stream["id"]
    assert any(spool.iterdir()), "node A died with nothing in its spool"
    return stream, spool


async def _spool_added_at_node_a_s_restart(cluster: Cluster, s3: ThreadedMotoServer, keys: SystemKeyPair,
                                           recording_id: str, spool: Path, finished: dict) -> None:
    """Node A starts again on its data directory: its spooled seconds join the recording
    another node finished, which is closed again, whole."""
    assert await asyncio.to_thread(spool.is_dir), "another node touched node A's spool"
    await asyncio.to_thread(cluster.a.restart)
    assert not await asyncio.to_thread(spool.exists)
    on_b = await ApiClient.signed_in(cluster.b.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    try:
        whole = await _whole(on_b, recording_id, s3, keys, at_least=30)
    finally:
        await on_b.close()
    assert len(whole["segments"]) > len(finished["segments"]), (finished["segments"], whole["segments"])
    assert whole["duration_ms"] > finished["duration_ms"]
    assert whole["segments"][:len(finished["segments"])] == finished["segments"]
    print(f"\nkilled node's recording: {len(finished['segments'])} segment(s) when another node finished it, "
          f"{len(whole['segments']) - len(finished['segments'])} more from node A's spool at its restart "
          f"({finished['duration_ms']} -> {whole['duration_ms']} ms)")


async def test_the_node_that_ends_a_dead_node_s_stream_finishes_its_recording_and_the_dead_node_adds_its_spool(
        cluster: Cluster, s3: ThreadedMotoServer, system_keys: SystemKeyPair) -> None:
    stream, spool = await _killed_while_recording(cluster, "Officer Orphaned")
    killed = time.monotonic()
    on_b = await ApiClient.signed_in(cluster.b.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    try:
        async def finished() -> dict | None:
            found = await _recording(on_b, stream["id"])
            return found if found["state"] == "complete" else None

        await until(finished, "node B finishing node A's recording", timeout=DIRECTORY_TTL_S + 4 * DIRECTORY_CHECK_S)
        print(f"\nnode A killed -> its recording finished by node B: {time.monotonic() - killed:.1f} s")
        assert await _stream_of(on_b, "Officer Orphaned") is None
        closed = await _whole(on_b, stream["id"], s3, system_keys, at_least=30)
    finally:
        await on_b.close()
    await _spool_added_at_node_a_s_restart(cluster, s3, system_keys, stream["id"], spool, closed)


async def test_a_node_starting_after_every_node_died_finishes_the_dead_node_s_recording(
        cluster: Cluster, s3: ThreadedMotoServer, system_keys: SystemKeyPair) -> None:
    """Node B stops before node A's directory entry expires (nobody ends node A's stream):
    node B's next start finishes node A's recording, node A's own start adds its spool."""
    stream, spool = await _killed_while_recording(cluster, "Officer Forsaken")
    await asyncio.to_thread(cluster.b.stop)
    await asyncio.sleep(DIRECTORY_TTL_S + 1)  # node A's entry is gone: known dead
    await asyncio.to_thread(cluster.b.restart)
    assert f"recording {stream['id']} was interrupted" in cluster.b.output
    on_b = await ApiClient.signed_in(cluster.b.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    try:
        assert await _stream_of(on_b, "Officer Forsaken") is None
        closed = await _whole(on_b, stream["id"], s3, system_keys, at_least=30)
    finally:
        await on_b.close()
    await _spool_added_at_node_a_s_restart(cluster, s3, system_keys, stream["id"], spool, closed)
