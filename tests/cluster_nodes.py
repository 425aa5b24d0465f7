"""Two ``bwlive serve`` nodes on loopback sharing one PostgreSQL, one Redis and one node key
(issue 15): what tests/test_cluster*.py start their cluster with; another organisation
beside the test one, and polling a node's own list."""
from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bwlive_rtc.cli.admin import bootstrap
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.kernel.files import private_directory, write_private
from bwlive_rtc.kernel.node_calls import KEY_FILE
from bwlive_rtc.viewer.session import ApiClient
from tests.postgres import DATABASE_VARIABLE, share_database, shared_postgresql
from tests.processes import Camera, Server
from tests.redis_server import RedisServer

OTHER_EMAIL, OTHER_PASSWORD = "admin@other.test", "another long passphrase"


class Cluster:
    """Nodes ``a`` and ``b`` (started in that order) in ``workdir``; ``database``: their
    PostgreSQL URL, ``bus``: their Redis, ``node_key``: the node key both hold."""

    def __init__(self, workdir: Path, a: Server, b: Server, database: str, bus: RedisServer, node_key: bytes) -> None:
        self.workdir, self.a, self.b, self.database, self.bus = workdir, a, b, database, bus
        self.node_key = node_key


@contextmanager
def two_nodes(workdir: Path, redis_dir: Path, *extra: str,
              each: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())) -> Iterator[Cluster]:
    """Redis, PostgreSQL (``$BWLIVE_DATABASE`` set to it meanwhile) and nodes ``a`` and
    ``b`` (data in ``workdir/a``, ``workdir/b``, with the same ``node-key`` copied in, as
    the operator does; keys in ``workdir/keys``), each started with ``--bus``,
    ``--allow-private-integration-targets``, ``extra`` and its own of ``each``; all
    stopped at the end, the nodes before their database."""
    redis_server = RedisServer(redis_dir)
    before = os.environ.get(DATABASE_VARIABLE)
    node_key = secrets.token_bytes(32)
    try:
        with shared_postgresql() as database:
            os.environ[DATABASE_VARIABLE] = database
            nodes: list[Server] = []
            try:
                for name, own in zip(("a", "b"), each, strict=True):
                    (workdir / name).mkdir()
                    share_database(workdir / name / "data")
                    private_directory(workdir / name / "data")
                    write_private(workdir / name / "data" / KEY_FILE, node_key)
                    nodes.append(Server(workdir / name, workdir / "keys", "--bus", redis_server.url,
                                        "--allow-private-integration-targets", *extra, *own))
                yield Cluster(workdir, nodes[0], nodes[1], database, redis_server, node_key)
            finally:
                for node in nodes:
                    node.stop()
    finally:  # (also when the database did not start)
        redis_server.stop()
        if before is None:
            os.environ.pop(DATABASE_VARIABLE, None)
        else:
            os.environ[DATABASE_VARIABLE] = before


def add_other_organisation(cluster: Cluster) -> None:
    """Another organisation (``OTHER_EMAIL``'s) in the cluster's database."""
    bootstrap(Settings(data_dir=cluster.workdir / "other", keys_dir=cluster.workdir / "no-keys",
                       database_url=cluster.database), "Other organisation", OTHER_EMAIL, "Oz Other", OTHER_PASSWORD)


async def local_list_changes(client: ApiClient, holds: Any, timeout: float = 30.0) -> tuple[float, list[dict]]:
    """Poll a node's own list (what ``client`` is signed in to) until ``holds``; when it first did."""
    deadline = time.monotonic() + timeout
    while True:
        async with client.request("GET", "/api/streams") as response:
            streams = (await response.json())["streams"]
        if holds(streams):
            return time.monotonic(), streams
        assert time.monotonic() < deadline, f"the node's list never changed: {streams}"
        await asyncio.sleep(0.02)


async def until(check: Any, what: str, timeout: float = 30.0, every: float = 0.05) -> Any:
    """What ``check()`` returns once it is true, asked every ``every`` seconds; fails
    saying ``what`` never came after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not (result := await check()):
        assert time.monotonic() < deadline, f"{what}: never came"
        await asyncio.sleep(every)
    return result


@contextmanager
def camera_on_b(cluster: Cluster, name: str) -> Iterator[Camera]:
    """A real camera agent ``name`` streaming to node B (docked on node B's data directory)."""
    camera = Camera(cluster.workdir, cluster.b.url, cluster.workdir / "keys", name, data_dir=cluster.b.data_dir)
    try:
        camera.wait_for("streaming", timeout=40)
        yield camera
    finally:
        camera.stop()
