"""Recordings over HTTP: list, metadata with the key envelope, each segment's frames (or
its WebM file), and the timeline's markers. Fetching a segment's frames opens a play
session, audited once ("recording played"). The recordings page is ``/web/recordings.html``."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

from ..kernel.access import Access, access, caller, organisation
from ..kernel.appkeys import CLOCK, DATABASE, EVENTS, SETTINGS
from ..kernel.audit import audit
from ..kernel.errors import NotFound
from ..kernel.events import STREAM_ABANDONED
from ..kernel.requests import Id, Natural, OptionalName, RequestModel, path, query, read_path, read_query
from ..sfu.router import Router
from ..streams.hub import ROUTER
from ..workers.pool import STREAMS_LOST
from .markers import acknowledgements, encrypted_positions
from .play_sessions import PlaySessions
from .service import Recordings

RECORDINGS = web.AppKey("recordings", Recordings)
PLAY_SESSIONS = web.AppKey("recording_play_sessions", PlaySessions)
routes = web.RouteTableDef()


class ListingQuery(RequestModel):
    camera: OptionalName = ""  # a camera user's name; empty: every camera user


class RecordingPath(RequestModel):
    recording_id: Id


class SegmentPath(RecordingPath):
    seq: Natural


@routes.get("/api/recordings")
@access(Access.VIEWER, token=Access.VIEWER)
@query(ListingQuery)
async def list_recordings(request: web.Request) -> web.Response:
    camera = read_query(request, ListingQuery).camera or None
    who = caller(request)
    listing = [recording for recording in request.app[RECORDINGS].catalog.listing(organisation(request), camera)
               if who.sees_recording(recording["id"], recording["camera"])]
    return web.json_response({"recordings": listing})


def find_recording(request: web.Request, recording_id: str) -> dict[str, Any]:
    recording = request.app[RECORDINGS].catalog.get(recording_id, organisation(request))
    if recording is None or not caller(request).sees_recording(recording_id, recording["camera"]):
        raise NotFound(f"There is no recording {recording_id!r} (it may have been purged).")
    return recording


@routes.get("/api/recordings/{recording_id}")
@access(Access.VIEWER, token=Access.VIEWER)
@path(RecordingPath)
async def get_recording(request: web.Request) -> web.Response:
    return web.json_response(find_recording(request, read_path(request, RecordingPath).recording_id))


@routes.get("/api/recordings/{recording_id}/markers")
@access(Access.VIEWER)
@path(RecordingPath)
async def get_markers(request: web.Request) -> web.Response:
    """The timeline's markers: acknowledgements, and the encrypted positions (whose lost
    fixes only the browser can see)."""
    recording = find_recording(request, read_path(request, RecordingPath).recording_id)
    recordings = request.app[RECORDINGS]
    positions = await asyncio.to_thread(encrypted_positions, recordings.store, recording["segments"])
    return web.json_response({
        "acknowledgements": acknowledgements(recordings.catalog.db, recording, organisation(request)),
        "positions": positions,
    })


async def _segment(request: web.Request, read: Callable[[str, int], Awaitable[bytes]]) -> tuple[dict[str, Any], bytes]:
    where = read_path(request, SegmentPath)
    recording = find_recording(request, where.recording_id)
    try:
        return recording, await read(recording["id"], where.seq)
    except KeyError:
        raise NotFound(f"Recording {recording['id']!r} has no segment {where.seq}.") from None


@routes.get("/api/recordings/{recording_id}/segments/{seq}")
@access(Access.VIEWER, token=Access.VIEWER)
@path(SegmentPath)
async def get_segment_frames(request: web.Request) -> web.Response:
    """A segment's frames in the player's wire form (docs/RECORDINGS.md); the first of a
    play session is audited."""
    recording, body = await _segment(request, request.app[RECORDINGS].segment_frames)
    if request.app[PLAY_SESSIONS].fetched(caller(request).user_id, recording["id"]):
        audit(request, "recording played", recording=recording["id"], camera=recording["camera"])
    return web.Response(body=body, content_type="application/octet-stream")


@routes.get("/api/recordings/{recording_id}/segments/{seq}/webm")
@access(Access.VIEWER, token=Access.VIEWER)
@path(SegmentPath)
async def get_segment_file(request: web.Request) -> web.Response:
    """A segment's WebM file as stored (evidence export)."""
    _, body = await _segment(request, request.app[RECORDINGS].segment_file)
    return web.Response(body=body, content_type="video/webm")


async def lifecycle(app: web.Application) -> AsyncIterator[None]:
    recordings = Recordings(app[SETTINGS], app[DATABASE], app[CLOCK])
    app[RECORDINGS] = recordings
    app[PLAY_SESSIONS] = PlaySessions(app[CLOCK])
    await recordings.start(await app[EVENTS].nodes.stream_ids())  # not those other live nodes hold
    router = app[ROUTER]
    if isinstance(router, Router):  # the SFU in this process: record here
        recordings.record(router)
    else:  # media workers record their streams; those of a worker that died are finished here
        router.on(STREAMS_LOST, recordings.recover_streams)
    app[EVENTS].on(STREAM_ABANDONED, recordings.adopt)
    yield
    app[EVENTS].remove_listener(STREAM_ABANDONED, recordings.adopt)
    await recordings.close()
