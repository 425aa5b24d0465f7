"""Typed ``app[...]`` keys for what the kernel provides to every feature."""
from aiohttp import web

from ..storage.database import Database
from .clock import Clock
from .config import Settings
from .events import EventBus

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
EVENTS = web.AppKey("events", EventBus)  # its node bus: EVENTS.nodes
DATABASE = web.AppKey("database", Database)
