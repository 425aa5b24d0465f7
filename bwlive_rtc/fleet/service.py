"""The fleet behind one object at ``app[FLEET]``."""
from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from ..kernel.clock import Clock
from ..storage.database import Database
from ..systems.store import Systems
from .docking import Docking
from .store import Fleet


@dataclass
class FleetService:
    fleet: Fleet
    docking: Docking

    @classmethod
    def open(cls, database: Database, clock: Clock, systems: Systems) -> FleetService:
        """The fleet and its docking, holding public keys only (docks are handed the
        system's private signing key by the command that docks)."""
        fleet = Fleet(database.db, clock, systems)
        return cls(fleet, Docking(fleet, systems))


FLEET = web.AppKey("fleet", FleetService)
