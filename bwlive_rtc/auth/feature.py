"""The auth feature: accounts, sessions and roles; the kernel's signed-in authenticator
and the console origins organisations configured."""
from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from ..kernel.access import CONSOLE_ORIGINS, SIGNED_IN
from ..kernel.appkeys import CLOCK, DATABASE, EVENTS
from ..kernel.audit import AUDIT
from ..kernel.feature import Feature
from ..systems.store import SYSTEMS
from .account_routes import routes as account_routes
from .audit_routes import routes as audit_routes
from .authentication import authenticate
from .routes import routes
from .service import AUTH, AuthService


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    app[AUTH] = AuthService.open(app[DATABASE], app[CLOCK], app[SYSTEMS], app[AUDIT], app[EVENTS])
    app[SIGNED_IN] = authenticate
    app[CONSOLE_ORIGINS] = app[AUTH].console_origins.configured
    yield
    app[AUTH].close()


FEATURE = Feature("auth", (routes, account_routes, audit_routes), _lifecycle)
