"""The signaling feature: WHIP for cameras, WHEP for viewers; a revoked camera's live
stream ends at once."""
from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from ..kernel.appkeys import EVENTS
from ..kernel.events import CAMERA_REVOKED
from ..kernel.feature import Feature
from ..streams.hub import ROUTER
from . import whep, whip
from .sessions import WHIP_SESSIONS, WhipSessions


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    sessions = app[WHIP_SESSIONS] = WhipSessions(app[ROUTER])
    app[EVENTS].on(CAMERA_REVOKED, sessions.end_camera)
    yield


FEATURE = Feature("signaling", (whip.routes, whep.routes), _lifecycle)
