"""The systems feature: the local system key, systems of each organisation and joining."""
from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from ..crypto.system_key import SystemPublicKey
from ..kernel.appkeys import CLOCK, DATABASE, SETTINGS
from ..kernel.feature import Feature
from .routes import routes
from .store import SYSTEM_KEY, SYSTEMS, Systems


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    app[SYSTEM_KEY] = SystemPublicKey.load(app[SETTINGS].keys_dir)
    app[SYSTEMS] = Systems(app[DATABASE].db, app[CLOCK])
    yield


FEATURE = Feature("systems", (routes,), _lifecycle)
