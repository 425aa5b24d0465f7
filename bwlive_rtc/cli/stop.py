"""Commands that run until stopped."""
from __future__ import annotations

import asyncio
import signal


def stop_event() -> asyncio.Event:
    """Set on SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
