"""Retention: recordings older than the retention period (after their end) are deleted,
evidence first, then metadata, on a schedule driven by the app's clock."""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from ..kernel.clock import Clock
from .catalog import Catalog
from .storage import EvidenceStore

log = logging.getLogger(__name__)


class Purger:
    def __init__(self, catalog: Catalog, store: EvidenceStore, clock: Clock, retention: timedelta) -> None:
        self.catalog = catalog
        self.store = store
        self.clock = clock
        self.retention = retention

    async def purge(self) -> list[str]:
        """Delete every recording that ended more than the retention period ago."""
        expired = self.catalog.expired(self.clock.now() - self.retention)
        for recording_id in expired:
            await asyncio.to_thread(self.store.delete_recording, recording_id)
            self.catalog.delete(recording_id)
            log.info("recording %s purged after the %s retention period", recording_id, self.retention)
        return expired

    async def run(self, interval: float) -> None:
        while True:
            try:
                await self.purge()
            except Exception:  # storage unreachable: try again next time
                log.exception("purging expired recordings failed")
            await asyncio.sleep(interval)
