"""The fleet status feature: ``GET /api/fleet/status`` (admins), after the fleet and
signaling, whose records and live streams it joins."""
from __future__ import annotations

from aiohttp import web

from ..fleet.service import FLEET
from ..kernel.access import Access, access, organisation
from ..kernel.appkeys import CLOCK
from ..kernel.feature import Feature
from ..signaling.sessions import WHIP_SESSIONS
from .status import camera_status

routes = web.RouteTableDef()


@routes.get("/api/fleet/status")
@access(Access.ADMIN)
async def fleet_status(request: web.Request) -> web.Response:
    """Each camera's status: online, streaming, last docked, credential expiry."""
    app = request.app
    return web.json_response({"cameras": camera_status(app[FLEET].fleet, app[WHIP_SESSIONS], organisation(request),
                                                       app[CLOCK].now())})


FEATURE = Feature("fleet status", (routes,))
