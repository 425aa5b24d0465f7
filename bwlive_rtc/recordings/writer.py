"""One writer thread for every recording of the process, and a small pool that stores
closed segments: waking, appending and syncing cost the same for one camera or fifty,
and a slow evidence store (S3) never holds up the appending."""
from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.25  # seconds between drains: about what a kill -9 may lose
STORE_THREADS = 2


class Drained(Protocol):
    """What the writer thread does with a recorder."""

    def drain(self) -> None:
        """Append what arrived since the last drain."""

    def finish(self) -> None:
        """Drain a last time and close the open segment."""

    def store_closed(self, now: bool = False) -> None:
        """Store the closed segments (in the storing pool)."""


class Writer:
    def __init__(self) -> None:
        self.storing = ThreadPoolExecutor(STORE_THREADS, thread_name_prefix="recording-store")
        self._lock = threading.Lock()
        self._recorders: list[Drained] = []
        self._finishing: dict[Drained, Future[None]] = {}
        self._wake = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="recording-writer", daemon=True)
        self._thread.start()

    def add(self, recorder: Drained) -> None:
        with self._lock:
            self._recorders.append(recorder)

    def finish(self, recorder: Drained) -> Future[None]:
        """Write out what ``recorder`` buffered, close its segment and store what it closed;
        the future is done when that is (or when storing failed and left it in the spool)."""
        done: Future[None] = Future()
        with self._lock:
            self._finishing[recorder] = done
        self._wake.set()
        return done

    def close(self) -> None:
        """Stop the thread (after ``finish`` of every recorder) and the storing pool."""
        self._closing = True
        self._wake.set()
        self._thread.join()
        self.storing.shutdown()

    def _run(self) -> None:
        while not self._closing:
            self._wake.wait(POLL_INTERVAL)
            self._wake.clear()
            with self._lock:
                recorders, finishing = list(self._recorders), self._finishing
                self._finishing = {}
                self._recorders = [r for r in self._recorders if r not in finishing]
            for recorder in recorders:
                if recorder not in finishing:
                    recorder.drain()
            for recorder, done in finishing.items():
                recorder.finish()
                stored = self.storing.submit(recorder.store_closed, True)
                stored.add_done_callback(lambda _, done=done: done.set_result(None))  # type: ignore[misc]
