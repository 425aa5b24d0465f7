"""SOC integrations against real HTTP receivers: signatures (checked by the receiver code
from docs/INTEGRATIONS.md), retries on a test clock, a hanging receiver versus stream
starts, the queue across a restart, and the admin API."""
from __future__ import annotations

import asyncio
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from bwlive_rtc.auth.service import AUTH
from bwlive_rtc.camera.agent import CameraAgent, CameraOptions
from bwlive_rtc.camera.identity import device_key_path, load_device_key
from bwlive_rtc.crypto.system_key import SystemKeyPair, SystemPublicKey
from bwlive_rtc.integrations.feature import STORE, WORKER
from bwlive_rtc.integrations.signing import request_headers
from bwlive_rtc.integrations.targets import TargetRefused, TargetResolver
from bwlive_rtc.kernel.appkeys import SETTINGS
from bwlive_rtc.kernel.clock import ManualClock
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.server import start_server
from bwlive_rtc.systems.store import SYSTEM_KEY
from bwlive_rtc.viewer.session import ApiClient
from tests.processes import dock_camera

DOCS = Path(__file__).resolve().parents[1] / "docs" / "INTEGRATIONS.md"
SECRET = "correct horse battery staple 42"
PASSWORD = secrets.token_urlsafe(16)


# ------------------------------------------------------------------ receivers
@dataclass
class Receiver:
    """A real aiohttp receiver on 127.0.0.1: answers with ``statuses`` in turn (then
    200), or holds every request open while ``hang`` is set."""

    statuses: list[int] = field(default_factory=list)
    hang: bool = False
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    open_requests: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""
    answer: str = "stored"

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append((dict(request.headers), body))
        if self.hang:
            self.open_requests += 1
            try:
                await self.release.wait()
            finally:
                self.open_requests -= 1
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200, text=self.answer)

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.requests]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/events", rec.handle)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    rec.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/events"  # type: ignore[union-attr]
    yield rec
    rec.release.set()
    await runner.cleanup()


def documented_receiver_class() -> type:
    """The receiver from docs/INTEGRATIONS.md, executed as written (so the docs cannot rot)."""
    code = next(block for block in re.findall(r"```python\n(.*?)```", DOCS.read_text(), re.S) if "class Receiver" in block)
    namespace: dict[str, Any] = {"__name__": "documented_receiver"}
    exec(compile(code, str(DOCS), "exec"), namespace)
    namespace["SECRET"] = SECRET.encode()
    namespace["Receiver"].log_message = lambda *args: None  # keep test output quiet
    return namespace["Receiver"]


@pytest.fixture
def docs_receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), documented_receiver_class())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


# --------------------------------------------------------------------- bwlive
async def api_call(api: ApiClient, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
    """A JSON API request that must answer ``expect``; returns the JSON body."""
    async with api.request(method, path, json=body) as response:
        data = await response.json()
        assert response.status == expect, (method, path, response.status, data)
        return data


@dataclass
class Bwlive:
    """An in-process server on a test clock, with a signed-in admin's API client."""

    runner: web.AppRunner
    url: str
    clock: ManualClock
    api: ApiClient | None = None
    cameras: list[CameraAgent] = field(default_factory=list)

    @property
    def app(self) -> web.Application:
        return self.runner.app

    async def call(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        assert self.api is not None
        return await api_call(self.api, method, path, body, expect)

    async def sign_in(self, email: str) -> None:
        if self.api is not None:
            await self.api.close()
        self.api = await ApiClient.signed_in(self.url, email, PASSWORD)

    async def add(self, url: str, secret: str | None = None) -> dict[str, Any]:
        return await self.call("POST", "/api/integrations", {"url": url, "secret": secret}, expect=201)

    async def deliveries(self) -> list[dict[str, Any]]:
        return (await self.call("GET", "/api/integrations/deliveries"))["deliveries"]

    async def advance(self, seconds: float) -> None:
        """Move the test clock; the worker notices it within a second, or at once when woken."""
        self.clock.advance(timedelta(seconds=seconds))
        self.app[WORKER].wake()

    async def camera(self, name: str) -> CameraAgent:
        """A camera docked at this system now (on the test clock), streaming in-process."""
        slug = name.replace(" ", "-")
        docked = json.loads(dock_camera(self.app[SETTINGS].data_dir, name, self.app[SETTINGS].data_dir / f"{slug}.json",
                                        self.clock).read_text())
        offset = (self.clock.now() - datetime.now(UTC)).total_seconds()
        agent = CameraAgent(CameraOptions(self.url, name, SystemPublicKey.from_pem(docked["public_key"].encode()),
                                          docked["credential"],
                                          load_device_key(device_key_path(self.app[SETTINGS].data_dir / f"{slug}.json")),
                                          audio=False, gps=False, fps=10, clock_offset=offset))
        self.cameras.append(agent)
        await agent.start()
        return agent

    async def stop(self) -> None:
        if self.api is not None:
            for camera in self.cameras:
                await camera.stop()
            await self.api.close()
            self.api = None
            await self.runner.cleanup()


Start = Callable[..., Awaitable[Bwlive]]


@pytest.fixture
async def start_bwlive(tmp_path: Path) -> AsyncIterator[Start]:
    """Start (and at the end stop) servers on ``tmp_path``; the same data dir each time."""
    SystemKeyPair.generate().save(tmp_path / "keys")
    running: list[Bwlive] = []

    async def start(clock: ManualClock | None = None, allow_private: bool = True) -> Bwlive:
        """``allow_private``: the receivers here are on loopback, so it is on unless a test
        checks that such targets are refused."""
        clock = clock or ManualClock(datetime.now(UTC))
        runner, port = await start_server(
            Settings(port=0, keys_dir=tmp_path / "keys", data_dir=tmp_path / "data",
                     allow_private_integration_targets=allow_private), clock)
        app = runner.app
        app[AUTH].bootstrap("Harbour Security", "admin@harbour.example", "Ada Admin", PASSWORD, app[SYSTEM_KEY])
        bwlive = Bwlive(runner, f"http://127.0.0.1:{port}", clock)
        await bwlive.sign_in("admin@harbour.example")
        running.append(bwlive)
        return bwlive

    yield start
    for bwlive in running:
        await bwlive.stop()


async def until(check: Callable[[], Awaitable[Any]], timeout: float = 15.0) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.1)


async def delivery_with(bwlive: Bwlive, status: str, attempts: int) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        found = [d for d in await bwlive.deliveries() if d["status"] == status and len(d["attempts"]) == attempts]
        return found[0] if found else None

    return await until(check)


# ---------------------------------------------------------------------- tests
async def test_signed_events_verify_with_the_documented_receiver(start_bwlive: Start, docs_receiver: str) -> None:
    bwlive = await start_bwlive()
    integration = await bwlive.add(docs_receiver, SECRET)
    assert integration["signed"] is True
    await bwlive.call("POST", f"/api/integrations/{integration['id']}/test", expect=202)
    delivered = await delivery_with(bwlive, "delivered", 1)
    assert delivered["attempts"][0]["response_code"] == 204 and delivered["event_type"] == "integration.test"

    # A stale timestamp (the server's clock 10 minutes behind) is refused, and a 401 is not retried.
    bwlive.clock.advance(timedelta(minutes=-10))
    await bwlive.call("POST", f"/api/integrations/{integration['id']}/test", expect=202)
    failed = await delivery_with(bwlive, "failed", 1)
    assert failed["attempts"][0]["response_code"] == 401 and failed["next_attempt_at"] is None

    # Requests made by hand: the signature covers the body and the timestamp.
    body = json.dumps({"id": "e1", "type": "stream.started", "camera": "Officer Smith"}).encode()
    now = int(time.time())
    async with aiohttp.ClientSession() as http:
        async def answer(data: bytes, headers: dict[str, str]) -> int:
            async with http.post(docs_receiver, data=data, headers=headers) as response:
                return response.status

        signed = request_headers("e1", "stream.started", body, now, SECRET)
        assert await answer(body, signed) == 204
        assert await answer(body.replace(b"Smith", b"Smyth"), signed) == 401
        assert await answer(body, {**signed, "Bwlive-Timestamp": str(now + 1)}) == 401
        assert await answer(body, request_headers("e1", "stream.started", body, now - 301, SECRET)) == 401
        assert await answer(body, request_headers("e1", "stream.started", body, now, "another secret, not ours")) == 401
        assert await answer(body, request_headers("e1", "stream.started", body, now, None)) == 401


async def test_retries_after_5xx_with_backoff_stop_after_success_and_the_log_is_kept_a_week(
        start_bwlive: Start, receiver: Receiver) -> None:
    receiver.statuses = [500, 503]
    bwlive = await start_bwlive()
    integration = await bwlive.add(receiver.url)
    queued = await bwlive.call("POST", f"/api/integrations/{integration['id']}/test", expect=202)

    first = await delivery_with(bwlive, "retrying", 1)
    assert first["attempts"][0]["response_code"] == 500 and first["attempts"][0]["error"] is None  # never its body
    wait = datetime.fromisoformat(first["next_attempt_at"]) - bwlive.clock.now()
    assert timedelta(seconds=2.5) <= wait <= timedelta(seconds=5)
    await asyncio.sleep(1.5)  # the retry waits for the (test) clock, not for wall time
    assert len(receiver.requests) == 1

    await bwlive.advance(5)
    second = await delivery_with(bwlive, "retrying", 2)
    assert second["attempts"][1]["response_code"] == 503
    wait = datetime.fromisoformat(second["next_attempt_at"]) - bwlive.clock.now()
    assert timedelta(seconds=5) <= wait <= timedelta(seconds=10)  # doubled

    await bwlive.advance(10)
    done = await delivery_with(bwlive, "delivered", 3)
    assert [a["response_code"] for a in done["attempts"]] == [500, 503, 200] and done["next_attempt_at"] is None
    await bwlive.advance(24 * 3600)
    await asyncio.sleep(1.5)
    assert len(receiver.requests) == 3  # no more after the success
    assert {headers["Bwlive-Event-Id"] for headers, _ in receiver.requests} == {queued["event"]}
    assert len({body for _, body in receiver.requests}) == 1  # the same event each time
    assert "Bwlive-Signature" not in receiver.requests[0][0]  # no secret, no signature

    await bwlive.advance(6 * 24 * 3600)  # a week after the event the log forgets it
    await bwlive.sign_in("admin@harbour.example")  # (the idle session ended meanwhile)
    assert await until(lambda: _no_deliveries(bwlive))


async def _no_deliveries(bwlive: Bwlive) -> bool:
    return await bwlive.deliveries() == []


async def test_gives_up_on_4xx_at_once_and_on_5xx_after_24_hours(start_bwlive: Start, receiver: Receiver) -> None:
    receiver.statuses = [404] + [502] * 100
    bwlive = await start_bwlive()
    integration = await bwlive.add(receiver.url)
    await bwlive.call("POST", f"/api/integrations/{integration['id']}/test", expect=202)
    refused = await delivery_with(bwlive, "failed", 1)
    assert refused["attempts"][0]["response_code"] == 404

    await bwlive.call("POST", f"/api/integrations/{integration['id']}/test", expect=202)
    await delivery_with(bwlive, "retrying", 1)
    for _ in range(40):
        await bwlive.advance(3600)
        await asyncio.sleep(0.3)
        current = (await bwlive.deliveries())[0]
        if current["status"] == "failed":
            break
    assert current["status"] == "failed" and current["next_attempt_at"] is None
    times = [datetime.fromisoformat(a["at"]) for a in current["attempts"]]
    assert all(a["response_code"] == 502 for a in current["attempts"])
    assert 8 <= len(times) <= 30 and times[-1] - times[0] <= timedelta(hours=24)


async def test_stream_events_reach_the_organisations_receivers(start_bwlive: Start, receiver: Receiver) -> None:
    bwlive = await start_bwlive()
    await bwlive.add(receiver.url, SECRET)
    other_org, _ = bwlive.app[AUTH].bootstrap("Elsewhere Ltd", "admin@elsewhere.example", "Eve", PASSWORD, None)
    other_org_id = bwlive.app[AUTH].accounts.memberships(other_org.id)[0].organisation_id
    bwlive.app[STORE].add(other_org_id, "http://127.0.0.1:9/other", None, time.time())

    camera = await bwlive.camera("Officer Smith")
    started = await until(lambda: _events_of(receiver, "stream.started"))
    stream_id = started[0]["stream_id"]
    # as the console's button does (the server cannot read the seal; this camera refuses a made-up one)
    await bwlive.call("POST", f"/api/streams/{stream_id}/acknowledge", {"sealed": "A" * 40})
    await camera.stop()
    await until(lambda: _events_of(receiver, "stream.ended"))

    events = receiver.events()
    assert [e["type"] for e in events] == ["stream.started", "stream.acknowledged", "stream.ended"]
    assert {e["stream_id"] for e in events} == {stream_id} and {e["camera"] for e in events} == {"Officer Smith"}
    assert events[1]["details"] == {"by": "Ada Admin"}
    assert len({e["id"] for e in events}) == 3
    for event in events:
        assert set(event) == {"id", "type", "stream_id", "camera", "time", "details"}
        assert datetime.fromisoformat(event["time"]).utcoffset() == timedelta(0) and event["time"].endswith("Z")
    for headers, _ in receiver.requests:
        assert headers["Bwlive-Signature"].startswith("v1=")
    raw = b"".join(body for _, body in receiver.requests).lower()
    for word in (b"envelope", b"key", b"lat", b"lon", b"position"):
        assert word not in raw
    await asyncio.sleep(0.5)
    other_deliveries = bwlive.app[STORE].db.rows(
        "SELECT * FROM integration_deliveries WHERE integration_id IN"
        " (SELECT id FROM integrations WHERE organisation_id = :organisation)", organisation=other_org_id)
    assert other_deliveries == []  # not the other organisation's stream


async def _events_of(receiver: Receiver, event_type: str) -> list[dict[str, Any]]:
    return [e for e in receiver.events() if e["type"] == event_type]


async def test_a_hanging_receiver_does_not_slow_stream_starts(start_bwlive: Start, receiver: Receiver) -> None:
    receiver.hang = True
    bwlive = await start_bwlive()
    bwlive.app[WORKER].attempt_timeout = 60  # delivering inline would add a minute to each start
    baseline = await _timed_start(bwlive, "Baseline Camera")  # before any integration exists
    integration = await bwlive.add(receiver.url)

    first = await _timed_start(bwlive, "Officer Hang")
    await until(_open(receiver, 1))  # its stream.started is stuck in the receiver
    second = await _timed_start(bwlive, "Officer Wait")
    await until(_open(receiver, 2))
    assert max(first, second) < baseline + 15, (baseline, first, second)
    assert all(d["attempts"] == [] for d in await bwlive.deliveries())  # both still waiting

    # An attempt without an answer in time is logged and retried later.
    bwlive.app[WORKER].attempt_timeout = 1
    await bwlive.call("POST", f"/api/integrations/{integration['id']}/test", expect=202)
    timed_out = await until(lambda: _delivery_with_error(bwlive, "no answer within 1 s"))
    assert timed_out["status"] == "retrying" and timed_out["attempts"][0]["response_code"] is None
    assert timed_out["event_type"] == "integration.test"


async def _timed_start(bwlive: Bwlive, name: str) -> float:
    began = time.monotonic()
    await bwlive.camera(name)
    return time.monotonic() - began


def _open(receiver: Receiver, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return receiver.open_requests >= count

    return check


async def _delivery_with_error(bwlive: Bwlive, error: str) -> dict[str, Any] | None:
    for delivery in await bwlive.deliveries():
        if delivery["attempts"] and error in (delivery["attempts"][0]["error"] or ""):
            return delivery
    return None


async def test_the_queue_survives_a_restart(start_bwlive: Start, receiver: Receiver) -> None:
    receiver.statuses = [500]
    bwlive = await start_bwlive()
    integration = await bwlive.add(receiver.url, SECRET)
    queued = await bwlive.call("POST", f"/api/integrations/{integration['id']}/test", expect=202)
    await delivery_with(bwlive, "retrying", 1)
    await bwlive.stop()

    bwlive.clock.advance(timedelta(minutes=1))
    again = await start_bwlive(bwlive.clock)
    done = await delivery_with(again, "delivered", 2)
    assert done["event_id"] == queued["event"] and [a["response_code"] for a in done["attempts"]] == [500, 200]
    assert [headers["Bwlive-Event-Id"] for headers, _ in receiver.requests] == [queued["event"]] * 2
    assert (await again.call("GET", "/api/integrations"))["integrations"][0]["signed"] is True


async def test_admin_api_refusals_secrets_and_removal(start_bwlive: Start, receiver: Receiver) -> None:
    bwlive = await start_bwlive()
    cases = [
        ({"secret": SECRET}, 400, "missing url"),
        ({"url": "ftp://example.org/x"}, 400, "http:// or https://"),
        ({"url": "not a url"}, 400, "http:// or https://"),
        ({"url": receiver.url, "secret": "short"}, 400, "secret: string should have at least 16 characters"),
        ({"url": receiver.url, "secret": 1234567890123456789}, 400, "secret: input should be a valid string"),
        ([receiver.url], 400, "JSON object"),
    ]
    for body, status, words in cases:
        assert words in (await bwlive.call("POST", "/api/integrations", body, expect=status))["error"]
    added = await bwlive.add(receiver.url, SECRET)
    assert "exists already" in (await bwlive.call("POST", "/api/integrations", {"url": receiver.url}, expect=409))["error"]
    for method, path in [("DELETE", "/api/integrations/nope"), ("POST", "/api/integrations/nope/test")]:
        assert "no integration" in (await bwlive.call(method, path, expect=404))["error"]

    listed = await bwlive.call("GET", "/api/integrations")
    assert listed["integrations"] == [added] and added["url"] == receiver.url
    assert SECRET not in json.dumps(listed) + json.dumps(added)

    await bwlive.call("POST", f"/api/integrations/{added['id']}/test", expect=202)
    await delivery_with(bwlive, "delivered", 1)
    assert await bwlive.call("DELETE", f"/api/integrations/{added['id']}") == {"removed": added["id"]}
    assert (await bwlive.call("GET", "/api/integrations"))["integrations"] == []
    assert await bwlive.deliveries() == []
    await bwlive.camera("Officer After")
    await asyncio.sleep(0.5)
    assert len(receiver.requests) == 1  # removed: no more events
    audit = [(e["action"], e["details"]) for e in (await bwlive.call("GET", "/api/organisation/audit"))["entries"]]
    assert ("integration added", {"url": receiver.url, "signed": True}) in audit
    assert ("integration removed", {"url": receiver.url}) in audit

    async with aiohttp.ClientSession() as stranger, stranger.get(bwlive.url + "/api/integrations") as response:
        assert response.status == 401


# ------------------------------------------------------------ private targets
class _Resolves(AbstractResolver):
    """A name server that answers with fixed addresses (a rebinding attacker's)."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        return [ResolveResult(hostname=host, host=address, port=port, family=socket.AF_INET6 if ":" in address
                              else socket.AF_INET, proto=0, flags=0) for address in self.addresses]

    async def close(self) -> None:
        pass


async def test_private_targets_are_refused_when_added_and_when_delivered(start_bwlive: Start, receiver: Receiver) -> None:
    bwlive = await start_bwlive(allow_private=False)
    port = receiver.url.split(":")[2].split("/")[0]
    for url, kind in [(receiver.url, "loopback"), (f"http://localhost:{port}/events", "loopback"),
                      ("http://[::ffff:127.0.0.1]/", "loopback"), ("http://10.1.2.3/", "private"),
                      ("http://192.168.0.10/", "private"), ("http://169.254.169.254/latest/meta-data/", "link-local"),
                      ("http://[fe80::1]/", "link-local"), ("http://224.0.0.1/", "multicast"),
                      ("http://0.0.0.0/", "unspecified"), ("http://100.64.0.1/", "non-public")]:
        error = (await bwlive.call("POST", "/api/integrations", {"url": url}, expect=400))["error"]
        assert f"a {kind} address" in error and "--allow-private-integration-targets" in error, (url, error)

    # Stored earlier (allowed then, or its name resolved elsewhere): each attempt checks again.
    integration = bwlive.app[STORE].add(await _organisation(bwlive), receiver.url, None, time.time())
    await bwlive.call("POST", f"/api/integrations/{integration.id}/test", expect=202)
    refused = await until(lambda: _delivery_with_error(bwlive, "refused: 127.0.0.1 is a loopback address"))
    assert refused["attempts"][0]["response_code"] is None and receiver.requests == []

    # A name with ANY non-public address is refused, whatever order the name server gives.
    for addresses in [("93.184.215.14", "127.0.0.1"), ("10.0.0.5", "93.184.215.14"), ("2606:2800::1", "::1")]:
        with pytest.raises(TargetRefused):
            await TargetResolver(False, _Resolves(*addresses)).resolve("rebinding.example", 443)
    assert len(await TargetResolver(False, _Resolves("93.184.215.14", "2606:2800::1")).resolve("public.example")) == 2
    assert len(await TargetResolver(True, _Resolves("127.0.0.1")).resolve("on-premises.example")) == 1


async def test_the_delivery_log_keeps_the_status_never_the_receivers_answer(start_bwlive: Start, receiver: Receiver) -> None:
    receiver.statuses = [403]
    receiver.answer = "internal: db password hunter2, stack trace ..."
    bwlive = await start_bwlive()
    integration = await bwlive.add(receiver.url)
    await bwlive.call("POST", f"/api/integrations/{integration['id']}/test", expect=202)
    failed = await delivery_with(bwlive, "failed", 1)
    assert failed["attempts"][0]["response_code"] == 403 and failed["attempts"][0]["error"] is None
    assert "hunter2" not in json.dumps(await bwlive.deliveries())


async def _organisation(bwlive: Bwlive) -> str:
    return (await bwlive.call("GET", "/api/session"))["organisation"]["id"]
