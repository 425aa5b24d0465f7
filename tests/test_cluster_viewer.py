"""A viewer who reaches a node that does not hold the stream (issue 15 part 2): two
``bwlive serve`` nodes on loopback (one PostgreSQL, one Redis, one node key), a real camera
agent publishing to node B, viewers signed in on node A. Node A checks the viewer, finds
the stream in the directory and hands the session to node B over a signed node call; the
media comes from node B, and keepalive, decrypt-state and leave go through node A. A
member removed while watching loses the stream on node B. Attackers: another
organisation, no credential, a token scoped elsewhere, forged node calls straight to node
B (unsigned, wrongly signed, tampered, stale, replayed, another organisation's, malformed);
a node that was not given the node key is refused by node B, its viewer told why (503).
Last, node B is killed while a viewer watches: node A answers 404 with a sentence, never a
5xx."""
from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from unittest import mock

import aiohttp
import pytest

from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.kernel import node_calls
from bwlive_rtc.kernel.errors import BadRequest, Unavailable
from bwlive_rtc.kernel.node_calls import NodeCaller, NodeKey
from bwlive_rtc.viewer.session import ApiClient
from bwlive_rtc.workers.nodes import OtherNodes
from tests.cluster_nodes import (
    OTHER_EMAIL,
    OTHER_PASSWORD,
    Cluster,
    add_other_organisation,
    camera_on_b,
    local_list_changes,
    two_nodes,
)
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Camera
from tests.test_groups import invite
from tests.viewing import DecodingViewer

CAMERA = "Officer Far"
SITE = "https://embed.example"
MEDIA_PORTS = 41000 + os.getpid() % 40 * 200  # node A's media ports from here, node B's 100 above


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, system_keys: SystemKeyPair, workdir: Path) -> Iterator[Cluster]:
    ranges = (f"{MEDIA_PORTS}-{MEDIA_PORTS + 99}", f"{MEDIA_PORTS + 100}-{MEDIA_PORTS + 199}")
    with two_nodes(workdir, tmp_path_factory.mktemp("redis"),
                   each=(("--media-ports", ranges[0]), ("--media-ports", ranges[1]))) as nodes:
        add_other_organisation(nodes)
        yield nodes


@pytest.fixture(scope="module")
def camera(cluster: Cluster) -> Iterator[Camera]:
    """A real camera agent publishing to node B."""
    with camera_on_b(cluster, CAMERA) as agent:
        yield agent


@pytest.fixture
async def on_a(cluster: Cluster) -> AsyncIterator[ApiClient]:
    client = await ApiClient.signed_in(cluster.a.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    yield client
    await client.close()


async def stream_on_b(cluster: Cluster) -> dict:
    """The camera's stream, once node A lists it too (from node B's directory entry)."""
    streams: list[dict] = []
    for url in (cluster.b.url, cluster.a.url):
        client = await ApiClient.signed_in(url, ADMIN_EMAIL, ADMIN_PASSWORD)
        try:
            _, streams = await local_list_changes(client, lambda streams: any(s["camera"] == CAMERA for s in streams))
        finally:
            await client.close()
    return next(s for s in streams if s["camera"] == CAMERA)


async def until(condition, timeout: float = 20.0, what: str = "") -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"never came: {what}"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


def advancing(viewer: DecodingViewer, count: int) -> bool:
    numbers = [number for _, number, _ in viewer.codes]
    return len(numbers) >= count and numbers == sorted(numbers)


async def test_a_viewer_on_node_a_watches_the_camera_on_node_b(cluster: Cluster, camera: Camera, on_a: ApiClient,
                                                                system_keys: SystemKeyPair) -> None:
    stream = await stream_on_b(cluster)
    viewer = DecodingViewer(on_a, stream, system_keys)
    asked = time.monotonic()
    await viewer.start()
    try:
        assert viewer.client.location.startswith(f"/whep/{stream['id']}/")  # a resource of node A
        candidates = [int(line.split()[5]) for line in viewer.client.pc.remoteDescription.sdp.splitlines()
                      if line.startswith("a=candidate:")]  # the answer's: node B's media ports, not node A's
        assert candidates and all(MEDIA_PORTS + 100 <= port < MEDIA_PORTS + 200 for port in candidates), candidates
        await until(lambda: bool(viewer.codes), what="a decoded frame")
        first = time.monotonic() - asked
        await until(lambda: advancing(viewer, 30), what="30 frames in order")
        print(f"cross-node view: first decoded frame {first:.2f} s after the WHEP offer to node A")
        assert viewer.audio_packets > 0  # decrypted with the stream key too
        location = viewer.client.location
        async with on_a.request("POST", f"{location}/keepalive") as response:  # relayed to node B
            assert response.status == 204, await response.text()
        async with on_a.request("POST", f"{location}/decrypt-state", json={"decrypting": True}) as response:
            assert response.status == 204, await response.text()
        async with on_a.request("DELETE", location) as response:
            assert response.status == 200 and (await response.json())["left"] == location.rsplit("/", 1)[1]
        viewer.client.location = None
        async with on_a.request("POST", f"{location}/keepalive") as response:  # node B ended it
            assert response.status == 404 and "no viewer" in (await response.json())["error"]
    finally:
        await viewer.stop()
    async with on_a.request("GET", "/api/organisation/audit", params={"action": "stream viewed"}) as response:
        entries = (await response.json())["entries"]  # node A checked and audited the view
    assert any(e["details"].get("stream") == stream["id"] for e in entries), entries[:3]


async def test_a_member_removed_while_watching_across_nodes_loses_the_stream(
        cluster: Cluster, camera: Camera, on_a: ApiClient, system_keys: SystemKeyPair) -> None:
    stream = await stream_on_b(cluster)
    member = await invite(on_a, "watcher@example.test", "Wanda Watcher", "viewer")
    viewer = DecodingViewer(member, stream, system_keys)
    await viewer.start()
    try:
        await until(lambda: advancing(viewer, 10), what="the member's frames")
        location = viewer.client.location
        async with on_a.request("DELETE", f"/api/organisation/members/{member.session['user']['id']}") as response:
            assert response.status == 200, await response.text()
        removed = time.monotonic()
        async with member.request("POST", f"{location}/keepalive") as response:
            assert response.status == 403, await response.text()  # node A no longer admits the member
        # node B dropped the consumer: a keepalive signed as node A would sign it finds no viewer there
        who = NodeCaller(member.session["user"]["id"], on_a.session["organisation"]["id"])
        path = f"/node/streams/{stream['id']}/viewers/{location.rsplit('/', 1)[1]}/keepalive"
        gone = 0
        while gone != 404:
            assert time.monotonic() - removed < 5, f"node B still holds the removed member's viewer ({gone})"
            headers = signed(NodeKey(cluster.node_key), cluster.b.url, "POST", path, who, b"{}")
            async with aiohttp.ClientSession() as http, http.post(cluster.b.url + path, data=b"{}",
                                                                  headers=headers) as response:
                gone = response.status
            await asyncio.sleep(0.1)
        dropped = time.monotonic() - removed
        seen = len(viewer.codes)
        await asyncio.sleep(1.5)
        assert len(viewer.codes) <= seen + 2, "frames still came after the removal"
        print(f"removed member's viewer dropped by node B {dropped:.2f} s after the removal through node A")
    finally:
        await viewer.stop()
        await member.close()


async def test_other_organisations_strangers_and_scoped_tokens_get_what_a_local_miss_gets(
        cluster: Cluster, camera: Camera, on_a: ApiClient) -> None:
    stream = await stream_on_b(cluster)
    offer = {"data": "v=0\r\n", "headers": {"Content-Type": "application/sdp"}}
    stranger = await ApiClient.signed_in(cluster.a.url, OTHER_EMAIL, OTHER_PASSWORD)
    try:
        async with stranger.request("POST", f"/whep/{stream['id']}", **offer) as response:
            assert response.status == 404
            refused = (await response.json())["error"]
        async with stranger.request("POST", "/whep/no-such-stream", **offer) as response:
            assert response.status == 404
            missing = (await response.json())["error"]
        assert refused == missing.replace("no-such-stream", stream["id"])  # as unknown as a stream that is not
        async with stranger.request("OPTIONS", f"/whep/{stream['id']}") as response:
            assert response.status == 404
    finally:
        await stranger.close()
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.post(f"{cluster.a.url}/whep/{stream['id']}", **offer) as response:  # type: ignore[arg-type]
            assert response.status == 401 and (await response.json())["error"]

    async with on_a.request("POST", "/api/organisation/api-keys", json={
            "name": "embed", "role": "viewer", "origins": [SITE]}) as response:
        assert response.status == 201, await response.text()
        secret = (await response.json())["secret"]
    groups = {}
    for name, members in (("Elsewhere", ["Someone Else"]), ("Far away", [CAMERA])):
        async with on_a.request("POST", "/api/groups", json={"name": name, "members": members}) as response:
            assert response.status < 300, await response.text()
    async with on_a.request("GET", "/api/groups") as response:
        groups = {g["name"]: g["id"] for g in (await response.json())["groups"]}
    async with aiohttp.ClientSession() as backend:
        for scope, status in (({"streams": ["Someone Else"]}, 404), ({"groups": [groups["Elsewhere"]]}, 404),
                              ({"streams": [CAMERA]}, 415), ({"groups": [groups["Far away"]]}, 415)):
            async with backend.post(f"{cluster.a.url}/api/tokens", json={"scope": scope},
                                    headers={"Authorization": f"Bearer {secret}"}) as response:
                assert response.status == 201, await response.text()
                token = (await response.json())["token"]
            async with backend.post(f"{cluster.a.url}/whep/{stream['id']}", data="v=0", headers={
                    "Authorization": f"Bearer {token}", "Origin": SITE}) as response:  # 415: in scope, on to the offer
                assert response.status == status, (scope, await response.text())
    # malformed WHEP input on node A: a sentence, never a 5xx
    for method, path, kwargs in (
            ("POST", f"/whep/{stream['id']}", {"data": b"\xff\xfe", "headers": {"Content-Type": "application/sdp"}}),
            ("POST", f"/whep/{stream['id']}", {"data": "not sdp", "headers": {"Content-Type": "application/sdp"}}),
            ("POST", f"/whep/{stream['id']}/nobody/keepalive", {}),
            ("POST", f"/whep/{stream['id']}/nobody/decrypt-state", {"json": {"decrypting": "yes"}}),
            ("DELETE", f"/whep/{stream['id']}/nobody", {}),
            ("POST", "/whep/%20bad%20id", offer)):
        async with on_a.request(method, path, **kwargs) as response:
            assert 400 <= response.status < 500, (method, path, response.status, await response.text())
            assert (await response.json())["error"]


def signed(key: NodeKey, node: str, method: str, path: str, who: NodeCaller, body: bytes) -> dict[str, str]:
    """The headers of a call to the node at ``node`` (its node URL)."""
    return {**key.sign(node, method, path, who, body), "Content-Type": "application/json"}


async def test_forged_node_calls_to_node_b_are_refused(cluster: Cluster, camera: Camera, on_a: ApiClient) -> None:
    stream = await stream_on_b(cluster)
    me = NodeCaller(on_a.session["user"]["id"], on_a.session["organisation"]["id"])
    stranger = await ApiClient.signed_in(cluster.a.url, OTHER_EMAIL, OTHER_PASSWORD)
    other_org = NodeCaller(stranger.session["user"]["id"], stranger.session["organisation"]["id"])
    await stranger.close()
    key, wrong_key = NodeKey(cluster.node_key), NodeKey(b"\x01" * 32)
    path = f"/node/streams/{stream['id']}/viewers"
    body = json.dumps({"offer": "v=0\r\n", "viewer": me.viewer}).encode()

    async def call(method: str, path: str, data: bytes, headers: dict[str, str]) -> tuple[int, str]:
        async with aiohttp.ClientSession() as http, http.request(method, cluster.b.url + path, data=data,
                                                                 headers=headers) as response:
            answer = await response.json()
            assert 400 <= response.status < 500 and answer["error"], (response.status, answer)
            return response.status, answer["error"]

    status, error = await call("POST", path, body, {"Content-Type": "application/json"})
    assert status == 401 and "node-to-node call needs the headers" in error
    person = await ApiClient.signed_in(cluster.b.url, ADMIN_EMAIL, ADMIN_PASSWORD)  # a person's session is no node
    try:
        async with person.request("POST", path, data=body, headers={"Content-Type": "application/json"}) as response:
            assert response.status == 401 and "node-to-node call needs the headers" in (await response.json())["error"]
    finally:
        await person.close()
    status, error = await call("POST", path, body, signed(wrong_key, cluster.b.url, "POST", path, me, body))
    assert status == 401 and "does not match" in error
    tampered = body.replace(b"v=0", b"v=1")
    status, error = await call("POST", path, tampered, signed(key, cluster.b.url, "POST", path, me, body))
    assert status == 401 and "does not match" in error
    status, error = await call("POST", path, body, signed(key, cluster.a.url, "POST", path, me, body))
    assert status == 401 and "for another node" in error  # a call to node A, played to node B
    headers = signed(key, cluster.b.url, "POST", path, me, body)
    headers[node_calls.ORGANISATION] = other_org.organisation_id  # the organisation changed on the way
    status, error = await call("POST", path, body, headers)
    assert status == 401 and "does not match" in error
    with mock.patch.object(node_calls.time, "time", return_value=time.time() - 120):
        stale = signed(key, cluster.b.url, "POST", path, me, body)
    status, error = await call("POST", path, body, stale)
    assert status == 401 and "more than 30 s" in error

    keepalive = f"/node/streams/{stream['id']}/viewers/nobody/keepalive"
    once = signed(key, cluster.b.url, "POST", keepalive, me, b"{}")
    status, error = await call("POST", keepalive, b"{}", once)
    assert status == 404 and "no viewer" in error  # a good call, for a viewer that is not there
    status, error = await call("POST", keepalive, b"{}", once)
    assert status == 401 and "once already" in error  # the same call again: a replay

    other_body = json.dumps({"offer": "v=0\r\n", "viewer": other_org.viewer}).encode()
    status, error = await call("POST", path, other_body, signed(key, cluster.b.url, "POST", path, other_org, other_body))
    assert status == 404 and "no live stream" in error  # well signed, but not that organisation's stream

    for bad_path, data in ((path, b"{not json"), (path, json.dumps({"offer": "v=0", "viewer": "someone else"}).encode()),
                           (path, json.dumps({"offer": 5}).encode()), ("/node/streams/%20/viewers", body),
                           (f"/node/streams/{stream['id']}/viewers/nobody/keepalive", b'{"decrypting": "no"}')):
        headers = signed(key, cluster.b.url, "POST", bad_path.replace("%20", " "), me, data)
        status, error = await call("POST", bad_path, data, headers)
        assert status in (400, 404), (bad_path, data, status, error)


async def test_a_node_with_another_node_key_is_refused_and_its_viewer_told_why(
        cluster: Cluster, camera: Camera, on_a: ApiClient) -> None:
    """This test process as a node of the cluster whose node key was not copied: node B
    refuses its signed call, and what its viewer would get is a 503 saying why (not a 401,
    which would blame the viewer's own credential)."""
    stream = await stream_on_b(cluster)
    entry = {**stream, "node": "another", "node_url": cluster.b.url,
             "organisation_ids": [on_a.session["organisation"]["id"]]}
    who = NodeCaller(on_a.session["user"]["id"], on_a.session["organisation"]["id"])
    without, holding = OtherNodes(NodeKey(b"\x02" * 32), "a-node-without"), OtherNodes(NodeKey(cluster.node_key), "a-node")
    try:
        with pytest.raises(Unavailable, match="do not hold the same node key"):
            await without.stream(entry, who).subscribe("v=0\r\n", who.viewer)
        with pytest.raises(BadRequest):  # with the key, node B reads the call (and refuses the offer)
            await holding.stream(entry, who).subscribe("v=0\r\n", who.viewer)
    finally:
        await without.close()
        await holding.close()


async def test_node_b_killed_while_watching_gets_404_on_node_a(cluster: Cluster, camera: Camera, on_a: ApiClient,
                                                               system_keys: SystemKeyPair) -> None:
    stream = await stream_on_b(cluster)
    viewer = DecodingViewer(on_a, stream, system_keys)
    await viewer.start()
    try:
        await until(lambda: advancing(viewer, 10), what="frames before the kill")
        location = viewer.client.location
        cluster.b.proc.kill()  # kill -9, while the viewer watches
        killed = time.monotonic()
        answers = []
        while time.monotonic() - killed < 10:  # before and after node B's directory entry expires
            for method, path, kwargs in (
                    ("POST", f"/whep/{stream['id']}", {"data": "v=0\r\n", "headers": {"Content-Type": "application/sdp"}}),
                    ("POST", f"{location}/keepalive", {}),
                    ("OPTIONS", f"/whep/{stream['id']}", {})):
                async with on_a.request(method, path, **kwargs) as response:
                    answers.append((round(time.monotonic() - killed, 1), method, path, response.status,
                                    (await response.json())["error"] if response.status != 204 else ""))
            await asyncio.sleep(0.5)
        # the ICE servers are node A's own: listed until node B's entry expires, then 404 too
        assert all(status == 404 or (method == "OPTIONS" and status == 204) for _, method, _, status, _ in answers), \
            answers
        assert answers[-1][3] == 404, answers
        sentences = {error.split("(")[0] for *_, error in answers}
        assert any("does not answer" in error for *_, error in answers), sentences  # while still listed
        assert any("no live stream" in error for *_, error in answers[-3:]), sentences  # once it left the list
        print(f"after kill -9 of node B: {len(answers)} requests to node A, no 5xx")
    finally:
        viewer.client.location = None
        await viewer.stop()
