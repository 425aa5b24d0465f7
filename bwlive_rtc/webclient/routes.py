"""Serving the web client: the pages and modules under ``/web``, ``/`` (the console), the
server's time, against which web clients check their clocks (SPEC §3, Clocks), the
embedded player's release (its module and Subresource Integrity, ``player.py``), and the
API's OpenAPI document."""
from __future__ import annotations

import importlib.metadata
import importlib.resources
import mimetypes
from pathlib import Path

from aiohttp import web

from ..kernel.access import Access, access
from ..kernel.appkeys import CLOCK, SETTINGS
from ..kernel.openapi import openapi_document
from .player import player_release

WEB_DIR = Path(str(importlib.resources.files("bwlive_rtc.web")))  # the repository's web/, packaged

mimetypes.add_type("application/manifest+json", ".webmanifest")  # the phone camera's PWA manifest
routes = web.RouteTableDef()
routes.static("/web", WEB_DIR)


@routes.get("/")
@access(Access.PUBLIC)
async def index(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(WEB_DIR / "index.html")


@routes.get("/api/time")
@access(Access.PUBLIC, token=Access.PUBLIC)  # the embedded player checks its clock too
async def server_time(request: web.Request) -> web.Response:
    """``{"now_ms": <ms since the epoch>, "clock_tolerance_s": <allowed offset>}``, never cached."""
    now_ms = round(request.app[CLOCK].now().timestamp() * 1000)
    return web.json_response(
        {"now_ms": now_ms, "clock_tolerance_s": request.app[SETTINGS].clock_tolerance_s},
        headers={"Cache-Control": "no-store"},
    )


@routes.get("/api/player")
@access(Access.PUBLIC)
async def player(request: web.Request) -> web.Response:
    """``{"version", "module", "integrity", "imports": {url: integrity}}``: the embedded
    player's entry module with its SRI hash, and the hash of every module it loads."""
    base = f"{request.scheme}://{request.host}"
    return web.json_response(player_release(WEB_DIR).published(base))


@routes.get("/api/openapi.json")
@access(Access.PUBLIC)
async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI document of this server's API, generated from its routes and models."""
    version = importlib.metadata.version("bwlive")
    return web.json_response(openapi_document(request.app, "bwlive", version))
