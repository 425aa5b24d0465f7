"""The systems feature: the local system key, systems of each organisation and joining."""
from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from ..crypto.system_key import SystemPublicKey
from ..crypto.system_signing import SigningPublicKey
from ..kernel.appkeys import CLOCK, DATABASE, SETTINGS
from ..kernel.feature import Feature
from .routes import routes
from .store import SYSTEM_KEY, SYSTEM_SIGNING_KEY, SYSTEMS, Systems


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    """Public keys only: the server never reads a private key file."""
    app[SYSTEM_KEY] = SystemPublicKey.load(app[SETTINGS].keys_dir)
    app[SYSTEM_SIGNING_KEY] = SigningPublicKey.find(app[SETTINGS].keys_dir)
    app[SYSTEMS] = Systems(app[DATABASE].db, app[CLOCK])
    yield


FEATURE = Feature("systems", (routes,), _lifecycle)
