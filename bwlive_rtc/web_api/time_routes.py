"""The server's time, against which web clients check their clocks (SPEC §3, Clocks)."""
from __future__ import annotations

from aiohttp import web

from .access import Access, access
from .keys import CLOCK, SETTINGS

routes = web.RouteTableDef()


@routes.get("/api/time")
@access(Access.PUBLIC)
async def server_time(request: web.Request) -> web.Response:
    """``{"now_ms": <ms since the epoch>, "clock_tolerance_s": <allowed offset>}``, never cached."""
    now_ms = round(request.app[CLOCK].now().timestamp() * 1000)
    return web.json_response(
        {"now_ms": now_ms, "clock_tolerance_s": request.app[SETTINGS].clock_tolerance_s},
        headers={"Cache-Control": "no-store"},
    )
