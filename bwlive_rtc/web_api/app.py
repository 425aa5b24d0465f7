"""The application factory: SFU router, signaling, API, web client, metadata database.

Each feature is a module with a ``routes`` table (aiohttp ``RouteTableDef``) and,
optionally, a ``lifecycle`` cleanup context (runs after the core one, so the router,
database and event bus exist). Adding a feature is one line in ``FEATURES``.
"""
from __future__ import annotations

import importlib.resources
from pathlib import Path
from types import ModuleType

from aiohttp import web

from ..auth import routes as auth_routes
from ..auth import system_keys_routes
from ..auth.middleware import access_middleware
from ..auth.service import ACCESS_CHANGED, AUTH, AuthService
from ..clock import Clock, SystemClock
from ..config import Settings
from ..console import routes as console_routes
from ..crypto.system_key import SystemPublicKey
from ..events import STREAM_ENDED, STREAM_STARTED, EventBus, StreamEvent
from ..fleet import routes as fleet_routes
from ..fleet.service import FLEET, FleetService
from ..integrations import feature as integrations
from ..licensing import routes as licensing_routes
from ..licensing.license_file import load_issuer_public_key
from ..licensing.service import LICENSING, Licensing
from ..recordings import api as recordings_api
from ..sfu.producer import Producer
from ..sfu.router import Router
from ..signaling import whep, whip
from ..storage.database import Database
from . import api_routes, time_routes
from .access import Access, access
from .errors import error_middleware
from .keys import CLOCK, DATABASE, EVENTS, ROUTER, SETTINGS, STREAM_HUB, SYSTEM_KEY
from .stream_hub import StreamHub

WEB_DIR = Path(str(importlib.resources.files("bwlive_rtc.web")))

FEATURES: tuple[ModuleType, ...] = (
    auth_routes, licensing_routes, fleet_routes, whip, whep, api_routes, integrations, recordings_api, system_keys_routes,
    time_routes, console_routes,
)


@access(Access.PUBLIC)
async def _index(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(WEB_DIR / "index.html")


def _record_and_announce_streams(router: Router, database: Database, events: EventBus, clock: Clock) -> None:
    """Producers coming and going become database rows and bus events."""

    def started(producer: Producer) -> None:
        database.stream_started(producer.id, producer.camera, producer.started_at, producer.key_envelope)
        events.publish(StreamEvent(STREAM_STARTED, producer.id, producer.camera, producer.started_at))

    def ended(producer: Producer) -> None:
        database.stream_ended(producer.id)
        events.publish(StreamEvent(STREAM_ENDED, producer.id, producer.camera, clock.now()))

    router.on("producer_added", started)
    router.on("producer_removed", ended)


def _enforce_access_changes(app: web.Application) -> None:
    """A role change or removal reaches open WebSockets and running subscriptions at once."""
    auth, hub, router = app[AUTH], app[STREAM_HUB], app[ROUTER]

    async def changed(user_id: str, organisation_id: str) -> None:
        await hub.disconnect(user_id, organisation_id)
        if auth.accounts.role(user_id, organisation_id) is None:
            await router.drop_viewer(user_id, organisation_id)

    auth.events.on(ACCESS_CHANGED, changed)


async def _lifecycle(app: web.Application):  # type: ignore[no-untyped-def]
    settings = app[SETTINGS]
    router = Router(consumer_timeout=settings.consumer_timeout)
    database = Database(settings.database_path)
    app[ROUTER] = router
    app[DATABASE] = database
    app[AUTH] = AuthService.open(database, app[CLOCK])
    issuer_path = settings.license_issuer_key_path
    issuer = load_issuer_public_key(issuer_path) if issuer_path else None
    app[LICENSING] = Licensing(database.db, app[CLOCK], app[AUTH].accounts, issuer)
    app[FLEET] = FleetService.open(settings, database, app[CLOCK])
    app[STREAM_HUB] = StreamHub(router)
    _record_and_announce_streams(router, database, app[EVENTS], app[CLOCK])
    _enforce_access_changes(app)
    router.start()
    yield
    await app[STREAM_HUB].close()
    await router.close()
    database.close()


def create_app(settings: Settings, clock: Clock | None = None) -> web.Application:
    """Build the server; the system public key must exist (``bwlive system keys generate``)."""
    app = web.Application(middlewares=[error_middleware, access_middleware])
    app[SETTINGS] = settings
    app[CLOCK] = clock or SystemClock()
    app[EVENTS] = EventBus()
    app[SYSTEM_KEY] = SystemPublicKey.load(settings.keys_dir)
    app.cleanup_ctx.append(_lifecycle)
    for feature in FEATURES:
        app.add_routes(feature.routes)
        if hasattr(feature, "lifecycle"):
            app.cleanup_ctx.append(feature.lifecycle)
    app.router.add_get("/", _index)
    app.router.add_static("/web", WEB_DIR)
    return app
