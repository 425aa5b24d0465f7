"""Issue 10, hole 8, over real HTTP: security headers on every response (HSTS under TLS),
the stream-list WebSocket refuses other origins, ``X-Forwarded-*`` believed only from
trusted proxies (cookies keep ``Secure``, the sign-in limiter sees the client), and the
real ``bwlive serve`` creates its files private and warns of a system private key."""
from __future__ import annotations

import ipaddress
import os
import stat
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bwlive_rtc.auth.backoff import FREE_PER_ACCOUNT
from bwlive_rtc.auth.service import AUTH
from bwlive_rtc.crypto.system_key import PRIVATE_FILE, SystemKeyPair
from bwlive_rtc.kernel.appkeys import SETTINGS
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.kernel.headers import content_security_policy
from bwlive_rtc.server import start_server
from bwlive_rtc.systems.store import SYSTEM_KEY
from tests.postgres import SQLITE_FILES
from tests.processes import LISTENING, Camera, Process, bootstrap_admin

EMAIL, PASSWORD = "ada@harbour.example", "correct horse battery staple"
Start = Callable[..., Awaitable[str]]


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Start]:
    """Start in-process servers (an admin signed up) with these settings; returns the URL."""
    SystemKeyPair.generate().save(tmp_path / "keys")
    runners = []

    async def run(**settings: Any) -> str:
        data_dir = tmp_path / f"data-{len(runners)}"
        runner, port = await start_server(Settings(port=0, keys_dir=tmp_path / "keys", data_dir=data_dir, **settings))
        runner.app[AUTH].bootstrap("Harbour Security", EMAIL, "Ada Admin", PASSWORD, runner.app[SYSTEM_KEY])
        runners.append(runner)
        return f"{'https' if runner.app[SETTINGS].use_tls else 'http'}://127.0.0.1:{port}"

    yield run
    for runner in runners:
        await runner.cleanup()


def client() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), connector=aiohttp.TCPConnector(ssl=False))


async def sign_in(session: aiohttp.ClientSession, url: str, email: str = EMAIL, password: str = PASSWORD,
                  headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:
    async with session.post(url + "/api/session", json={"email": email, "password": password},
                            headers=headers or {}) as response:
        await response.read()
        return response


# ------------------------------------------------------------------- headers
async def test_every_response_carries_the_security_headers(start: Start) -> None:
    url = await start(tile_url="https://{s}.tiles.example.org/{z}/{x}/{y}.png")
    async with client() as session:
        await sign_in(session, url)
        for method, path, status in [("GET", "/", 200), ("GET", "/web/app.js", 200), ("GET", "/api/time", 200),
                                     ("GET", "/api/streams", 200), ("GET", "/api/nope", 404),
                                     ("POST", "/api/streams/nope/acknowledge", 403)]:
            async with session.request(method, url + path) as response:
                assert response.status == status, (path, response.status)
                headers = response.headers
                policy = headers["Content-Security-Policy"]
                assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy, policy
                assert "img-src 'self' data: https://*.tiles.example.org;" in policy, policy
                assert headers["X-Content-Type-Options"] == "nosniff"
                assert headers["Referrer-Policy"] == "no-referrer"
                assert (headers.get("Cache-Control") == "no-store") is not path.startswith("/web/"), (path, headers)
                assert "Strict-Transport-Security" not in headers  # plain HTTP
    assert "img-src 'self' data:;" in content_security_policy("")
    assert "img-src 'self' data: http://tiles.local:8081;" in content_security_policy("http://tiles.local:8081/{z}/{x}/{y}.png")


async def test_hsts_under_tls(start: Start) -> None:
    url = await start(tls=True)
    async with client() as session, session.get(url + "/web/signin.html") as response:
        assert response.status == 200
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


# ----------------------------------------------------------------- websocket
async def test_the_stream_list_socket_refuses_a_page_of_another_origin(start: Start) -> None:
    url = await start()
    async with client() as session:
        await sign_in(session, url)
        for foreign in ("https://evil.example", url.replace("127.0.0.1", "localhost"), url.rsplit(":", 1)[0] + ":1"):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(url + "/api/streams/ws", headers={"Origin": foreign})
            assert refused.value.status == 403, foreign
        async with session.ws_connect(url + "/api/streams/ws", headers={"Origin": url}) as socket:
            assert "streams" in await socket.receive_json(timeout=5)


# -------------------------------------------------------------------- proxies
HTTPS_FROM = {"X-Forwarded-Proto": "https"}


async def test_forwarded_headers_count_only_from_trusted_proxies(start: Start) -> None:
    behind = await start(trusted_proxies=(ipaddress.ip_network("127.0.0.0/8"),))
    exposed = await start(trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"),))  # we are not that proxy
    async with client() as session:
        secure = (await sign_in(session, behind, headers=HTTPS_FROM)).headers["Set-Cookie"]
        plain = (await sign_in(session, exposed, headers=HTTPS_FROM)).headers["Set-Cookie"]
        assert "Secure" in secure and "Secure" not in plain

        # Behind the proxy, the sign-in back-off counts the client the proxy names.
        async def failures(url: str, clients: list[str]) -> list[int]:
            statuses = []
            for address in clients:
                response = await sign_in(session, url, "nobody@example.test", "wrong password",
                                         {"X-Forwarded-For": f"{address}, 127.0.0.1"})
                statuses.append(response.status)
            return statuses

        waits = FREE_PER_ACCOUNT  # failures for one account from one address before it waits
        assert await failures(behind, ["203.0.113.7"] * (waits + 1) + ["198.51.100.9"]) == [401] * waits + [429, 401]
        # Not trusted: the header is ignored; every attempt is the connection's own address.
        assert await failures(exposed, [f"203.0.113.{i}" for i in range(waits + 1)]) == [401] * waits + [429]

    # A page of this origin behind the TLS proxy (its Origin is https://) may open the stream list.
    headers = {"Cookie": secure.split(";")[0], "Origin": behind.replace("http://", "https://"), **HTTPS_FROM}
    async with aiohttp.ClientSession() as bare, bare.ws_connect(behind + "/api/streams/ws", headers=headers) as socket:
        assert "streams" in await socket.receive_json(timeout=5)


# ------------------------------------------------------- files, private key
def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_serve_creates_its_files_private_and_warns_of_a_private_key(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    pair = SystemKeyPair.generate()
    pair.save(keys)
    (keys / PRIVATE_FILE).unlink()  # as it should be: the public key only
    data = tmp_path / "fresh-data"
    old_umask = os.umask(0o022)  # the usual umask; the server must not rely on its caller's
    try:
        server = Process(["serve", "--port", "0", "--keys-dir", str(keys), "--data-dir", str(data)], cwd=tmp_path)
    finally:
        os.umask(old_umask)
    camera = None
    try:
        url = server.wait_for(LISTENING).group(1)
        bootstrap_admin(data, keys)
        camera = Camera(tmp_path, url, keys, "Fay Faber", data_dir=data)
        camera.wait_for("streaming")
        deadline = time.monotonic() + 30
        while not list((data / "recordings").rglob("*.rtp")) and time.monotonic() < deadline:
            time.sleep(0.2)
        created = [data, *data.rglob("*")]
        names = {path.name for path in created}
        assert {*SQLITE_FILES, "recording-spool", "recordings"} <= names
        assert any(name.endswith(".rtp") for name in names), names  # a stored segment log
        loose = [(str(p.relative_to(tmp_path)), oct(mode(p))) for p in created
                 if mode(p) != (0o700 if p.is_dir() else 0o600)]
        assert loose == [], loose
        assert "PRIVATE key" not in server.output
    finally:
        if camera is not None:
            camera.stop()
        server.stop()

    pair.save(keys)  # now the private key sits beside the public one
    server = Process(["serve", "--port", "0", "--keys-dir", str(keys), "--data-dir", str(data)], cwd=tmp_path)
    try:
        server.wait_for(LISTENING)
        assert "WARNING: the system PRIVATE key is on this server" in server.output
        assert "the system private key is on the server host" in server.output  # the log line
    finally:
        server.stop()
