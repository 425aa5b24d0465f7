"""The signaling feature: WHIP for cameras, WHEP for viewers (also of streams another
node of the cluster holds, and, for the other nodes, ``/node``); a revoked camera's live
stream ends at once."""
from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from ..kernel.access import NODE_AUTHENTICATOR
from ..kernel.appkeys import EVENTS, SETTINGS
from ..kernel.events import CAMERA_REVOKED
from ..kernel.feature import Feature
from ..kernel.node_calls import NodeKey
from ..streams.hub import ROUTER
from ..workers.nodes import OtherNodes
from . import node_routes, whep, whip
from .node_routes import node_authenticator
from .sessions import WHIP_SESSIONS, WhipSessions
from .viewers import OTHER_NODES


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    sessions = app[WHIP_SESSIONS] = WhipSessions(app[ROUTER])
    app[EVENTS].on(CAMERA_REVOKED, sessions.end_camera)
    key = NodeKey.in_directory(app[SETTINGS].data_dir)
    app[NODE_AUTHENTICATOR] = node_authenticator(key)
    nodes = app[OTHER_NODES] = OtherNodes(key, app[EVENTS].nodes.node)
    yield
    await nodes.close()


FEATURE = Feature("signaling", (whip.routes, whep.routes, node_routes.routes), _lifecycle)
