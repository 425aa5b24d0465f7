"""A media worker process (``python -m bwlive_rtc.media_worker``, started by ``bwlive
serve --workers N``; ``workers/pool.py``): a composition root like ``server.py``. Its
settings come on stdin; it serves its Router on the front's Unix socket, records its
streams (its own database connection registers their segments) and stops when the front
asks, on SIGTERM, or when its stdin closes (the front is gone). Ctrl+C in a terminal is
the front's to handle: it asks each worker to stop."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys

from aiohttp import web

from .kernel.clock import SystemClock
from .recordings.service import Recordings
from .sfu.peer import MediaNetwork
from .sfu.router import Router
from .storage.database import Database
from .workers import wire
from .workers.service import WorkerService

log = logging.getLogger("bwlive_rtc.media_worker")


async def _closed_stdin() -> None:
    """Returns when the front's end of our stdin closes (the front exited, even by kill -9)."""
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while await reader.read(4096):
        pass


async def run(config: dict[str, object]) -> None:
    settings = wire.settings_of(config)
    database = Database(settings.database)
    router = Router(consumer_timeout=settings.consumer_timeout,
                    network=MediaNetwork(settings.media_ports, settings.announce_address))
    router.start()
    recordings = Recordings(settings, database, SystemClock())
    recordings.record(router)
    closing: list[asyncio.Future[None]] = []

    async def close(within: float) -> None:
        if not closing:
            closing.append(asyncio.ensure_future(_close(router, recordings, within)))
        await closing[0]

    service = WorkerService(router, close)
    runner = web.AppRunner(service.app(), access_log=None)
    await runner.setup()
    socket = str(config["socket"])
    await web.UnixSite(runner, socket).start()
    os.chmod(socket, 0o600)
    reporting = asyncio.ensure_future(service.report_status())
    terminated = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, terminated.set)
    print(wire.READY, flush=True)
    waits = [asyncio.ensure_future(w) for w in (service.closed.wait(), terminated.wait(), _closed_stdin())]
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for waiting in waits:
        waiting.cancel()
    await close(3.0)
    reporting.cancel()
    await runner.cleanup()
    database.close()


async def _close(router: Router, recordings: Recordings, within: float) -> None:
    await router.close(within=within)
    await recordings.close()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the terminal's Ctrl+C reaches the front, which stops us
    config = json.loads(sys.stdin.readline())
    logging.basicConfig(level=int(config["log_level"]),
                        format=f"%(asctime)s %(levelname)s worker {config['index']}: %(name)s: %(message)s")
    for library in ("aioice", "alembic"):  # as the front's command line quiets them
        logging.getLogger(library).setLevel(logging.WARNING)
    asyncio.run(run(config))


if __name__ == "__main__":
    main()
