"""Evidence over HTTP: a recording's package to download (operators and admins, audited)
and its verification result (whoever may see the recording)."""
from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator

from aiohttp import web

from ..kernel.access import Access, access, caller, organisation
from ..kernel.appkeys import CLOCK
from ..kernel.audit import AUDIT, audit
from ..kernel.requests import path, read_path
from ..recordings.api import RECORDINGS, RecordingPath, find_recording
from ..systems.store import SYSTEMS
from .service import Evidence

EVIDENCE = web.AppKey("evidence", Evidence)
VERIFYING = web.AppKey("evidence_verifying", asyncio.Lock)  # one verification at a time: each reads every segment
CHUNK = 1 << 20
routes = web.RouteTableDef()


@routes.get("/api/recordings/{recording_id}/evidence")
@access(Access.OPERATOR)
@path(RecordingPath)
async def export_evidence(request: web.Request) -> web.StreamResponse:
    """The recording's evidence package (a zip file), its own export audited inside it."""
    recording = find_recording(request, read_path(request, RecordingPath).recording_id)
    who = caller(request)
    audit(request, "evidence exported", recording=recording["id"], camera=recording["camera"])
    with tempfile.TemporaryFile() as spool:  # a package may be large: written to disk, then sent
        await asyncio.to_thread(request.app[EVIDENCE].exporter(recording, organisation(request), who.user_name), spool)
        response = web.StreamResponse(headers={
            "Content-Type": "application/zip",
            "Content-Disposition": f'attachment; filename="bwlive-evidence-{recording["id"]}.zip"'})
        response.content_length = spool.tell()
        await response.prepare(request)
        spool.seek(0)
        while chunk := await asyncio.to_thread(spool.read, CHUNK):
            await response.write(chunk)
        await response.write_eof()
        return response


@routes.get("/api/recordings/{recording_id}/verification")
@access(Access.VIEWER)
@path(RecordingPath)
async def verify_evidence(request: web.Request) -> web.Response:
    """``{verified, sentence, summary}``: the recording checked against its camera's
    signatures and its system's key, as ``bwlive evidence verify`` checks a package."""
    recording = find_recording(request, read_path(request, RecordingPath).recording_id)
    verify = request.app[EVIDENCE].verifier(recording, organisation(request))
    async with request.app[VERIFYING]:
        result = await asyncio.to_thread(verify)
    return web.json_response(result)


async def lifecycle(app: web.Application) -> AsyncIterator[None]:
    recordings = app[RECORDINGS]
    app[EVIDENCE] = Evidence(recordings.catalog, recordings.store, app[SYSTEMS], app[AUDIT], app[CLOCK])
    app[VERIFYING] = asyncio.Lock()
    yield
