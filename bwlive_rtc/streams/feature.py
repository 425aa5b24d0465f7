"""The live streams feature: the SFU (a Router, or the media workers), stream rows and events as producers come and
go, the live list pushed to browsers, and access changes reaching running viewers."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from ..kernel.appkeys import CLOCK, DATABASE, EVENTS, SETTINGS
from ..kernel.config import Settings
from ..kernel.events import ACCESS_CHANGED, STREAM_ABANDONED, STREAM_ENDED, STREAM_STARTED, StreamEvent
from ..kernel.feature import Feature
from ..sfu.peer import MediaNetwork
from ..sfu.port import PRODUCER_ADDED, PRODUCER_REMOVED, ProducerPort, RouterPort
from ..sfu.router import Router
from ..workers.pool import MediaWorkers
from .hub import DIRECTORY_CHECK_S, ROUTER, STREAM_HUB, StreamHub
from .routes import follow_endings, routes

log = logging.getLogger(__name__)
SILENCE_CHECK_S = 0.5


def _record_and_announce(app: web.Application, router: RouterPort) -> None:
    """Producers coming and going become database rows and bus events."""
    database, events, clock = app[DATABASE], app[EVENTS], app[CLOCK]

    def started(producer: ProducerPort) -> None:
        database.stream_started(producer.id, producer.camera, producer.started_at, producer.key_envelope,
                                producer.organisation_ids, producer.manifest)
        events.publish(StreamEvent(STREAM_STARTED, producer.id, producer.camera, producer.started_at))

    def ended(producer: ProducerPort) -> None:
        database.stream_ended(producer.id)
        events.publish(StreamEvent(STREAM_ENDED, producer.id, producer.camera, clock.now()))

    router.on(PRODUCER_ADDED, started)
    router.on(PRODUCER_REMOVED, ended)


def _enforce_access_changes(app: web.Application, router: RouterPort, hub: StreamHub) -> None:
    """A role change or removal (``ACCESS_CHANGED`` from auth) reaches open WebSockets at
    once; a removal also ends the user's running subscriptions."""

    async def changed(user_id: str, organisation_id: str, still_member: bool) -> None:
        await hub.disconnect(user_id, organisation_id)
        if not still_member:
            await router.drop_viewer(user_id, organisation_id)

    app[EVENTS].on(ACCESS_CHANGED, changed)


async def _watch_silence(hub: StreamHub) -> None:
    """A camera that went silent (dead, out of coverage) is shown as lost within 2–3 s,
    long before its connection times out."""
    while True:
        await asyncio.sleep(SILENCE_CHECK_S)
        try:
            await hub.check_silence()
        except Exception:  # the check must outlive one bad round
            log.exception("checking for silent cameras failed")


async def _watch_directory(app: web.Application, hub: StreamHub) -> None:
    """The other nodes' streams, read again every ``DIRECTORY_CHECK_S``. The streams of a
    node that died (its directory entry expired) end: their rows, ``stream.ended`` for
    the integrations and ``stream_abandoned`` for the recordings, from the one node whose
    conditional update ends the row."""
    database, events, clock = app[DATABASE], app[EVENTS], app[CLOCK]
    while True:
        await asyncio.sleep(DIRECTORY_CHECK_S)
        try:
            for entry in await hub.check_directory():
                if database.stream_ended_if_open(entry["id"]):
                    for kind in (STREAM_ENDED, STREAM_ABANDONED):
                        events.publish(StreamEvent(kind, entry["id"], entry["camera"], clock.now(),
                                                   organisation_ids=tuple(entry["organisation_ids"])))
        except Exception:  # the check must outlive one bad round (the bus down a moment)
            log.exception("reading the other nodes' streams failed")


async def _router(settings: Settings) -> RouterPort:
    """The SFU: in media worker processes (``--workers N``), or in this one (0)."""
    if settings.workers:
        workers = MediaWorkers(settings, settings.workers)
        await workers.open()
        return workers
    router = Router(consumer_timeout=settings.consumer_timeout,
                    network=MediaNetwork(settings.media_ports, settings.announce_address))
    router.start()
    return router


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    router = await _router(app[SETTINGS])
    hub = StreamHub(router, app[EVENTS].nodes, lambda: app[SETTINGS].node_url)
    app[ROUTER], app[STREAM_HUB] = router, hub
    _record_and_announce(app, router)
    _enforce_access_changes(app, router, hub)
    follow_endings(app)
    watchers = [asyncio.ensure_future(_watch_silence(hub)), asyncio.ensure_future(_watch_directory(app, hub))]
    yield
    for watcher in watchers:
        watcher.cancel()
    await hub.close()
    await router.close()


async def _announce_interrupted(app: web.Application) -> AsyncIterator[None]:
    """Streams a crash left open end at start-up: their rows, and ``stream.ended`` for the
    SOC integrations of their organisations; not those another live node holds (in the
    node bus's directory). Listed last in ``FEATURES``, so every listener of the bus is
    installed by then."""
    for stream in app[DATABASE].close_interrupted_streams(await app[EVENTS].nodes.stream_ids()):
        app[EVENTS].publish(StreamEvent(STREAM_ENDED, stream.id, stream.camera, app[CLOCK].now(),
                                        organisation_ids=stream.organisation_ids))
    yield


async def _end_live_streams(app: web.Application) -> None:
    """At shutdown, before any feature stops (aiohttp's on_shutdown): browsers' stream
    lists are closed at once, and every live stream ends (rows, ``stream.ended`` queued
    for the integrations, recordings written out), its peer connections closed all at
    once within ``SHUTDOWN_SECONDS``."""
    await app[STREAM_HUB].close()
    await app[ROUTER].close(within=SHUTDOWN_SECONDS)


SHUTDOWN_SECONDS = 3.0
FEATURE = Feature("streams", (routes,), _lifecycle)
ENDINGS = Feature("stream endings", (), _announce_interrupted, _end_live_streams)
