"""How a feature plugs into the app: one record, installed the same way for every feature.

A feature package exposes ``FEATURE = Feature(name, (routes, ...), lifecycle)`` in its
``feature.py``. ``lifecycle`` is
an aiohttp cleanup context: it runs at start-up in the order the composition root lists
the features (so a feature finds the services of those before it under their app keys),
builds its service, yields while the server runs, and closes what it opened.

``on_shutdown`` (optional) runs when the server stops, before any lifecycle closes (so
every feature's services and bus listeners are still there) and before the server waits
for open requests, WebSockets among them, to finish: the place to end what would keep
them open.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from aiohttp import web

Lifecycle = Callable[[web.Application], AsyncIterator[None]]
Shutdown = Callable[[web.Application], Awaitable[None]]


@dataclass(frozen=True)
class Feature:
    name: str
    routes: Sequence[web.RouteTableDef] = ()
    lifecycle: Lifecycle | None = None
    on_shutdown: Shutdown | None = None


def install(app: web.Application, features: Iterable[Feature]) -> None:
    """Add each feature's routes, lifecycle and shutdown hook, in order."""
    for feature in features:
        for table in feature.routes:
            app.add_routes(table)
        if feature.lifecycle is not None:
            app.cleanup_ctx.append(feature.lifecycle)
        if feature.on_shutdown is not None:
            app.on_shutdown.append(feature.on_shutdown)
