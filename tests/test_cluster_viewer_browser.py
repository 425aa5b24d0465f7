"""Issue 15 part 2 in real Chromium: two ``bwlive serve`` nodes on loopback (one
PostgreSQL, one Redis), a real camera agent publishing to node B, and an operator signed
in on node A whose console opens the stream's tile: node A hands the WHEP session to node
B, the frames come from node B, are decrypted and verified in the browser, and the tile's
keepalives and decrypt-state go through node A without a refusal."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Response

from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.crypto.system_signing import SigningPublicKey
from tests.cluster_nodes import Cluster, two_nodes
from tests.processes import Camera
from tests.test_browser_keys import signed_in, watch
from tests.test_browser_live import frame_codes
from tests.test_browser_signed import tile_selector

CAMERA = "Officer Faraway"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, system_keys: SystemKeyPair, workdir: Path) -> Iterator[Cluster]:
    with two_nodes(workdir, tmp_path_factory.mktemp("redis")) as nodes:
        yield nodes


def test_an_operator_on_node_a_watches_a_camera_on_node_b_in_chromium(
        cluster: Cluster, system_keys: SystemKeyPair, browser: Browser) -> None:
    camera = Camera(cluster.workdir, cluster.b.url, cluster.workdir / "keys", CAMERA, data_dir=cluster.b.data_dir)
    try:
        camera.wait_for("streaming", timeout=40)
        stream = cluster.a.wait_for_stream(CAMERA)  # node A lists it from node B's directory entry
        assert not {"node", "node_url", "organisation_ids"} & set(stream)  # what only the nodes read stays off the wire
        context, page = signed_in(browser, cluster.a.url)
        whep: list[tuple[str, str, int]] = []

        def seen(response: Response) -> None:
            if "/whep/" in response.url:
                whep.append((response.request.method, response.url, response.status))

        page.on("response", seen)
        try:
            signing_key = SigningPublicKey.load(cluster.workdir / "keys").b64u()
            page.goto(f"{system_keys.link(cluster.a.url)}&sig={signing_key}")
            page.evaluate("window.bwlive.ready")
            watch(page, stream["id"])  # live, and its burned-in frame code advances
            page.wait_for_selector(tile_selector(stream, state="live", verified="yes"), timeout=20_000)
            codes = frame_codes(page, stream["id"], 6)  # long enough for keepalives through node A
            assert len(codes) >= 15 and codes[-1]["frame"] - codes[0]["frame"] >= 60, codes
            assert page.locator(tile_selector(stream)).get_attribute("data-verified") == "yes"
            offers = [w for w in whep if w[0] == "POST" and w[1].endswith(f"/whep/{stream['id']}")]
            assert offers and offers[0][2] == 201 and offers[0][1].startswith(cluster.a.url), whep
            assert all(status < 400 for _, _, status in whep), whep
            print(f"Chromium on node A: {codes[-1]['frame'] - codes[0]['frame']} frames of node B's camera in "
                  f"{len(codes) * 0.2:.1f} s, verified; WHEP requests through node A: {len(whep)}")
        finally:
            context.close()
    finally:
        camera.stop()
