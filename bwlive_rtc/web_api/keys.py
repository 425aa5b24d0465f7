"""Typed ``app[...]`` keys shared by the route modules."""
from aiohttp import web

from ..clock import Clock
from ..config import Settings
from ..crypto.system_key import SystemPublicKey
from ..events import EventBus
from ..sfu.router import Router
from ..storage.database import Database
from .stream_hub import StreamHub

SETTINGS = web.AppKey("settings", Settings)
ROUTER = web.AppKey("router", Router)
DATABASE = web.AppKey("database", Database)
SYSTEM_KEY = web.AppKey("system_key", SystemPublicKey)
STREAM_HUB = web.AppKey("stream_hub", StreamHub)
CLOCK = web.AppKey("clock", Clock)
EVENTS = web.AppKey("events", EventBus)
