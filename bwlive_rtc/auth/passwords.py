"""Password hashing with Argon2id (argon2-cffi), a memory-hard KDF, and the worker that
runs it off the event loop.

An Argon2 hash takes tens of milliseconds of CPU; on the event loop it would stall every
forwarded video packet. ``PasswordWorker`` hashes and verifies on a small thread pool
(argon2-cffi releases the GIL), with a bound on the work waiting, so a flood of sign-ins is
told to come back (503) at once instead of piling up.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..kernel.errors import BadRequest, Unavailable

MIN_LENGTH = 10
MAX_LENGTH = 1024
WORKERS = 2
WAITING = 8  # hashes that may wait for a worker; beyond, "try again"
_hasher = PasswordHasher()
_dummy: list[str] = []
Result = TypeVar("Result")


class WeakPassword(BadRequest, ValueError):
    """The password is too short; the message says how long it must be."""


def _dummy_hash() -> str:
    if not _dummy:
        _dummy.append(_hasher.hash("not a password of anyone"))
    return _dummy[0]


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"choose a password of at least {MIN_LENGTH} characters")


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash, spend the same time and say no (no user probing)."""
    if password_hash is None:
        password_hash = _dummy_hash()
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


class PasswordWorker:
    """Hash and verify on ``workers`` threads; at most ``waiting`` more wait their turn."""

    def __init__(self, workers: int = WORKERS, waiting: int = WAITING) -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="argon2")
        self._slots = threading.BoundedSemaphore(workers + waiting)

    async def hash(self, password: str) -> str:
        check_strength(password)
        return await self._run(hash_password, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return await self._run(verify_password, password_hash, password)

    async def _run(self, work: Callable[..., Result], *args: object) -> Result:
        if not self._slots.acquire(blocking=False):
            raise Unavailable("the server is busy checking passwords; try again in a moment",
                              headers={"Retry-After": "1"})
        future = self._pool.submit(work, *args)
        future.add_done_callback(lambda _: self._slots.release())  # a slot is free when the thread is
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
