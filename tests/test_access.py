"""Every endpoint declares who may call it; one that does not is refused."""
from __future__ import annotations

from pathlib import Path

import aiohttp
from aiohttp import web

from bwlive_rtc.app import create_app
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.kernel.access import required_access
from bwlive_rtc.kernel.config import Settings


def test_every_route_declares_access(tmp_path: Path) -> None:
    SystemKeyPair.generate().save(tmp_path / "keys")
    app = create_app(Settings(keys_dir=tmp_path / "keys", data_dir=tmp_path / "data"))
    undeclared = [
        f"{route.method} {route.resource.canonical}"
        for route in app.router.routes()
        if not isinstance(route.resource, web.StaticResource) and route.method != "HEAD"
        and required_access(route.handler) is None
    ]
    assert undeclared == []


async def test_undeclared_endpoint_is_refused(tmp_path: Path) -> None:
    SystemKeyPair.generate().save(tmp_path / "keys")
    app = create_app(Settings(keys_dir=tmp_path / "keys", data_dir=tmp_path / "data"))

    async def forgotten(_request: web.Request) -> web.Response:
        return web.Response(text="should not be reachable")

    app.router.add_get("/api/forgotten", forgotten)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/api/forgotten") as response:
                assert response.status == 500
                assert (await response.json())["error"] == "GET /api/forgotten declares no access rule"
            async with session.get(f"http://127.0.0.1:{port}/web/app.js") as response:
                assert response.status == 200  # static files are public
    finally:
        await runner.cleanup()
