"""Recordings over HTTP: list, metadata with the key envelope, and each segment's frames
(or its WebM file). The recordings page is ``/web/recordings.html``."""
from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from ..kernel.access import Access, access, organisation
from ..kernel.appkeys import CLOCK, DATABASE, SETTINGS
from ..kernel.errors import NotFound
from ..kernel.requests import Id, Natural, OptionalName, RequestModel, path, query, read_path, read_query
from ..streams.hub import ROUTER
from .service import Recordings

RECORDINGS = web.AppKey("recordings", Recordings)
routes = web.RouteTableDef()


class ListingQuery(RequestModel):
    camera: OptionalName = ""  # a camera user's name; empty: every camera user


class RecordingPath(RequestModel):
    recording_id: Id


class SegmentPath(RecordingPath):
    seq: Natural


@routes.get("/api/recordings")
@access(Access.VIEWER)
@query(ListingQuery)
async def list_recordings(request: web.Request) -> web.Response:
    camera = read_query(request, ListingQuery).camera or None
    listing = request.app[RECORDINGS].catalog.listing(organisation(request), camera)
    return web.json_response({"recordings": listing})


def _recording(request: web.Request, recording_id: str) -> dict[str, Any]:
    recording = request.app[RECORDINGS].catalog.get(recording_id, organisation(request))
    if recording is None:
        raise NotFound(f"There is no recording {recording_id!r} (it may have been purged).")
    return recording


@routes.get("/api/recordings/{recording_id}")
@access(Access.VIEWER)
@path(RecordingPath)
async def get_recording(request: web.Request) -> web.Response:
    return web.json_response(_recording(request, read_path(request, RecordingPath).recording_id))


async def _segment(request: web.Request, read: Callable[[str, int], Awaitable[bytes]]) -> bytes:
    where = read_path(request, SegmentPath)
    recording = _recording(request, where.recording_id)
    try:
        return await read(recording["id"], where.seq)
    except KeyError:
        raise NotFound(f"Recording {recording['id']!r} has no segment {where.seq}.") from None


@routes.get("/api/recordings/{recording_id}/segments/{seq}")
@access(Access.VIEWER)
@path(SegmentPath)
async def get_segment_frames(request: web.Request) -> web.Response:
    """A segment's frames in the player's wire form (docs/RECORDINGS.md)."""
    body = await _segment(request, request.app[RECORDINGS].segment_frames)
    return web.Response(body=body, content_type="application/octet-stream")


@routes.get("/api/recordings/{recording_id}/segments/{seq}/webm")
@access(Access.VIEWER)
@path(SegmentPath)
async def get_segment_file(request: web.Request) -> web.Response:
    """A segment's WebM file as stored (evidence export)."""
    body = await _segment(request, request.app[RECORDINGS].segment_file)
    return web.Response(body=body, content_type="video/webm")


async def lifecycle(app: web.Application) -> AsyncIterator[None]:
    recordings = Recordings(app[SETTINGS], app[DATABASE], app[CLOCK])
    app[RECORDINGS] = recordings
    await recordings.start(app[ROUTER])
    yield
    await recordings.close(app[ROUTER])
