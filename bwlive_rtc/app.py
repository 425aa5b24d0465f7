"""The composition root: the kernel's middlewares and services, then every feature in the
order they depend on each other. Adding a feature is one line in ``FEATURES``."""
from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from .auth.feature import FEATURE as AUTH
from .console.feature import FEATURE as CONSOLE
from .embedding.feature import FEATURE as EMBEDDING
from .evidence.feature import FEATURE as EVIDENCE
from .fleet.feature import FEATURE as FLEET
from .fleet_status.feature import FEATURE as FLEET_STATUS
from .integrations.feature import FEATURE as INTEGRATIONS
from .kernel.access import access_middleware
from .kernel.appkeys import CLOCK, DATABASE, EVENTS, SETTINGS
from .kernel.audit import AUDIT, AuditLog
from .kernel.bus import open_bus
from .kernel.clock import Clock, SystemClock
from .kernel.config import Settings
from .kernel.cors import cors_middleware
from .kernel.errors import error_middleware
from .kernel.events import EventBus
from .kernel.feature import Feature, install
from .kernel.files import private_directory
from .kernel.headers import security_headers
from .kernel.proxy import forwarded_middleware
from .licensing.feature import FEATURE as LICENSING
from .recordings.feature import FEATURE as RECORDINGS
from .signaling.feature import FEATURE as SIGNALING
from .storage.database import Database
from .streams.feature import ENDINGS as STREAM_ENDINGS
from .streams.feature import FEATURE as STREAMS
from .systems.feature import FEATURE as SYSTEMS
from .webclient.feature import FEATURE as WEBCLIENT

FEATURES: tuple[Feature, ...] = (
    SYSTEMS, AUTH, LICENSING, FLEET, STREAMS, SIGNALING, FLEET_STATUS, CONSOLE, RECORDINGS, EVIDENCE, INTEGRATIONS, EMBEDDING,
    WEBCLIENT,
    STREAM_ENDINGS,  # last: streams a crash left open are announced once every listener is there
)


async def _kernel(app: web.Application) -> AsyncIterator[None]:
    """The data directory (made if new: on PostgreSQL no database file makes it), the node
    bus, the metadata database and the audit log, open while the server runs."""
    private_directory(app[SETTINGS].data_dir)
    await app[EVENTS].nodes.start()
    database = Database(app[SETTINGS].database)
    app[DATABASE] = database
    app[AUDIT] = AuditLog(database.db, app[CLOCK])
    yield
    database.close()
    await app[EVENTS].nodes.close()


def create_app(settings: Settings, clock: Clock | None = None) -> web.Application:
    """Build the server; the system public key must exist (``bwlive system keys generate``)."""
    app = web.Application(middlewares=[
        forwarded_middleware(settings.trusted_proxies), security_headers(settings), cors_middleware, error_middleware,
        access_middleware,
    ])
    app[SETTINGS] = settings
    app[CLOCK] = clock or SystemClock()
    app[EVENTS] = EventBus(open_bus(settings.bus_url))
    app.cleanup_ctx.append(_kernel)
    install(app, FEATURES)
    return app
