"""The fleet behind one object at ``app[FLEET]``."""
from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from ..kernel.clock import Clock
from ..kernel.rate import RateLimiter
from ..storage.database import Database
from ..systems.store import Systems
from .docking import Docking
from .pairing import PhonePairings
from .store import Fleet


@dataclass
class FleetService:
    fleet: Fleet
    docking: Docking
    pairings: PhonePairings
    # phones redeeming codes and picking up packages, per address: 20 at once, then one per 2 s
    pairing_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(20, 0.5))

    @classmethod
    def open(cls, database: Database, clock: Clock, systems: Systems) -> FleetService:
        """The fleet and its docking, holding public keys only (docks are handed the
        system's private signing key by the command that docks)."""
        fleet = Fleet(database.db, clock, systems)
        return cls(fleet, Docking(fleet, systems), PhonePairings(fleet))


FLEET = web.AppKey("fleet", FleetService)
