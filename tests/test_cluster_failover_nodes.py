"""Issue 15 part 4, what any node of a cluster does as well as the one holding the state
(two nodes on loopback, one PostgreSQL, one Redis). Ending a stream by hand
(``POST /api/streams/{id}/end``) through a node that does not hold it: a camera streams
to node B; an operator asks node A: node A audits it once and hands it over the bus, node
B ends it. Refused through node A, with a sentence, and the stream left running: another
organisation's admin (404), a viewer (403), nobody signed in (401), an unknown id (404), a
malformed one (400). And the rate limits are one budget across the nodes: guesses through
node A make node B refuse the next sign-in too, and an operator acknowledging through
node A and node B in turn is refused at the same count as on one node; with Redis away
each node counts on its own, never a 5xx."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import aiohttp
import pytest

from bwlive_rtc.crypto.acknowledgement import seal_acknowledgement, viewer_sender
from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.viewer.session import ApiClient
from tests.cluster_nodes import Cluster, camera_on_b
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Camera
from tests.test_cluster import OTHER_EMAIL, OTHER_PASSWORD, cluster  # noqa: F401 (cluster: the fixture)
from tests.test_groups import PASSWORD, invite

CAMERA = "Officer Ended"
ACKNOWLEDGED = "Officer Pressed"


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
    finally:
        await admin_a.close()
        await guessed.close()


@pytest.fixture(scope="module")
def acknowledged_camera(cluster: Cluster) -> Iterator[Camera]:
    """A camera streaming to node B, for the acknowledgement tests."""
    with camera_on_b(cluster, ACKNOWLEDGED) as camera:
        yield camera


async def _acknowledgeable(node: ApiClient, keys: SystemKeyPair) -> tuple[str, Callable[[], str]]:
    """The acknowledged camera's stream, as ``node`` lists it, and a maker of fresh presses
    sealed with its key."""
    deadline = time.monotonic() + 30
    while not (found := [s for s in await _streams(node) if s["camera"] == ACKNOWLEDGED]):
        assert time.monotonic() < deadline, "node never listed the camera"
        await asyncio.sleep(0.1)
    sender = viewer_sender(KeyEnvelope.from_json(found[0]["key_envelope"]).open(keys))
    return found[0]["id"], lambda: seal_acknowledgement(sender, int(time.time() * 1000))


async def _streams(node: ApiClient) -> list[dict]:
    async with node.request("GET", "/api/streams") as response:
        return list((await response.json())["streams"])


async def _acknowledge(node: ApiClient, stream_id: str, body: object) -> tuple[int, dict, str | None]:
    async with node.request("POST", f"/api/streams/{stream_id}/acknowledge", json=body) as response:
        return response.status, await response.json(), response.headers.get("Retry-After")


async def test_acknowledgements_through_either_node_draw_on_one_budget(
        cluster: Cluster, acknowledged_camera: Camera, system_keys: SystemKeyPair) -> None:
    """One operator alternating between the nodes is refused at the same count as on one
    node (3 at once, then one per 2 s); another operator's budget is their own."""
    admin_a = await ApiClient.signed_in(cluster.a.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    operator = await invite(admin_a, "presser@example.test", "Pat Presser", "operator")
    operator_b = await ApiClient.signed_in(cluster.b.url, "presser@example.test", PASSWORD)
    stranger = await ApiClient.signed_in(cluster.a.url, OTHER_EMAIL, OTHER_PASSWORD)
    try:
        stream_id, sealed = await _acknowledgeable(operator, system_keys)
        await _acknowledgeable(operator_b, system_keys)
        answers = [await _acknowledge(node, stream_id, {"sealed": sealed()})
                   for node in (operator, operator_b, operator, operator_b, operator)]
        assert [status for status, _, _ in answers] == [200, 200, 200, 429, 429], answers
        for _, body, retry_after in answers[3:]:
            assert "you acknowledged this stream just now" in body["error"] and int(retry_after or 0) >= 1, body
        await asyncio.sleep(2.1)  # one token back, for the cluster as a whole
        assert (await _acknowledge(operator_b, stream_id, {"sealed": sealed()}))[0] == 200
        assert (await _acknowledge(operator, stream_id, {"sealed": sealed()}))[0] == 429
        status, _, _ = await _acknowledge(admin_a, stream_id, {"sealed": sealed()})
        assert status == 200  # another operator: their own budget
        deadline = time.monotonic() + 10
        while acknowledged_camera.output.count("acknowledged: by Pat Presser") < 4:
            assert time.monotonic() < deadline, acknowledged_camera.output[-2000:]
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        assert acknowledged_camera.output.count("acknowledged: by Pat Presser") == 4  # the refused never reached it

        # attackers, through node A: another organisation, nobody signed in, malformed presses
        status, body, _ = await _acknowledge(stranger, stream_id, {"sealed": sealed()})
        assert status == 404 and "no live stream" in body["error"]
        async with aiohttp.ClientSession() as nobody:
            async with nobody.post(f"{cluster.a.url}/api/streams/{stream_id}/acknowledge",
                                   json={"sealed": sealed()}) as response:
                await _refused(response, 401, "sign in")
        for bad in ({"sealed": "x" * 300}, {"sealed": 5}, {}, {"sealed": "A" * 40, "by": "someone"}):
            status, body, _ = await _acknowledge(admin_a, stream_id, bad)
            assert status == 400 and body["error"], (bad, status, body)
        status, body, _ = await _acknowledge(admin_a, "x" * 5000, {"sealed": sealed()})
        assert status == 400 and body["error"]
    finally:
        for client in (admin_a, operator, operator_b, stranger):
            await client.close()


async def test_with_redis_away_each_node_counts_on_its_own_and_never_fails(
        cluster: Cluster, acknowledged_camera: Camera, system_keys: SystemKeyPair) -> None:
    """The module's last test: Redis stops. Each node counts sign-in failures and
    acknowledgements on its own meanwhile; no request gets a 5xx but a press through the
    other node, which is refused with 503 and a sentence rather than answered and lost."""
    admin_b = await ApiClient.signed_in(cluster.b.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    operator_b = await invite(admin_b, "alone@example.test", "Al Alone", "operator")
    operator_a = await ApiClient.signed_in(cluster.a.url, "alone@example.test", PASSWORD)
    try:
        stream_id, sealed = await _acknowledgeable(operator_b, system_keys)
        cluster.bus.stop()
        async with aiohttp.ClientSession() as attacker:
            for status in (401, 401, 401, 429):
                async with attacker.post(cluster.b.url + "/api/session",
                                         json={"email": "nobody@example.test", "password": "wrong"}) as response:
                    assert response.status == status, await response.text()
        statuses = [(await _acknowledge(operator_b, stream_id, {"sealed": sealed()}))[0] for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429], statuses
        deadline = time.monotonic() + 10  # node B holds the stream: the presses reach the camera without the bus
        while acknowledged_camera.output.count("acknowledged: by Al Alone") < 3:
            assert time.monotonic() < deadline, acknowledged_camera.output[-2000:]
            await asyncio.sleep(0.1)
        status, answer, retry_after = await _acknowledge(operator_a, stream_id, {"sealed": sealed()})
        assert (status, retry_after) == (503, "2"), (status, answer)
        assert "cannot be reached" in answer["error"], answer
        await asyncio.sleep(1)
        assert acknowledged_camera.output.count("acknowledged: by Al Alone") == 3, acknowledged_camera.output[-2000:]
    finally:
        await admin_b.close()
        await operator_b.close()
        await operator_a.close()
