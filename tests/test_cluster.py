"""Two ``bwlive serve`` nodes on loopback sharing one PostgreSQL and one Redis (issue 15
part 2): an operator's live list on node A shows a camera publishing to node B as it
starts and ends (within a second of node B itself), a member removed through node B loses
their socket on node A, an operator on node A acknowledges a stream on node B (the camera
gets the press), a camera revoked through node A stops on node B, and another
organisation's socket on node A sees none of it. Last, node B is killed (kill -9) while both
nodes deliver integration events from the one queue: every event reaches the receiver
exactly once (node B's claimed, unanswered deliveries again after their lease), and node
B's stream leaves node A's list and ends once."""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bwlive_rtc.crypto.acknowledgement import seal_acknowledgement, viewer_sender
from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.kernel.bus import DIRECTORY_TTL_S
from bwlive_rtc.streams.hub import DIRECTORY_CHECK_S
from bwlive_rtc.viewer.session import ApiClient
from tests.cluster_nodes import OTHER_EMAIL, OTHER_PASSWORD, Cluster, add_other_organisation, local_list_changes, two_nodes
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Camera
from tests.test_groups import invite


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, system_keys: SystemKeyPair, workdir: Path) -> Iterator[Cluster]:
    with two_nodes(workdir, tmp_path_factory.mktemp("redis")) as nodes:
        add_other_organisation(nodes)
        yield nodes


class Socket:
    """A live-list WebSocket, every message it got kept with the time it came."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client
        self.messages: list[tuple[float, dict[str, Any]]] = []
        self.closed_with: int | None = None
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> Socket:
        ws = await self.client.http.ws_connect(self.client.server + "/api/streams/ws")
        self._task = asyncio.create_task(self._read(ws))
        await self.until(lambda: bool(self.messages))
        return self

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                self.messages.append((time.monotonic(), json.loads(message.data)))
        self.closed_with = ws.close_code

    async def until(self, condition: Any, timeout: float = 20.0) -> float:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"never came; messages: {self.messages}"
            await asyncio.sleep(0.01)
        return time.monotonic()

    def first_time(self, holds: Any) -> float | None:
        return next((at for at, message in self.messages if message["type"] == "streams" and holds(message["streams"])),
                    None)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        await self.client.close()


def _has(stream_id: str) -> Any:
    return lambda streams: any(s["id"] == stream_id for s in streams)


async def test_a_camera_on_node_b_starts_and_ends_on_node_a_within_a_second(cluster: Cluster) -> None:
    watcher = await Socket(await ApiClient.signed_in(cluster.a.url, ADMIN_EMAIL, ADMIN_PASSWORD)).open()
    stranger = await Socket(await ApiClient.signed_in(cluster.a.url, OTHER_EMAIL, OTHER_PASSWORD)).open()
    on_b = await Socket(await ApiClient.signed_in(cluster.b.url, ADMIN_EMAIL, ADMIN_PASSWORD)).open()  # the reference
    try:
        camera = Camera(cluster.workdir, cluster.b.url, cluster.workdir / "keys", "Officer Far", data_dir=cluster.b.data_dir)
        await on_b.until(lambda: on_b.first_time(lambda streams: bool(streams)) is not None, timeout=30)
        started_on_b = on_b.first_time(lambda streams: bool(streams))
        stream_id = next(m["streams"][0]["id"] for at, m in on_b.messages if at == started_on_b)
        seen_on_a = await watcher.until(lambda: watcher.first_time(_has(stream_id)) is not None)
        assert abs(watcher.first_time(_has(stream_id)) - started_on_b) < 1.0  # type: ignore[operator]
        async with watcher.client.request("GET", "/api/streams") as response:  # the snapshot of node A too
            listed = (await response.json())["streams"]
        assert [s["id"] for s in listed] == [stream_id] and listed[0]["camera"] == "Officer Far"
        assert listed[0]["key_envelope"] and not {"organisation_ids", "node"} & set(listed[0])

        await asyncio.to_thread(camera.stop)
        await on_b.until(lambda: any(at > started_on_b and not _has(stream_id)(m["streams"]) for at, m in on_b.messages))
        await watcher.until(lambda: any(at > seen_on_a and not _has(stream_id)(m["streams"]) for at, m in watcher.messages))
        gone_on_a = next(at for at, m in watcher.messages if at > seen_on_a and not _has(stream_id)(m["streams"]))
        ended_on_b = next(at for at, m in on_b.messages if at > started_on_b and not _has(stream_id)(m["streams"]))
        assert abs(gone_on_a - ended_on_b) < 1.0, (gone_on_a - ended_on_b)

        # a later socket's first message (node A's snapshot) shows node B's streams as well
        again = Camera(cluster.workdir, cluster.b.url, cluster.workdir / "keys", "Officer Far", data_dir=cluster.b.data_dir)
        _, streams = await local_list_changes(on_b.client, lambda streams: bool(streams))
        await watcher.until(lambda: watcher.first_time(_has(streams[0]["id"])) is not None)
        late = await Socket(await ApiClient.signed_in(cluster.a.url, ADMIN_EMAIL, ADMIN_PASSWORD)).open()
        assert [s["id"] for s in late.messages[0][1]["streams"]] == [streams[0]["id"]]
        await late.close()
        await asyncio.to_thread(again.stop)
        await local_list_changes(on_b.client, lambda streams: not streams)

        # the attacker: another organisation's socket on node A saw nothing of it, nor its list
        assert stranger.messages and all(m.get("streams", []) == [] for _, m in stranger.messages)
        async with stranger.client.request("GET", "/api/streams") as response:
            assert (await response.json())["streams"] == []
        assert all(stream_id not in json.dumps(m) for _, m in stranger.messages)
    finally:
        await watcher.close()
        await stranger.close()
        await on_b.close()


async def test_an_operator_on_node_a_acknowledges_a_stream_on_node_b(cluster: Cluster, system_keys: SystemKeyPair) -> None:
    watcher = await Socket(await ApiClient.signed_in(cluster.a.url, ADMIN_EMAIL, ADMIN_PASSWORD)).open()
    stranger = await ApiClient.signed_in(cluster.a.url, OTHER_EMAIL, OTHER_PASSWORD)
    camera = Camera(cluster.workdir, cluster.b.url, cluster.workdir / "keys", "Officer Helped", data_dir=cluster.b.data_dir)
    try:
        await watcher.until(lambda: watcher.first_time(lambda streams: bool(streams)) is not None)
        stream = next(m["streams"][0] for _, m in watcher.messages if m.get("streams"))
        await asyncio.to_thread(camera.wait_for, "streaming")
        sealed = seal_acknowledgement(viewer_sender(KeyEnvelope.from_json(stream["key_envelope"]).open(system_keys)),
                                      int(time.time() * 1000))
        path = f"/api/streams/{stream['id']}/acknowledge"
        async with stranger.request("POST", path, json={"sealed": sealed}) as response:  # another organisation's
            assert response.status == 404 and "no live stream" in (await response.json())["error"]
        async with watcher.client.request("POST", path, json={"sealed": sealed}) as response:
            assert response.status == 200, await response.text()
            answer = await response.json()
        await asyncio.to_thread(camera.wait_for, "acknowledged: by Ada Admin", 5)  # relayed by node B, opened
        await watcher.until(lambda: watcher.first_time(
            lambda streams: bool(streams) and streams[0]["acknowledged"] == {"by": "Ada Admin", "at": answer["at"]}) is not None)
        assert "acknowledged: by" not in camera.output.split("acknowledged: by Ada Admin", 1)[1]  # once
    finally:
        await asyncio.to_thread(camera.stop)
        await watcher.close()
        await stranger.close()


async def test_a_member_removed_through_node_b_loses_their_socket_on_node_a(cluster: Cluster) -> None:
    admin_a = await ApiClient.signed_in(cluster.a.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    admin_b = await ApiClient.signed_in(cluster.b.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    member = await invite(admin_a, "leaving@example.test", "Lee Leaving", "viewer")
    stranger = await Socket(await ApiClient.signed_in(cluster.a.url, OTHER_EMAIL, OTHER_PASSWORD)).open()
    socket = await Socket(member).open()
    try:
        async with admin_b.request("DELETE", f"/api/organisation/members/{member.session['user']['id']}") as response:
            assert response.status == 200, await response.text()
        removed_at = time.monotonic()
        closed_at = await socket.until(lambda: socket.closed_with is not None, timeout=5)
        assert socket.closed_with == 4001 and closed_at - removed_at < 1.0
        async with member.request("GET", "/api/streams") as response:  # and the member sees no more
            assert response.status == 403
        assert stranger.closed_with is None  # the other organisation's socket stays open
    finally:
        await socket.close()
        await stranger.close()
        await admin_a.close()
        await admin_b.close()


async def test_a_camera_revoked_through_node_a_stops_streaming_on_node_b(cluster: Cluster) -> None:
    admin_a = await ApiClient.signed_in(cluster.a.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    admin_b = await ApiClient.signed_in(cluster.b.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    camera = Camera(cluster.workdir, cluster.b.url, cluster.workdir / "keys", "Officer Revoked",
                    data_dir=cluster.b.data_dir)
    try:
        await local_list_changes(admin_b, lambda streams: any(s["camera"] == "Officer Revoked" for s in streams))
        async with admin_a.request("GET", "/api/fleet") as response:
            cameras = (await response.json())["cameras"]
        camera_id = next(c["id"] for c in cameras if c["serial"] == "SN-OFFICER-REVOKED")
        async with admin_a.request("POST", f"/api/fleet/cameras/{camera_id}/revoke") as response:
            assert response.status == 200, await response.text()
        await local_list_changes(admin_b, lambda streams: not any(s["camera"] == "Officer Revoked" for s in streams),
                                  timeout=5)
    finally:
        await asyncio.to_thread(camera.stop)
        await admin_a.close()
        await admin_b.close()


class HeldReceiver:
    """A real receiver that holds every request until ``release``; a delivery counts once
    its answer reaches a sender still there (a killed node's held requests do not)."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.held = 0
        self.acknowledged: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        event = await request.json()
        self.held += 1
        try:
            await self.release.wait()
        finally:
            self.held -= 1
        if request.transport is not None and not request.transport.is_closing():
            self.acknowledged.append(event)
        return web.Response(text="stored")

    def count(self, holds: Any) -> int:
        return sum(1 for event in self.acknowledged if holds(event))


async def test_killing_node_b_loses_and_repeats_no_delivery_and_ends_its_stream(cluster: Cluster) -> None:
    receiver = HeldReceiver()
    app = web.Application()
    app.router.add_post("/events", receiver.handle)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/events"  # type: ignore[union-attr]
    admin_a = await ApiClient.signed_in(cluster.a.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    admin_b = await ApiClient.signed_in(cluster.b.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    watcher = await Socket(await ApiClient.signed_in(cluster.a.url, ADMIN_EMAIL, ADMIN_PASSWORD)).open()
    async with admin_a.request("POST", "/api/integrations", json={"url": url}) as response:
        assert response.status == 201, await response.text()
        integration = (await response.json())["id"]
    camera = Camera(cluster.workdir, cluster.b.url, cluster.workdir / "keys", "Officer Stranded",
                    data_dir=cluster.b.data_dir)
    try:
        _, streams = await local_list_changes(admin_b, lambda streams: any(s["camera"] == "Officer Stranded"
                                                                            for s in streams))
        stream_id = next(s["id"] for s in streams if s["camera"] == "Officer Stranded")
        await watcher.until(lambda: watcher.first_time(_has(stream_id)) is not None)
        events = []
        for n in range(20):  # queued through both nodes; both deliver from the one queue
            async with (admin_a if n % 2 else admin_b).request("POST", f"/api/integrations/{integration}/test") as r:
                assert r.status == 202, await r.text()
                events.append((await r.json())["event"])
        await watcher.until(lambda: receiver.held >= 16)  # eight attempts at a time on each node

        cluster.b.proc.kill()  # kill -9: its eight attempts are cut off unanswered, its claims stay
        killed_at = time.monotonic()
        await asyncio.sleep(0.5)
        receiver.release.set()

        def all_came() -> bool:
            return (all(receiver.count(lambda e, i=i: e["id"] == i) for i in events)
                    and receiver.count(lambda e: e["type"] == "stream.ended") >= 1)
        await watcher.until(all_came, timeout=40)  # node B's claims end after their lease (15 s)
        gone_at = next(at for at, m in watcher.messages if at > killed_at and not _has(stream_id)(m["streams"]))
        assert gone_at - killed_at < DIRECTORY_TTL_S + DIRECTORY_CHECK_S + 1.5
        await asyncio.sleep(DIRECTORY_CHECK_S + 1)  # nothing comes twice, later either
        assert [receiver.count(lambda e, i=i: e["id"] == i) for i in events] == [1] * len(events)
        for kind in ("stream.started", "stream.ended"):
            assert receiver.count(lambda e, k=kind: e["type"] == k and e["stream_id"] == stream_id) == 1, kind
        async with admin_a.request("GET", "/api/integrations/deliveries") as response:
            deliveries = (await response.json())["deliveries"]
        assert {d["status"] for d in deliveries} == {"delivered"}
    finally:
        receiver.release.set()
        await asyncio.to_thread(camera.stop)
        await watcher.close()
        await admin_a.close()
        await admin_b.close()
        await runner.cleanup()
