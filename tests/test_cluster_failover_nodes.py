"""Issue 15 part 4, what any node of a cluster does as well as the one holding the state
(two nodes on loopback, one PostgreSQL, one Redis). Ending a stream by hand
(``POST /api/streams/{id}/end``) through a node that does not hold it: a camera streams
to node B; an operator asks node A: node A audits it once and hands it over the bus, node
B ends it. Refused through node A, with a sentence, and the stream left running: another
organisation's admin (404), a viewer (403), nobody signed in (401), an unknown id (404), a
malformed one (400). And the sign-in back-off is one budget across the nodes: guesses
through node A make node B refuse the next too."""
from __future__ import annotations

import asyncio
import time

import aiohttp

from bwlive_rtc.viewer.session import ApiClient
from tests.cluster_nodes import Cluster
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Camera
from tests.test_cluster import OTHER_EMAIL, OTHER_PASSWORD, cluster  # noqa: F401 (cluster: the fixture)
from tests.test_groups import PASSWORD, invite

CAMERA = "Officer Ended"


async def _listed(node: ApiClient) -> list[str]:
    """The camera's streams a node lists."""
    async with node.request("GET", "/api/streams") as response:
        return [s["id"] for s in (await response.json())["streams"] if s["camera"] == CAMERA]


async def _refused(response: aiohttp.ClientResponse, status: int, words: str) -> None:
    body = await response.json()
    assert response.status == status and words in body["error"], (response.status, body)


async def test_a_stream_on_node_b_is_ended_through_node_a_once_and_only_by_its_organisation_s_operators(
        cluster: Cluster) -> None:
    admin_a = await ApiClient.signed_in(cluster.a.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    on_b = await ApiClient.signed_in(cluster.b.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    stranger = await ApiClient.signed_in(cluster.a.url, OTHER_EMAIL, OTHER_PASSWORD)
    viewer = await invite(admin_a, "viewer@example.test", "Vic Viewer", "viewer")
    camera = Camera(cluster.workdir, cluster.b.url, cluster.workdir / "keys", CAMERA, data_dir=cluster.b.data_dir)
    try:
        deadline = time.monotonic() + 30
        while not (held := await _listed(on_b)):
            assert time.monotonic() < deadline, "the camera never streamed on node B"
            await asyncio.sleep(0.1)
        stream_id = held[0]
        end = f"/api/streams/{stream_id}/end"

        async with stranger.request("POST", end) as response:  # another organisation's admin, through node A
            await _refused(response, 404, "no live stream")
        async with viewer.request("POST", end) as response:
            await _refused(response, 403, "operator")
        async with aiohttp.ClientSession() as nobody:
            async with nobody.post(cluster.a.url + end) as response:
                await _refused(response, 401, "sign in")
        async with admin_a.request("POST", "/api/streams/nO-sUcH-sTrEaM01/end") as response:
            await _refused(response, 404, "no live stream")
        async with admin_a.request("POST", "/api/streams/" + "x" * 5000 + "/end") as response:
            assert response.status == 400, await response.text()
        await asyncio.sleep(1)
        assert await _listed(on_b) == [stream_id]  # none of them ended it

        async with admin_a.request("POST", end) as response:
            assert response.status == 200 and await response.json() == {"ended": stream_id}
        asked_at = time.monotonic()
        while stream_id in await _listed(on_b):  # node B ended it (the camera may publish a new one)
            assert time.monotonic() - asked_at < 2.0, "node B did not end the stream"
            await asyncio.sleep(0.02)
        while stream_id in await _listed(admin_a):  # node A's list follows node B's
            assert time.monotonic() - asked_at < 2.0, "node A still lists the stream"
            await asyncio.sleep(0.02)
        async with admin_a.request("POST", end) as response:  # again: it is gone
            await _refused(response, 404, "no live stream")
        async with on_b.request("GET", "/api/organisation/audit") as response:
            entries = (await response.json())["entries"]
        assert [e["details"].get("stream") for e in entries if e["action"] == "stream ended"] == [stream_id]
        async with stranger.request("GET", "/api/organisation/audit") as response:  # not in the other's log
            assert stream_id not in await response.text()
    finally:
        await asyncio.to_thread(camera.stop)
        for client in (admin_a, on_b, stranger, viewer):
            await client.close()


async def test_failed_sign_ins_through_node_a_make_node_b_wait_too(cluster: Cluster) -> None:
    admin_a = await ApiClient.signed_in(cluster.a.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    guessed = await invite(admin_a, "guessed@example.test", "Gus Guessed", "viewer")
    try:
        async with aiohttp.ClientSession() as attacker:
            for _ in range(3):  # the free tries, each through node A: wrong
                async with attacker.post(cluster.a.url + "/api/session",
                                         json={"email": "guessed@example.test", "password": "wrong guess"}) as response:
                    assert response.status == 401, await response.text()
            for node in (cluster.b, cluster.a):  # the next try must wait, on node B as on node A
                async with attacker.post(node.url + "/api/session",
                                         json={"email": "guessed@example.test", "password": "wrong guess"}) as response:
                    await _refused(response, 429, "too many failed sign-ins")
                    assert int(response.headers["Retry-After"]) >= 1
            async with attacker.post(cluster.b.url + "/api/session",  # even the right password waits
                                     json={"email": "guessed@example.test", "password": PASSWORD}) as response:
                await _refused(response, 429, "too many failed sign-ins")
            await asyncio.sleep(1.5)  # the first wait (1 s) is over: the owner signs in through node B
            async with attacker.post(cluster.b.url + "/api/session",
                                     json={"email": "guessed@example.test", "password": PASSWORD}) as response:
                assert response.status == 200, await response.text()
        await (await ApiClient.signed_in(cluster.b.url, ADMIN_EMAIL, ADMIN_PASSWORD)).close()  # another account: free
        cluster.bus.stop()  # Redis goes away (the module's last test): node B counts on its own meanwhile, no 5xx
        async with aiohttp.ClientSession() as attacker:
            for status in (401, 401, 401, 429):
                async with attacker.post(cluster.b.url + "/api/session",
                                         json={"email": "guessed@example.test", "password": "wrong"}) as response:
                    assert response.status == status, await response.text()
    finally:
        await admin_a.close()
        await guessed.close()
