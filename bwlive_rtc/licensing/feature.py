"""The licensing feature: license files, usage, and whether an organisation may stream."""
from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from ..auth.service import AUTH
from ..kernel.appkeys import CLOCK, DATABASE, SETTINGS
from ..kernel.feature import Feature
from .license_file import load_issuer_public_key
from .routes import routes
from .service import LICENSING, Licensing


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    issuer_path = app[SETTINGS].license_issuer_key_path
    issuer = load_issuer_public_key(issuer_path) if issuer_path else None
    app[LICENSING] = Licensing(app[DATABASE].db, app[CLOCK], app[AUTH].accounts, issuer)
    yield


FEATURE = Feature("licensing", (routes,), _lifecycle)
