"""The delivery worker: drains the persistent queue in the background, so publishing an
event only writes a queue row and never waits for a receiver.

Scheduling asks the app's clock; the worker sleeps until the next attempt is due (at most
``POLL_SECONDS`` at a time, so a test clock moved forward is noticed, and deliveries
queued by other nodes are seen) or until woken by a new event or a finished attempt. Each
attempt runs under a claim on its delivery (store.py) of ``attempt_timeout`` plus
``LEASE_MARGIN_SECONDS``: other nodes leave it alone until then.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import time
from contextlib import suppress

import aiohttp

from ..kernel.clock import Clock
from .retry import RetryPolicy
from .signing import request_headers
from .store import FAILED, Attempt, Due, IntegrationStore
from .targets import TargetRefused, TargetResolver

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
ATTEMPT_TIMEOUT_SECONDS = 10.0
CONCURRENCY = 8
KEEP_LOG_SECONDS = 7 * 24 * 3600  # finished deliveries stay in the log this long
PRUNE_EVERY_SECONDS = 3600
LEASE_MARGIN_SECONDS = 5.0  # a claim outlasts the attempt's timeout by this much (recording the result)


class DeliveryWorker:
    """Runs attempts for due deliveries, at most ``concurrency`` at a time. ``session``
    connects through ``targets``, which also checks each URL's host before an attempt.
    The log keeps the receiver's status code, never what it answered."""

    def __init__(self, store: IntegrationStore, clock: Clock, session: aiohttp.ClientSession, targets: TargetResolver,
                 policy: RetryPolicy | None = None, attempt_timeout: float = ATTEMPT_TIMEOUT_SECONDS,
                 concurrency: int = CONCURRENCY) -> None:
        self.store = store
        self.clock = clock
        self.session = session
        self.targets = targets
        self.policy = policy or RetryPolicy()
        self.attempt_timeout = attempt_timeout
        self.concurrency = concurrency
        self._wake = asyncio.Event()
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._loop: asyncio.Task[None] | None = None
        self._pruned_at = float("-inf")

    def start(self) -> None:
        self._loop = asyncio.ensure_future(self._run())

    def wake(self) -> None:
        """Look at the queue now (an event was queued)."""
        self._wake.set()

    async def close(self, drain: float = 0.0) -> None:
        """Stop; attempts cut short stay queued, unclaimed, and run at the next start (or on
        another node). With ``drain``
        seconds, deliveries due now (e.g. the ``stream.ended`` of streams the shutdown just
        ended) are first tried for up to that long."""
        if drain > 0:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + drain
            with suppress(Exception):
                self._dispatch_due()
            while self._in_flight and (left := deadline - loop.time()) > 0:
                await asyncio.wait(list(self._in_flight.values()), timeout=left)
        cut_short = list(self._in_flight)
        tasks = [task for task in (self._loop, *self._in_flight.values()) if task]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task
        with suppress(Exception):  # else they wait for their lease to end
            self.store.release(cut_short)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                timeout = self._dispatch_due()
            except Exception:  # a database hiccup must not end deliveries for good
                log.exception("reading the integration delivery queue failed")
                timeout = POLL_SECONDS
            with suppress(TimeoutError):  # (not wait_for: on 3.11 it can swallow a cancel that meets a wake)
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    def _dispatch_due(self) -> float | None:
        """Start due attempts (and forget old finished ones); returns how long to sleep
        (None: until woken)."""
        free = self.concurrency - len(self._in_flight)
        if free <= 0:
            return None
        now = self.clock.now().timestamp()
        if now - self._pruned_at >= PRUNE_EVERY_SECONDS:
            self.store.prune(now - KEEP_LOG_SECONDS)
            self._pruned_at = now
        for due in self.store.claim_due(now, self.attempt_timeout + LEASE_MARGIN_SECONDS, free):
            task = asyncio.ensure_future(self._attempt(due))
            self._in_flight[due.id] = task
            task.add_done_callback(functools.partial(self._finished, due.id))
        next_at = self.store.next_attempt_at()
        if next_at is None:
            return None
        return min(POLL_SECONDS, max(0.0, next_at - now))

    def _finished(self, delivery_id: str, _task: asyncio.Task[None]) -> None:
        self._in_flight.pop(delivery_id, None)
        self.wake()

    async def _attempt(self, due: Due) -> None:
        started = self.clock.now().timestamp()
        body = due.body.encode()
        headers = request_headers(due.event_id, due.event_type, body, int(started), due.secret)
        code, error = None, None
        clock_start = time.monotonic()
        try:
            await self.targets.check(due.url)
            async with self.session.post(
                due.url, data=body, headers=headers, allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self.attempt_timeout),
            ) as response:
                code = response.status
                if 300 <= code < 400:
                    error = "the receiver answered with a redirect; enter the final URL"
        except TargetRefused as exc:
            error = f"refused: {exc}"
        except TimeoutError:
            error = f"no answer within {self.attempt_timeout:g} s"
        except aiohttp.ClientError as exc:
            error = f"cannot reach the receiver: {exc}"
        except Exception as exc:  # never leave a due delivery unrecorded: it would be retried at once, forever
            log.exception("delivery attempt to %s failed", due.url)
            error = f"the request could not be sent: {exc}"
        duration_ms = round((time.monotonic() - clock_start) * 1000)
        number = due.attempts + 1
        outcome = self.policy.outcome(code, number, due.created_at, self.clock.now().timestamp())
        self.store.record_attempt(
            due.id, Attempt(number, started, code, error, duration_ms, outcome.status, outcome.next_attempt_at))
        if outcome.status == FAILED:
            log.warning("gave up delivering %s event %s to %s after %d attempts: %s",
                        due.event_type, due.event_id, due.url, number, error)

