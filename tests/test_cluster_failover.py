"""Issue 15 part 4, failure: nginx in front of two ``bwlive serve`` nodes (one PostgreSQL,
one Redis, one S3 store: moto's real S3 server), node A the primary and node B the backup.
A real camera agent and the console in Chromium reach the cluster only through nginx; the
console watches the camera's tile, decrypted and verified. Node A is killed (kill -9):
the camera publishes again on node B, the same page (no reload) gets its WebSocket back
through nginx and the same tile shows the camera's new stream, decrypted and verified;
every segment of the first stream that reached the store is listed and plays; the
integration receiver gets stream.started and stream.ended of the first stream and
stream.started of the second, each once. And ``adopt`` alone: what a node stored but
had not registered is registered from the store as its recorder would have."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from playwright.async_api import Page, async_playwright

from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.crypto.system_signing import SigningPublicKey
from bwlive_rtc.kernel.bus import DIRECTORY_TTL_S
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.recordings.catalog import Catalog
from bwlive_rtc.recordings.recovery import adopt
from bwlive_rtc.recordings.storage import open_store
from bwlive_rtc.storage.database import Database
from bwlive_rtc.streams.hub import DIRECTORY_CHECK_S
from bwlive_rtc.viewer.session import ApiClient
from tests.balancer import Balancer
from tests.chromium import launch
from tests.cluster_nodes import Cluster, two_nodes, until
from tests.postgres import database_of
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Camera, Server
from tests.test_browser_live import READ_CODE_JS
from tests.test_integrations import Receiver, receiver  # noqa: F401
from tests.test_recordings import assert_in_order, fetch_recording, played_back
from tests.test_recordings_storage import BUCKET, endpoint, moto  # noqa: F401

CAMERA = "Officer Failover"
PREFIX = "cluster"
MOVED_WITHIN_S = 12.0  # the camera's 6 s without estimates, a resume refused, a new publish
# Counts the page's WebSocket connections; the marker shows the page was never reloaded.
KEEP_SOCKETS_JS = """
window.bwliveSockets = 0;
const Original = window.WebSocket;
window.WebSocket = class extends Original {
  constructor(...args) { super(...args); window.bwliveSockets += 1; }
};
"""


@pytest.fixture
def cluster(tmp_path: Path, system_keys: SystemKeyPair, workdir: Path, moto: ThreadedMotoServer) -> Iterator[Cluster]:
    store = ("--recordings-storage", "s3", "--s3-bucket", BUCKET, "--s3-prefix", PREFIX,
             "--s3-endpoint-url", endpoint(moto))
    with two_nodes(workdir, tmp_path / "redis", "--trusted-proxy", "127.0.0.1", *store) as nodes:
        yield nodes


@pytest.fixture
def balancer(tmp_path: Path, cluster: Cluster) -> Iterator[Balancer]:
    front = Balancer(tmp_path / "nginx", cluster.a.url.split("//")[1], cluster.b.url.split("//")[1])
    yield front
    front.stop()


async def _stream_of(api: ApiClient, but: str = "") -> dict | None:
    async with api.request("GET", "/api/streams") as response:
        return next((s for s in (await response.json())["streams"] if s["camera"] == CAMERA and s["id"] != but), None)


async def _code(page: Page, stream_id: str) -> dict | None:
    """The burned-in frame code the stream's tile shows now (decrypted), if any."""
    video = page.locator(f'.tile[data-stream-id="{stream_id}"] video')
    return await video.evaluate(READ_CODE_JS) if await video.count() else None


async def _advancing(page: Page, stream_id: str, seconds: float = 2.0) -> list[int]:
    frames = []
    for _ in range(int(seconds / 0.2)):
        if (code := await _code(page, stream_id)) is not None:
            frames.append(code["frame"])
        await asyncio.sleep(0.2)
    assert len(frames) >= 5 and frames == sorted(frames) and frames[-1] > frames[0], frames
    return frames


def _count(receiver: Receiver, kind: str, stream_id: str) -> int:
    return sum(1 for event in receiver.events() if event["type"] == kind and event["stream_id"] == stream_id)


async def _all_delivered(api: ApiClient) -> bool:
    """Every delivery so far is written down as delivered (none would be sent again)."""
    async with api.request("GET", "/api/integrations/deliveries") as response:
        deliveries = (await response.json())["deliveries"]
    return bool(deliveries) and all(d["status"] == "delivered" for d in deliveries)


async def test_a_killed_node_s_camera_tile_recording_and_events_carry_on_through_the_balancer(
        cluster: Cluster, balancer: Balancer, receiver: Receiver, system_keys: SystemKeyPair,
        moto: ThreadedMotoServer) -> None:
    admin = await ApiClient.signed_in(balancer.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    on_b = await ApiClient.signed_in(cluster.b.url, ADMIN_EMAIL, ADMIN_PASSWORD)  # node B's own list: where it streams
    node_a, node_b = (node.url.split("//")[1] for node in (cluster.a, cluster.b))
    async with admin.request("POST", "/api/integrations", json={"url": receiver.url}) as response:
        assert response.status == 201, await response.text()
    camera = Camera(cluster.workdir, balancer.url, cluster.workdir / "keys", CAMERA, data_dir=cluster.a.data_dir)
    signing_key = SigningPublicKey.load(cluster.workdir / "keys").b64u()
    playwright = await async_playwright().start()
    browser = await launch(playwright)
    try:
        first = await until(lambda: _stream_of(admin), "the camera's stream")
        assert balancer.upstreams("POST", "/whip") == [node_a]  # everything starts on node A
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        signed_in = await context.request.post(f"{balancer.url}/api/session",
                                               data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        assert signed_in.ok
        await context.add_init_script(KEEP_SOCKETS_JS)
        page = await context.new_page()
        await page.goto(f"{system_keys.link(balancer.url)}&sig={signing_key}")
        await page.evaluate("window.bwlive.ready")
        await page.click(f'button.stream[data-stream-id="{first["id"]}"]')
        await page.wait_for_selector(f'.tile[data-stream-id="{first["id"]}"][data-state="live"][data-verified="yes"]',
                                     timeout=30_000)
        await _advancing(page, first["id"])
        await page.evaluate("window.bwliveNotReloaded = true")
        assert balancer.upstreams("GET", "/api/streams/ws") == [] and await page.evaluate("window.bwliveSockets") == 1
        assert _count(receiver, "stream.started", first["id"]) == 1
        await until(lambda: _all_delivered(admin), "stream.started written down as delivered")
        await asyncio.sleep(5)  # a few segments in the store
        async with admin.request("GET", f"/api/recordings/{first['id']}") as response:
            listed_before = {segment["key"] for segment in (await response.json())["segments"]}
        assert listed_before

        cluster.a.proc.kill()  # kill -9: no clean-up of any kind
        killed_at = time.monotonic()
        second = await until(lambda: _stream_of(on_b, but=first["id"]), "the camera's stream on node B")
        moved_s = time.monotonic() - killed_at
        assert balancer.upstreams("POST", "/whip")[-1] == node_b
        await until(lambda: _code(page, second["id"]), "a decrypted frame of the new stream in the tile")
        frame_s = time.monotonic() - killed_at
        print(f"\nkill -9 of node A -> the camera streams on node B: {moved_s:.2f} s; "
              f"-> the operator's tile shows its first new frame: {frame_s:.2f} s")
        assert moved_s < MOVED_WITHIN_S, moved_s
        await page.wait_for_selector(f'.tile[data-stream-id="{second["id"]}"][data-state="live"][data-verified="yes"]',
                                     timeout=20_000)
        await _advancing(page, second["id"])
        assert await page.locator(".tile").count() == 1  # the camera's tile, following it: none left behind
        assert await page.get_attribute(f'.tile[data-stream-id="{second["id"]}"]', "data-focused") == "true"
        assert await page.evaluate("window.bwliveNotReloaded") is True  # the same page
        assert await page.evaluate("window.bwliveSockets") == 2  # its socket came back once, through nginx to B
        assert await page.get_attribute("#connection", "data-connected") == "true"
        assert balancer.upstreams("GET", "/api/streams/ws") == [node_a]  # the first socket (logged as it closed)

        # Integration events, each once: node B ends the first stream once node A's entry expires.
        async def all_came() -> bool:
            return bool(_count(receiver, "stream.ended", first["id"]) and _count(receiver, "stream.started", second["id"]))

        await until(all_came, "stream.ended of the first stream", timeout=DIRECTORY_TTL_S + 4 * DIRECTORY_CHECK_S)
        await asyncio.sleep(DIRECTORY_CHECK_S + 1)  # nothing comes twice, later either
        assert [_count(receiver, kind, stream["id"]) for kind, stream in [
            ("stream.started", first), ("stream.ended", first), ("stream.started", second), ("stream.ended", second)]
        ] == [1, 1, 1, 0]

        # Every segment of the first stream that reached the store is listed (node B registered
        # what node A had stored but not yet registered), and they play in order and verify.
        recording, frames = await fetch_recording(admin, first["id"])
        listed = {segment["key"] for segment in recording["segments"]}
        objects = boto3.client("s3", endpoint_url=endpoint(moto)).list_objects_v2(
            Bucket=BUCKET, Prefix=f"{PREFIX}/{first['id']}/")
        in_store = {item["Key"].removeprefix(f"{PREFIX}/") for item in objects.get("Contents", [])}
        assert listed_before <= listed and listed == in_store, (listed_before, listed, in_store)
        assert [segment["seq"] for segment in recording["segments"]] == list(range(len(listed)))
        assert_in_order(played_back(recording, frames, system_keys).codes, at_least=100)
        async with admin.request("GET", f"/api/recordings/{first['id']}/verification") as response:
            verified = await response.json()
        assert response.status == 200 and verified["verified"] is True, verified
    finally:
        await browser.close()
        await playwright.stop()
        await asyncio.to_thread(camera.stop)
        await admin.close()
        await on_b.close()


async def test_adopting_a_dead_node_s_recording_registers_what_it_stored_as_its_recorder_did(
        tmp_path: Path, system_keys: SystemKeyPair) -> None:
    """The segments a node stored but had not registered when it died: ``adopt`` registers
    them from the store alone, as the node's recorder would have (the same rows), once."""
    system_keys.save(tmp_path / "keys")
    server = Server(tmp_path, tmp_path / "keys")
    camera = Camera(tmp_path, server.url, tmp_path / "keys", "Ada Adopted")
    try:
        stream = await asyncio.to_thread(server.wait_for_stream, camera.name, 30)
        await asyncio.sleep(6)  # three segments or so
    finally:
        await asyncio.to_thread(camera.stop)
        await asyncio.to_thread(server.stop)
    settings = Settings(data_dir=tmp_path / "data", database_url=database_of(tmp_path / "data"))
    database = Database(settings.database)
    try:
        catalog, store = Catalog(database.db), open_store(settings)
        registered = catalog.segment_rows(stream["id"])
        assert len(registered) >= 2
        database.db.run("DELETE FROM recording_segments WHERE recording_id = :id AND seq >= 1", id=stream["id"])
        assert adopt(catalog, store, stream["id"]) == len(registered) - 1
        assert catalog.segment_rows(stream["id"]) == registered
        assert adopt(catalog, store, stream["id"]) == 0  # once
    finally:
        database.close()
