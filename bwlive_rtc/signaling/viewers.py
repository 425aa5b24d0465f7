"""Finding a viewer's stream and subscription: here, or on the node of the cluster that
holds the stream (then reached over ``workers/nodes.py`` for this caller)."""
from __future__ import annotations

from aiohttp import web

from ..kernel.access import caller, organisation
from ..kernel.node_calls import NodeCaller
from ..kernel.requests import read_path
from ..sfu.port import ConsumerPort
from ..sfu.router import UnknownStream
from ..streams.hub import ROUTER
from ..streams.lookup import live_stream, stream_anywhere
from ..workers.nodes import OtherNodes
from ..workers.remote import RemoteStream
from .requests import ConsumerPath

OTHER_NODES = web.AppKey("other_nodes", OtherNodes)


def own_consumer(request: web.Request) -> ConsumerPort:
    """The caller's own subscription named in the path, on this node."""
    named = read_path(request, ConsumerPath)
    consumer = live_stream(request, named.stream_id).consumers.get(named.consumer_id)
    if consumer is None or consumer.viewer != caller(request).user_id:
        raise UnknownStream(f"no viewer {named.consumer_id!r} on this stream")
    return consumer


def elsewhere(request: web.Request, stream_id: str) -> RemoteStream | None:
    """None if the stream is on this node; else the caller's stream on the node holding it
    (found in the directory, scoped as a local one: else 404)."""
    if stream_id in request.app[ROUTER].producers:
        return None
    entry = stream_anywhere(request, stream_id)
    return request.app[OTHER_NODES].stream(entry, NodeCaller(caller(request).user_id, organisation(request)))
