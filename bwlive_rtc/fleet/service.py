"""The fleet behind one object at ``app[FLEET]``."""
from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from ..kernel.clock import Clock
from ..kernel.config import Settings
from ..storage.database import Database
from ..systems.store import Systems
from .credentials import CredentialSigner
from .docking import Docking
from .store import Fleet


@dataclass
class FleetService:
    fleet: Fleet
    docking: Docking

    @classmethod
    def open(cls, settings: Settings, database: Database, clock: Clock, systems: Systems) -> FleetService:
        fleet = Fleet(database.db, clock, systems)
        return cls(fleet, Docking(fleet, systems, CredentialSigner(settings.signing_key_path)))


FLEET = web.AppKey("fleet", FleetService)
