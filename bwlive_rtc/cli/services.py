"""The one way a command reaches the data: a data directory's database and the services
on it, opened for the command and closed after it."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from ..kernel.clock import Clock, SystemClock
from ..kernel.config import Settings

if TYPE_CHECKING:
    from ..auth.service import AuthService
    from ..embedding.keys import ApiKeys
    from ..evidence.service import Evidence
    from ..fleet.service import FleetService
    from ..storage.database import Database
    from ..systems.store import Systems


@dataclass
class Services:
    """Each service is opened when first used; like the server, one Systems shared by all."""

    settings: Settings
    database: Database
    clock: Clock = field(default_factory=SystemClock)

    @cached_property
    def systems(self) -> Systems:
        from ..systems.store import Systems

        return Systems(self.database.db, self.clock)

    @cached_property
    def auth(self) -> AuthService:
        from ..auth.service import AuthService
        from ..kernel.audit import AuditLog
        from ..kernel.events import EventBus

        return AuthService.open(self.database, self.clock, self.systems, AuditLog(self.database.db, self.clock),
                                EventBus())

    @cached_property
    def fleet(self) -> FleetService:
        from ..fleet.service import FleetService

        return FleetService.open(self.database, self.clock, self.systems)

    @cached_property
    def api_keys(self) -> ApiKeys:
        from ..embedding.keys import ApiKeys

        return ApiKeys(self.database.db, self.clock)


    @cached_property
    def evidence(self) -> Evidence:
        from ..evidence.service import Evidence
        from ..recordings.catalog import Catalog
        from ..recordings.storage import open_store

        return Evidence(Catalog(self.database.db), open_store(self.settings), self.systems, self.auth.audit, self.clock)


@contextmanager
def open_services(settings: Settings) -> Iterator[Services]:
    from ..storage.database import Database

    database = Database(settings.database)
    try:
        yield Services(settings, database)
    finally:
        database.close()
