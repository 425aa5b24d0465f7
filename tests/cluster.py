"""Two ``bwlive serve`` nodes on loopback sharing one PostgreSQL and one Redis (and, as
docs/DEPLOYMENT.md says, one ``node-key``), for the cluster tests; and the live-list
WebSocket those tests read."""
from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp

from bwlive_rtc.cli.admin import bootstrap
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.kernel.files import private_directory, write_private
from bwlive_rtc.kernel.node_calls import KEY_FILE
from bwlive_rtc.viewer.session import ApiClient
from tests.postgres import DATABASE_VARIABLE, share_database, shared_postgresql
from tests.processes import Server
from tests.redis_server import RedisServer

OTHER_EMAIL, OTHER_PASSWORD = "admin@other.test", "another long passphrase"


class Cluster:
    def __init__(self, workdir: Path, a: Server, b: Server, node_key: bytes) -> None:
        self.workdir, self.a, self.b, self.node_key = workdir, a, b, node_key


@contextmanager
def two_nodes(redis_directory: Path, workdir: Path, *extra: str,
              each: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())) -> Iterator[Cluster]:
    """Nodes ``a`` and ``b`` with ``extra`` options (``each``: node a's, node b's own), and
    another organisation (``OTHER_EMAIL``'s); stopped after."""
    redis_server = RedisServer(redis_directory)
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
                    write_private(workdir / name / "data" / KEY_FILE, node_key)  # copied, as the operator does
                    nodes.append(Server(workdir / name, workdir / "keys", "--bus", redis_server.url, *extra, *own))
                bootstrap(Settings(data_dir=workdir / "other", keys_dir=workdir / "no-keys", database_url=database),
                          "Other organisation", OTHER_EMAIL, "Oz Other", OTHER_PASSWORD)
                yield Cluster(workdir, nodes[0], nodes[1], node_key)
            finally:  # the nodes stop before their database does
                for node in nodes:
                    node.stop()
    finally:  # (also when the database did not start)
        redis_server.stop()
        if before is None:
            os.environ.pop(DATABASE_VARIABLE, None)
        else:
            os.environ[DATABASE_VARIABLE] = before


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


async def local_list_changes(client: ApiClient, holds: Any, timeout: float = 30.0) -> tuple[float, list[dict]]:
    """Poll a node's own list (its producers, no bus) until ``holds``; when it first did."""
    deadline = time.monotonic() + timeout
    while True:
        async with client.request("GET", "/api/streams") as response:
            streams = (await response.json())["streams"]
        if holds(streams):
            return time.monotonic(), streams
        assert time.monotonic() < deadline, f"the node's list never changed: {streams}"
        await asyncio.sleep(0.02)
