"""A viewer who reaches node A of a camera publishing to node B, with node B's SFU in
media worker processes (``--workers 2``, issue 15 parts 1 and 2 together): node A hands
the session to node B, whose front hands it to the worker holding the stream. The same
checks as tests/test_cluster_viewer.py (its test, run here on this cluster): node B's
media ports in the answer, frames decoded in order with audio, keepalive, decrypt-state
and leave through node A."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.viewer.session import ApiClient
from tests.cluster_nodes import Cluster, two_nodes
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Camera
from tests.test_cluster_viewer import (  # noqa: F401 (fixtures on this module's cluster, and the test run on it)
    MEDIA_PORTS,
    camera,
    on_a,
    stream_on_b,
    test_a_viewer_on_node_a_watches_the_camera_on_node_b,
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, system_keys: SystemKeyPair, workdir: Path) -> Iterator[Cluster]:
    ranges = (f"{MEDIA_PORTS}-{MEDIA_PORTS + 99}", f"{MEDIA_PORTS + 100}-{MEDIA_PORTS + 199}")
    with two_nodes(workdir, tmp_path_factory.mktemp("redis"),
                   each=(("--media-ports", ranges[0]), ("--media-ports", ranges[1], "--workers", "2"))) as nodes:
        yield nodes


async def test_the_stream_lives_in_one_of_node_b_s_media_workers(cluster: Cluster, camera: Camera) -> None:
    stream = await stream_on_b(cluster)
    admin_b = await ApiClient.signed_in(cluster.b.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    try:
        async with admin_b.request("GET", "/api/media-workers") as response:
            assert response.status == 200, await response.text()
            workers = (await response.json())["workers"]
    finally:
        await admin_b.close()
    assert len(workers) == 2, workers
    assert [stream["id"] in worker["streams"] for worker in workers].count(True) == 1, workers
    assert f"stream {stream['id']} of {stream['camera']} placed on media worker" in cluster.b.output
