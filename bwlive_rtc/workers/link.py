"""What holds a stream for the front: a media worker on this machine (``pool.Worker``) or
another node of the cluster (``nodes.NodeLink``). Both speak the wire of ``wire.py``
(HTTP+JSON); they differ in how they are reached and who they trust."""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from typing import Any

import aiohttp

from ..kernel.errors import Unavailable
from . import wire

log = logging.getLogger(__name__)


class Link:
    """Requests to whatever holds a stream; its refusals are raised as the kernel's errors."""

    name = "the media worker"

    def __init__(self) -> None:
        self.session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def _url(self, path: str) -> str:
        return f"http://worker{path}"

    def _headers(self, method: str, path: str, data: bytes) -> dict[str, str]:
        return {}

    def _refusal(self, status: int, text: str) -> Exception:
        return wire.error_of(status, text)

    def _unreachable(self) -> Exception:
        return Unavailable(f"{self.name} went away; try again in a moment")

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """A request; its refusal is raised as the kernel's error."""
        if self.session is None:
            raise Unavailable(f"{self.name} is restarting; try again in a moment")
        data = b"" if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", **self._headers(method, path, data)}
        try:
            async with self.session.request(method, self._url(path), data=data, headers=headers) as response:
                text = await response.text()
                if response.status >= 400:
                    raise self._refusal(response.status, text)
                return json.loads(text) if text else {}
        except (aiohttp.ClientError, TimeoutError):
            raise self._unreachable() from None

    def send_soon(self, method: str, path: str, body: dict[str, Any] | None = None) -> None:
        """A request whose answer nobody waits for (a keepalive, a message to the camera)."""

        async def send() -> None:
            try:
                await self.call(method, path, body)
            except Exception as exc:
                log.info("%s: %s %s: %s", self.name, method, path, exc)

        self._spawn(send())
