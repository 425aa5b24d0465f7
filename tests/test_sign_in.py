"""Sign-in never locks the owner out and never freezes the server (issue 10, hole 6).

Failures back off per account *and* address and per address, never per account alone:
an attacker at 127.0.0.2 does not stop the owner at 127.0.0.1. Argon2 runs on a bounded
thread pool, so the event loop keeps answering while sign-ins hash, and a flood is told
to come back instead of queueing. Back-off windows move with the server's ManualClock."""
from __future__ import annotations

import asyncio
import statistics
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bwlive_rtc.auth import passwords
from bwlive_rtc.auth.backoff import FORGET_AFTER, FREE_PER_ACCOUNT, FREE_PER_ADDRESS
from bwlive_rtc.auth.passwords import PasswordWorker, hash_password, verify_password
from bwlive_rtc.auth.service import AUTH
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.kernel.clock import Clock, ManualClock, SystemClock
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.kernel.errors import Unavailable
from bwlive_rtc.server import start_server

PASSWORD = "a long enough password"
OWNER = "owner@a.test"
BURST = 8  # sign-ins at once: within the worker's bound (2 hashing + 8 waiting)


@dataclass
class Running:
    url: str
    app: web.Application


async def _running(tmp_path: Path, clock: Clock, users: int) -> AsyncIterator[Running]:
    SystemKeyPair.generate().save(tmp_path / "keys")
    runner, port = await start_server(Settings(port=0, keys_dir=tmp_path / "keys", data_dir=tmp_path / "data"), clock)
    accounts = runner.app[AUTH].accounts
    owner = accounts.create_user(OWNER, "Olga Owner", PASSWORD)
    accounts.create_organisation("Org A", owner)
    for number in range(users):
        accounts.create_user(f"user{number}@a.test", f"User {number}", PASSWORD)
    yield Running(f"http://127.0.0.1:{port}", runner.app)
    await runner.cleanup()


@pytest.fixture
async def clocked(tmp_path: Path) -> AsyncIterator[tuple[Running, ManualClock]]:
    clock = ManualClock()
    async for running in _running(tmp_path, clock, users=1):
        yield running, clock


@pytest.fixture
async def busy(tmp_path: Path) -> AsyncIterator[Running]:
    async for running in _running(tmp_path, SystemClock(), users=BURST):
        yield running


def _from(address: str) -> aiohttp.ClientSession:
    """A client whose requests come from ``address`` (any of 127.0.0.0/8 on loopback)."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)))


async def _sign_in(http: aiohttp.ClientSession, url: str, email: str, password: str) -> int:
    async with http.post(url + "/api/session", json={"email": email, "password": password}) as response:
        body = await response.json()
        if response.status == 429:
            assert "too many failed sign-ins" in body["error"] and int(response.headers["Retry-After"]) > 0
        return response.status


async def test_an_attacker_does_not_lock_the_owner_out(clocked: tuple[Running, ManualClock]) -> None:
    running, clock = clocked
    async with _from("127.0.0.2") as attacker, _from("127.0.0.1") as owner:
        guesses = [await _sign_in(attacker, running.url, OWNER, f"guess {n}") for n in range(30)]
        assert guesses == [401] * FREE_PER_ACCOUNT + [429] * (30 - FREE_PER_ACCOUNT)
        assert await _sign_in(attacker, running.url, OWNER, PASSWORD) == 429  # even the right one, from there
        assert await _sign_in(owner, running.url, OWNER, PASSWORD) == 200  # the owner, elsewhere, at once

        # Failures against many accounts make the attacker's address wait for all of them.
        spread = [await _sign_in(attacker, running.url, f"nobody{n}@a.test", "guess") for n in range(FREE_PER_ADDRESS)]
        assert spread == [401] * (FREE_PER_ADDRESS - FREE_PER_ACCOUNT) + [429] * FREE_PER_ACCOUNT
        assert await _sign_in(attacker, running.url, "user0@a.test", PASSWORD) == 429
        assert await _sign_in(owner, running.url, "user0@a.test", PASSWORD) == 200
        assert await _sign_in(owner, running.url, OWNER, "a typo") == 401  # the owner's own typo counts apart
        assert await _sign_in(owner, running.url, OWNER, PASSWORD) == 200


async def test_back_off_doubles_and_is_forgotten(clocked: tuple[Running, ManualClock]) -> None:
    running, clock = clocked
    async with _from("127.0.0.2") as client:
        async def sign_in(password: str) -> int:
            return await _sign_in(client, running.url, OWNER, password)

        assert [await sign_in("wrong") for _ in range(FREE_PER_ACCOUNT)] == [401] * FREE_PER_ACCOUNT
        assert await sign_in(PASSWORD) == 429
        clock.advance(timedelta(seconds=1))  # the first wait: 1 s
        assert await sign_in("wrong") == 401
        clock.advance(timedelta(seconds=1))
        assert await sign_in(PASSWORD) == 429  # the second: 2 s
        clock.advance(timedelta(seconds=1))
        assert await sign_in("wrong") == 401
        clock.advance(timedelta(seconds=3))
        assert await sign_in(PASSWORD) == 429  # the third: 4 s
        clock.advance(timedelta(seconds=1))
        assert await sign_in(PASSWORD) == 200  # right: the account's failures from here are forgotten
        assert await sign_in("wrong") == 401

        for _ in range(FREE_PER_ACCOUNT):
            clock.advance(timedelta(minutes=20))
            await sign_in("wrong")
        assert await sign_in(PASSWORD) == 429
        clock.advance(FORGET_AFTER)
        assert await sign_in(PASSWORD) == 200


async def test_the_event_loop_answers_while_sign_ins_hash(busy: Running) -> None:
    """While BURST sign-ins hash, GET /api/time is answered far sooner than one hash takes."""
    stored = hash_password(PASSWORD)
    hash_times = []
    for _ in range(3):
        started = time.perf_counter()
        verify_password(stored, PASSWORD)
        hash_times.append(time.perf_counter() - started)
    one_hash = statistics.median(hash_times)

    latencies: list[float] = []
    async with aiohttp.ClientSession() as http:
        async def poll(burst: asyncio.Future[list[int]]) -> None:
            while not burst.done():
                started = time.perf_counter()
                async with http.get(busy.url + "/api/time") as response:
                    assert response.status == 200
                latencies.append(time.perf_counter() - started)
                await asyncio.sleep(0.005)

        started = time.perf_counter()
        burst = asyncio.gather(*(_sign_in(http, busy.url, f"user{n}@a.test", PASSWORD) for n in range(BURST)))
        await poll(burst)
        statuses, burst_time = await burst, time.perf_counter() - started
    assert statuses == [200] * BURST
    # On the loop, each answer would wait for the hash under way (half a hash in the middle)
    # and the first for the whole burst.
    assert statistics.median(latencies) < one_hash / 4, (latencies, one_hash)
    assert max(latencies) < burst_time / 2, (latencies, burst_time)
    assert len(latencies) >= 3, (latencies, burst_time)


async def test_a_flood_is_told_to_come_back_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    monkeypatch.setattr(passwords, "verify_password", lambda _hash, _password: release.wait(10))
    worker = PasswordWorker(workers=1, waiting=1)
    try:
        checking = [asyncio.ensure_future(worker.verify(None, "a password")) for _ in range(2)]
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        with pytest.raises(Unavailable) as refused:
            await worker.verify(None, "a password")
        assert time.perf_counter() - started < 0.05 and refused.value.headers["Retry-After"] == "1"
        release.set()
        assert await asyncio.gather(*checking) == [True, True]
        assert await worker.verify(None, "a password") is True  # room again
    finally:
        worker.close()
