"""Console API: groups (read: viewers, change: operators), acknowledgements, map settings.

Group changes are pushed to every browser on the stream-list WebSocket as
``{"type": "groups", "groups": [...]}``; acknowledgements ride on the stream list itself.
"""
from __future__ import annotations

import json
import math
from collections.abc import Awaitable
from datetime import datetime

from aiohttp import web

from ..kernel.access import Access, access, caller, organisation
from ..kernel.appkeys import CLOCK, DATABASE, EVENTS, SETTINGS
from ..kernel.audit import audit
from ..kernel.bus import BusError, Message
from ..kernel.counts import SharedRateLimiter
from ..kernel.errors import Conflict, TooManyRequests, Unavailable
from ..kernel.events import STREAM_ACKNOWLEDGED, StreamEvent
from ..kernel.requests import body, path, read_body, read_path
from ..protocol import ACKNOWLEDGE
from ..streams.hub import ROUTER, STREAM_HUB
from ..streams.lookup import StreamPath, stream_anywhere
from .groups import Groups
from .requests import AcknowledgeRequest, GroupMemberPath, GroupName, GroupPath, NewGroup

GROUPS = web.AppKey("console_groups", Groups)
CAMERA_REACHABLE_WITHIN = 3.0  # seconds a just-started camera has to open its data channel
ACKNOWLEDGE_LIMITS = web.AppKey("acknowledge_limits", SharedRateLimiter)  # per operator and stream, every node's
ACKNOWLEDGE_CHANNEL = "acknowledge"  # {"node", "stream_id", "by", "at", "sealed"}: for the node holding the stream

routes = web.RouteTableDef()


async def lifecycle(app: web.Application):  # type: ignore[no-untyped-def]
    app[GROUPS] = Groups(app[DATABASE].db)
    app[ACKNOWLEDGE_LIMITS] = SharedRateLimiter(app[EVENTS].nodes, "acknowledge", capacity=3, refill_per_second=0.5,
                                                clock=app[CLOCK])
    app[EVENTS].nodes.on(ACKNOWLEDGE_CHANNEL, lambda message: _acknowledged_here(app, message))
    yield


def _acknowledged_here(app: web.Application, message: Message) -> Awaitable[None] | None:
    """On the node that holds the stream: the sealed press goes to the camera, every
    browser sees it, SOC integrations get the event."""
    producer = app[ROUTER].producers.get(message["stream_id"])
    if message["node"] != app[EVENTS].nodes.node or producer is None:
        return None
    by, at = message["by"], message["at"]
    producer.send_data(json.dumps({"type": ACKNOWLEDGE, "by": by, "at": at, "sealed": message["sealed"]}))
    app[EVENTS].publish(StreamEvent(STREAM_ACKNOWLEDGED, producer.id, producer.camera, datetime.fromisoformat(at),
                                    {"by": by}))
    return app[STREAM_HUB].acknowledge(producer.id, by, at)


def _groups_message(request: web.Request) -> dict[str, object]:
    groups = request.app[GROUPS].list(organisation(request))
    return {"type": "groups", "groups": [group.to_json() for group in groups]}


async def _changed(request: web.Request, action: str, change) -> web.Response:  # type: ignore[no-untyped-def]
    """Apply a group change, audit it, push the new list to every browser, answer with it."""
    result = change(request.app[GROUPS], organisation(request))
    audit(request, action, **dict(request.match_info),
          **({"group": result.name} if result is not None else {}))
    message = _groups_message(request)
    await request.app[STREAM_HUB].broadcast(organisation(request), message)
    return web.json_response(result.to_json() if result is not None else message)


@routes.get("/api/groups")
@access(Access.VIEWER)
async def list_groups(request: web.Request) -> web.Response:
    return web.json_response({"groups": _groups_message(request)["groups"]})


@routes.post("/api/groups")
@access(Access.OPERATOR)
@body(NewGroup)
async def create_group(request: web.Request) -> web.Response:
    new = await read_body(request, NewGroup)
    return await _changed(request, "group created", lambda groups, org: groups.create(org, new.name, new.members))


@routes.patch("/api/groups/{group_id}")
@access(Access.OPERATOR)
@path(GroupPath)
@body(GroupName)
async def rename_group(request: web.Request) -> web.Response:
    group_id = read_path(request, GroupPath).group_id
    name = (await read_body(request, GroupName)).name
    return await _changed(request, "group renamed", lambda groups, org: groups.rename(org, group_id, name))


@routes.delete("/api/groups/{group_id}")
@access(Access.OPERATOR)
@path(GroupPath)
async def delete_group(request: web.Request) -> web.Response:
    group_id = read_path(request, GroupPath).group_id
    return await _changed(request, "group deleted", lambda groups, org: groups.delete(org, group_id))


@routes.put("/api/groups/{group_id}/members/{member}")
@access(Access.OPERATOR)
@path(GroupMemberPath)
async def add_member(request: web.Request) -> web.Response:
    where = read_path(request, GroupMemberPath)
    return await _changed(request, "group member added",
                          lambda groups, org: groups.add_member(org, where.group_id, where.member))


@routes.delete("/api/groups/{group_id}/members/{member}")
@access(Access.OPERATOR)
@path(GroupMemberPath)
async def remove_member(request: web.Request) -> web.Response:
    where = read_path(request, GroupMemberPath)
    return await _changed(request, "group member removed",
                          lambda groups, org: groups.remove_member(org, where.group_id, where.member))


@routes.post("/api/streams/{stream_id}/acknowledge")
@access(Access.VIEWER, token=Access.OPERATOR)
@path(StreamPath)
@body(AcknowledgeRequest)
async def acknowledge(request: web.Request) -> web.Response:
    """Acknowledge a live stream of the caller's organisation: the camera gets the sealed
    press with the signed-in user's name (it vibrates if the press opens with the stream's
    key and is fresh and new); every operator sees it; SOC integrations get the event."""
    stream = stream_anywhere(request, read_path(request, StreamPath).stream_id)
    sealed = (await read_body(request, AcknowledgeRequest)).sealed
    producer = request.app[ROUTER].producers.get(stream["id"])  # on this node: it can tell if the camera is there
    reachable = await producer.reachable_within(CAMERA_REACHABLE_WITHIN) if producer else stream["lost_at"] is None
    if not reachable:
        raise Conflict("the camera cannot be reached yet; try again in a moment")
    who, now = caller(request), request.app[CLOCK].now()
    wait = await request.app[ACKNOWLEDGE_LIMITS].take((who.user_id, stream["id"]))
    if wait:
        raise TooManyRequests(f"you acknowledged this stream just now; again in {math.ceil(wait)} s",
                              headers={"Retry-After": str(math.ceil(wait))})
    message = {"node": stream["node"], "stream_id": stream["id"], "by": who.user_name, "at": now.isoformat(),
               "sealed": sealed}
    nodes = request.app[EVENTS].nodes
    if stream["node"] == nodes.node:  # here: straight to the camera, bus or not
        if (delivering := _acknowledged_here(request.app, message)) is not None:
            await delivering
    else:  # to the node that holds the stream; said when the bus cannot take it
        try:
            await nodes.publish_now(ACKNOWLEDGE_CHANNEL, message)
        except BusError as error:
            raise Unavailable("the server holding this stream cannot be reached now; acknowledge again in a moment",
                              headers={"Retry-After": "2"}) from error
    audit(request, "stream acknowledged", stream=stream["id"], camera=stream["camera"])
    return web.json_response({"stream_id": stream["id"], "by": who.user_name, "at": now.isoformat()})


@routes.get("/api/console/settings")
@access(Access.VIEWER)
async def console_settings(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    return web.json_response({"tile_url": settings.tile_url, "tile_attribution": settings.tile_attribution})
