"""The fleet feature: camera users, profiles, networks, cameras and docking; the kernel's
camera authenticator."""
from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from ..kernel.access import CAMERA_AUTHENTICATOR, CameraAuthenticator
from ..kernel.appkeys import CLOCK, DATABASE
from ..kernel.feature import Feature
from ..systems.store import SYSTEMS
from .authentication import CameraCredentials
from .pairing_routes import routes as pairing_routes
from .routes import routes
from .service import FLEET, FleetService


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    app[FLEET] = FleetService.open(app[DATABASE], app[CLOCK], app[SYSTEMS])
    check_credential: CameraAuthenticator = CameraCredentials(app[FLEET].docking, app[CLOCK])
    app[CAMERA_AUTHENTICATOR] = check_credential
    yield


FEATURE = Feature("fleet", (routes, pairing_routes), _lifecycle)
