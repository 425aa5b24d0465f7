"""Finding a live stream for a caller: only their organisation's, within a viewer token's
scope, else 404."""
from __future__ import annotations

from aiohttp import web

from ..kernel.access import caller, organisation
from ..kernel.bus import Message
from ..kernel.requests import Id, RequestModel
from ..sfu.port import ProducerPort
from ..sfu.router import UnknownStream
from .hub import ROUTER, STREAM_HUB


class StreamPath(RequestModel):
    """A path naming one live stream."""

    stream_id: Id


def live_stream(request: web.Request, stream_id: str) -> ProducerPort:
    """The live stream ``stream_id``, if the caller's organisation receives it and a token
    caller's scope names it (another organisation's stream, or one out of scope, is as
    unknown as one that does not exist)."""
    producer = request.app[ROUTER].producers.get(stream_id)
    if (producer is None or organisation(request) not in producer.organisation_ids
            or not caller(request).sees_stream(producer.id, producer.camera)):
        raise UnknownStream(f"no live stream with id {stream_id!r}")
    return producer


def stream_anywhere(request: web.Request, stream_id: str) -> Message:
    """The directory entry of the live stream ``stream_id`` on whichever node holds it
    (its ``node``, ``camera``, ``lost_at``, …), scoped as ``live_stream``."""
    entry = request.app[STREAM_HUB].find(organisation(request), caller(request), stream_id)
    if entry is None:
        raise UnknownStream(f"no live stream with id {stream_id!r}")
    return entry
