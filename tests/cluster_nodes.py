"""Two ``bwlive serve`` nodes on loopback sharing one PostgreSQL and one Redis (issue 15):
what tests/test_cluster.py and tests/test_cluster_failover*.py start their cluster with."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.postgres import DATABASE_VARIABLE, share_database, shared_postgresql
from tests.processes import Server
from tests.redis_server import RedisServer


class Cluster:
    """Nodes ``a`` and ``b`` (started in that order) in ``workdir``; ``database``: their
    PostgreSQL URL, ``bus``: their Redis."""

    def __init__(self, workdir: Path, a: Server, b: Server, database: str, bus: RedisServer) -> None:
        self.workdir, self.a, self.b, self.database, self.bus = workdir, a, b, database, bus


@contextmanager
def two_nodes(workdir: Path, redis_dir: Path, *extra: str) -> Iterator[Cluster]:
    """Redis, PostgreSQL (``$BWLIVE_DATABASE`` set to it meanwhile) and nodes ``a`` and
    ``b`` (data in ``workdir/a``, ``workdir/b``; keys in ``workdir/keys``), each started
    with ``--bus``, ``--allow-private-integration-targets`` and ``extra``; all stopped at
    the end, the nodes before their database."""
    redis_server = RedisServer(redis_dir)
    before = os.environ.get(DATABASE_VARIABLE)
    try:
        with shared_postgresql() as database:
            os.environ[DATABASE_VARIABLE] = database
            nodes: list[Server] = []
            try:
                for name in ("a", "b"):
                    (workdir / name).mkdir()
                    share_database(workdir / name / "data")
                    nodes.append(Server(workdir / name, workdir / "keys", "--bus", redis_server.url,
                                        "--allow-private-integration-targets", *extra))
                yield Cluster(workdir, nodes[0], nodes[1], database, redis_server)
            finally:
                for node in nodes:
                    node.stop()
    finally:  # (also when the database did not start)
        redis_server.stop()
        if before is None:
            os.environ.pop(DATABASE_VARIABLE, None)
        else:
            os.environ[DATABASE_VARIABLE] = before
