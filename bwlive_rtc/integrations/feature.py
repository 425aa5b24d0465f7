"""The SOC integrations feature: admin API, and stream events queued for the receivers of
the stream's organisations."""
from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from yarl import URL

from ..kernel.access import Access, access, organisation
from ..kernel.appkeys import CLOCK, DATABASE, EVENTS, SETTINGS
from ..kernel.audit import audit
from ..kernel.errors import BadRequest, Conflict, NotFound
from ..kernel.events import STREAM_ENDED, StreamEvent
from ..kernel.feature import Feature
from ..kernel.requests import body, path, read_body, read_path
from ..sfu.port import RouterPort
from ..streams.hub import ROUTER
from .delivery import DeliveryWorker
from .payload import FORWARDED, TEST_EVENT, iso_utc, sample_event_body, stream_event_body
from .requests import IntegrationPath, NewIntegration
from .store import Integration, IntegrationStore
from .targets import TargetRefused, TargetResolver

log = logging.getLogger(__name__)

STORE = web.AppKey("integration_store", IntegrationStore)
WORKER = web.AppKey("delivery_worker", DeliveryWorker)
LISTED_DELIVERIES = 100
SHUTDOWN_DRAIN_SECONDS = 1.5  # at a clean stop, what is due (stream.ended of the streams it ended) is tried this long

routes = web.RouteTableDef()


def _iso(seconds: float | None) -> str | None:
    return None if seconds is None else iso_utc(datetime.fromtimestamp(seconds, UTC))


def _integration_json(integration: Integration) -> dict[str, Any]:
    """An integration as the API shows it: whether it signs, never its secret."""
    return {"id": integration.id, "url": integration.url, "signed": bool(integration.secret),
            "created_at": _iso(integration.created_at)}


def _delivery_json(delivery: dict[str, Any]) -> dict[str, Any]:
    return {
        **delivery,
        "created_at": _iso(delivery["created_at"]),
        "next_attempt_at": _iso(delivery["next_attempt_at"]),
        "attempts": [{**attempt, "at": _iso(attempt["at"])} for attempt in delivery["attempts"]],
    }


def _integration(request: web.Request) -> Integration:
    integration = request.app[STORE].get(organisation(request), read_path(request, IntegrationPath).integration_id)
    if integration is None:
        raise NotFound("there is no integration with this id (was it removed?)")
    return integration


async def _new_integration_fields(request: web.Request) -> tuple[str, str | None]:
    new = await read_body(request, NewIntegration)
    try:
        parsed = URL(new.url)
    except ValueError:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise BadRequest("the receiver's URL must be an http:// or https:// address with a host name")
    return new.url, new.secret


async def _check_target(request: web.Request, url: str) -> None:
    """Refuse a receiver at a private address unless the server allows them (targets.py)."""
    try:
        await request.app[WORKER].targets.check(url)
    except TargetRefused as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None


@routes.get("/api/integrations")
@access(Access.ADMIN)
async def list_integrations(request: web.Request) -> web.Response:
    integrations = request.app[STORE].of([organisation(request)])
    return web.json_response({"integrations": [_integration_json(i) for i in integrations]})


@routes.post("/api/integrations")
@access(Access.ADMIN)
@body(NewIntegration)
async def add_integration(request: web.Request) -> web.Response:
    url, secret = await _new_integration_fields(request)
    await _check_target(request, url)
    store, organisation_id = request.app[STORE], organisation(request)
    if store.has_url(organisation_id, url):
        raise Conflict("an integration with this URL exists already; remove it first to change its secret")
    integration = store.add(organisation_id, url, secret, request.app[CLOCK].now().timestamp())
    audit(request, "integration added", url=url, signed=secret is not None)
    return web.json_response(_integration_json(integration), status=201)


@routes.delete("/api/integrations/{integration_id}")
@access(Access.ADMIN)
@path(IntegrationPath)
async def remove_integration(request: web.Request) -> web.Response:
    integration = _integration(request)
    request.app[STORE].remove(integration.id)
    audit(request, "integration removed", url=integration.url)
    return web.json_response({"removed": integration.id})


@routes.post("/api/integrations/{integration_id}/test")
@access(Access.ADMIN)
@path(IntegrationPath)
async def send_test_event(request: web.Request) -> web.Response:
    integration = _integration(request)
    now = request.app[CLOCK].now()
    event_id, body = sample_event_body(now)
    delivery_id = request.app[STORE].enqueue(integration.id, event_id, TEST_EVENT, body, now.timestamp())
    request.app[WORKER].wake()
    return web.json_response({"delivery": delivery_id, "event": event_id}, status=202)


@routes.get("/api/integrations/deliveries")
@access(Access.ADMIN)
async def list_deliveries(request: web.Request) -> web.Response:
    deliveries = request.app[STORE].recent_deliveries(organisation(request), LISTED_DELIVERIES)
    return web.json_response({"deliveries": [_delivery_json(d) for d in deliveries]})


class Forwarder:
    """The bus listener: queue each stream event for the integrations of the stream's
    organisations. It runs inside the publisher (e.g. a WHIP POST), so it only writes queue
    rows and never raises."""

    def __init__(self, store: IntegrationStore, worker: DeliveryWorker, router: RouterPort) -> None:
        self.store, self.worker, self.router = store, worker, router
        self._organisations: dict[str, list[str]] = {}  # live stream id -> organisation ids

    def _organisations_of(self, event: StreamEvent) -> list[str]:
        if event.organisation_ids:  # a stream a crash left open, ended at start-up
            self._organisations.pop(event.stream_id, None)
            return list(event.organisation_ids)
        producer = self.router.producers.get(event.stream_id)
        if producer is not None:
            self._organisations[event.stream_id] = list(producer.organisation_ids)
        if event.type == STREAM_ENDED:
            return self._organisations.pop(event.stream_id, [])
        return self._organisations.get(event.stream_id, [])

    def __call__(self, event: StreamEvent) -> None:
        if event.type not in FORWARDED:
            return
        try:
            integrations = self.store.of(self._organisations_of(event))
            if not integrations:
                return
            event_id, body = stream_event_body(event)
            now = self.worker.clock.now().timestamp()
            for integration in integrations:
                self.store.enqueue(integration.id, event_id, event.type, body, now)
            self.worker.wake()
        except Exception:
            log.exception("could not queue %s for the SOC integrations", event.type)


async def lifecycle(app: web.Application):  # type: ignore[no-untyped-def]
    store = IntegrationStore(app[DATABASE].db)
    targets = TargetResolver(app[SETTINGS].allow_private_integration_targets)
    connector = aiohttp.TCPConnector(resolver=targets)
    async with aiohttp.ClientSession(connector=connector, headers={"User-Agent": "bwlive-integrations/1"}) as session:
        worker = DeliveryWorker(store, app[CLOCK], session, targets)
        app[STORE], app[WORKER] = store, worker
        forward = Forwarder(store, worker, app[ROUTER])
        app[EVENTS].on("*", forward)
        worker.start()
        yield
        app[EVENTS].remove_listener("*", forward)
        await worker.close(drain=SHUTDOWN_DRAIN_SECONDS)


FEATURE = Feature("integrations", (routes,), lifecycle)
