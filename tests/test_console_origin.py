"""The console hosted on an organisation's own origin (issue 14, part 4), against the real
server over real HTTP, attacker-style: sign-in there gives a bearer session bound to that
origin (never a cookie), short-lived and renewed, revoked by signing out; CORS only for
configured console origins and never with credentials; two-factor sign-in still asked;
another origin, another organisation's session, a viewer's session, an expired or revoked
token and no token are each refused with a sentence. The browser's view is in
test_console_origin_browser.py."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
import pyotp
import pytest
from aiohttp import web

from bwlive_rtc.auth.service import AUTH
from bwlive_rtc.auth.sessions import BEARER_LIFE
from bwlive_rtc.kernel.access import Role
from bwlive_rtc.kernel.clock import ManualClock
from bwlive_rtc.protocol import SESSION_COOKIE, TOKEN_SUBPROTOCOL
from bwlive_rtc.viewer.session import ApiClient
from tests.inprocess import start_two_organisations

PASSWORD = "a long enough password"
CONSOLE = "https://console.a.example"  # where organisation A hosts the web client
CONSOLE_B = "https://console.b.example"
ELSEWHERE = "https://evil.example"


@dataclass
class Setup:
    url: str
    app: web.Application
    clock: ManualClock
    admin: ApiClient  # A's admin, signed in on the server's own pages (cookie)
    other_admin: ApiClient  # B's admin
    org_a: str
    http: aiohttp.ClientSession  # no cookie jar

    async def call(self, method: str, path: str, token: str | None = None, origin: str | None = CONSOLE,
                   **kwargs: object) -> tuple[int, dict, aiohttp.typedefs.LooseHeaders]:
        headers = {**({"Authorization": f"Bearer {token}"} if token else {}), **({"Origin": origin} if origin else {})}
        async with self.http.request(method, self.url + path, headers=headers, **kwargs) as response:
            body = await response.json() if response.content_type == "application/json" else {}
            return response.status, body, response.headers

    async def sign_in(self, email: str, origin: str = CONSOLE) -> tuple[int, dict, aiohttp.typedefs.LooseHeaders]:
        return await self.call("POST", "/api/session", origin=origin, json={"email": email, "password": PASSWORD})

    async def token(self, email: str, origin: str = CONSOLE) -> str:
        status, body, headers = await self.sign_in(email, origin)
        assert status == 200, body
        return body["session_token"]


@pytest.fixture
async def setup(tmp_path: Path):
    started = await start_two_organisations(tmp_path, PASSWORD)
    for email, name, role in (("viewer@a.test", "Vic Viewer", Role.VIEWER), ("op@a.test", "Olga Operator", Role.OPERATOR)):
        started.auth.accounts.add_member(started.auth.accounts.create_user(email, name, PASSWORD).id, started.org_a, role)
    url, runner, clock, org_a = started.url, started.runner, started.clock, started.org_a
    clients = [await ApiClient.signed_in(url, f"admin@{org}.test", PASSWORD) for org in "ab"]
    http = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
    setup = Setup(url, runner.app, clock, *clients, org_a, http)
    async with setup.admin.request("PUT", "/api/organisation/console-origins", json={"origins": [CONSOLE]}) as response:
        assert response.status == 200, await response.text()
    yield setup
    await http.close()
    for client in clients:
        await client.close()
    await runner.cleanup()


async def test_admins_configure_the_console_origins_audited(setup: Setup) -> None:
    async with setup.admin.request("GET", "/api/organisation/console-origins") as response:
        assert (await response.json()) == {"origins": [CONSOLE]}
    async with setup.other_admin.request("GET", "/api/organisation/console-origins") as response:
        assert (await response.json()) == {"origins": []}  # B's own, empty
    for origins in (["console.a.example"], [CONSOLE + "/path"], ["ftp://x.example"], [CONSOLE] * 21):
        async with setup.admin.request("PUT", "/api/organisation/console-origins", json={"origins": origins}) as response:
            assert response.status == 400 and "origins" in (await response.json())["error"], origins
    viewer = await ApiClient.signed_in(setup.url, "viewer@a.test", PASSWORD)
    async with viewer.request("PUT", "/api/organisation/console-origins", json={"origins": [ELSEWHERE]}) as response:
        assert response.status == 403 and "admin role" in (await response.json())["error"]
    await viewer.close()
    status, body, _ = await setup.call("PUT", "/api/organisation/console-origins", origin=None, json={"origins": []})
    assert status == 401 and body["error"]
    async with setup.admin.request("GET", "/api/organisation/audit") as response:
        entries = (await response.json())["entries"]
    assert any(e["action"] == "console origins changed" and e["details"]["origins"] == [CONSOLE] for e in entries)


async def test_a_console_origin_signs_in_to_a_bearer_session_never_a_cookie(setup: Setup) -> None:
    async with setup.http.options(setup.url + "/api/session", headers={
            "Origin": CONSOLE, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"}) as response:
        assert response.status == 204 and response.headers["Access-Control-Allow-Origin"] == CONSOLE
        assert "Access-Control-Allow-Credentials" not in response.headers
    status, body, headers = await setup.sign_in("op@a.test")
    assert status == 200 and body["signed_in"] and body["organisation"]["name"] == "Org A" and body["role"] == "operator"
    token = body["session_token"]
    assert token.startswith("bws_") and body["csrf_token"] is None and body["expires_at"]
    assert "Set-Cookie" not in headers and headers["Access-Control-Allow-Origin"] == CONSOLE
    assert "Access-Control-Allow-Credentials" not in headers

    status, body, headers = await setup.call("GET", "/api/streams", token)
    assert status == 200 and body == {"streams": []} and headers["Access-Control-Allow-Origin"] == CONSOLE
    status, body, _ = await setup.call("GET", "/api/session", token)
    assert body["signed_in"] and body["user"]["email"] == "op@a.test"
    # state changes need no CSRF token (a browser never sends a bearer token by itself)
    status, body, _ = await setup.call("POST", "/api/groups", token, json={"name": "Night shift"})
    assert status == 200 and body["name"] == "Night shift", body
    # the token is no cookie, and a cookie is no token
    async with setup.http.get(setup.url + "/api/streams", headers={"Cookie": f"{SESSION_COOKIE}={token}"}) as response:
        assert response.status == 401
    status, body, _ = await setup.call("GET", "/api/streams", "bws_" + "x" * 43)
    assert status == 401 and "sign in" in body["error"]

    # short-lived, renewed by its page
    setup.clock.advance(BEARER_LIFE - timedelta(seconds=10))
    status, body, _ = await setup.call("POST", "/api/session/renew", token)
    assert status == 200 and body["expires_at"]
    setup.clock.advance(timedelta(seconds=30))
    assert (await setup.call("GET", "/api/streams", token))[0] == 200  # past its first end: renewed
    setup.clock.advance(BEARER_LIFE)
    status, body, headers = await setup.call("GET", "/api/streams", token)
    assert status == 401 and "expired" in body["error"] and headers["Access-Control-Allow-Origin"] == CONSOLE
    # a cookie session needs no renewal
    async with setup.admin.request("POST", "/api/session/renew") as response:
        assert response.status == 400 and "cookie" in (await response.json())["error"]

    # signing out revokes the token at once
    fresh = await setup.token("op@a.test")
    status, _, _ = await setup.call("DELETE", "/api/session", fresh)
    assert status == 200
    status, body, _ = await setup.call("GET", "/api/streams", fresh)
    assert status == 401 and body["error"]
    # no token at all
    status, body, _ = await setup.call("GET", "/api/streams")
    assert status == 401 and "sign in" in body["error"]
    # the server's own pages still get the SameSite=Strict cookie and no token
    async with aiohttp.ClientSession() as own:
        async with own.post(setup.url + "/api/session", json={"email": "op@a.test", "password": PASSWORD}) as response:
            assert "session_token" not in await response.json()
            assert "SameSite=Strict" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]


async def test_an_origin_not_configured_is_refused_without_cors_headers(setup: Setup) -> None:
    for method, path in (("POST", "/api/session"), ("GET", "/api/streams"), ("GET", "/api/organisation/members")):
        async with setup.http.options(setup.url + path, headers={
                "Origin": ELSEWHERE, "Access-Control-Request-Method": method}) as response:
            body = await response.json()
            assert response.status == 403 and f"{ELSEWHERE} is neither a console origin" in body["error"]
            assert "Access-Control-Allow-Origin" not in response.headers
    status, body, headers = await setup.sign_in("op@a.test", origin=ELSEWHERE)
    assert status == 403 and "not a console origin of any organisation" in body["error"]
    assert "Access-Control-Allow-Origin" not in headers and "Set-Cookie" not in headers
    # a session of the configured origin, used from another
    token = await setup.token("op@a.test")
    status, body, headers = await setup.call("GET", "/api/streams", token, origin=ELSEWHERE)
    assert status == 403 and f"signed in at {CONSOLE}, not at {ELSEWHERE}" in body["error"]
    assert "Access-Control-Allow-Origin" not in headers
    # WHEP's ICE servers (OPTIONS) are a console's too
    async with setup.http.options(setup.url + "/whep/some-stream", headers={
            "Origin": CONSOLE, "Access-Control-Request-Method": "OPTIONS"}) as response:
        assert response.status == 204 and "OPTIONS" in response.headers["Access-Control-Allow-Methods"]
    # cameras' and API keys' routes are not for consoles
    async with setup.http.options(setup.url + "/api/tokens", headers={
            "Origin": CONSOLE, "Access-Control-Request-Method": "POST"}) as response:
        assert response.status == 403 and "cannot be called from another origin" in (await response.json())["error"]
    # an origin taken off: its sessions are refused from their next request
    async with setup.admin.request("PUT", "/api/organisation/console-origins", json={"origins": []}):
        pass
    status, body, _ = await setup.call("GET", "/api/streams", token)
    assert status == 403 and "no longer a console origin" in body["error"]
    status, body, _ = await setup.sign_in("op@a.test")
    assert status == 403


async def test_another_organisations_session_sees_nothing_of_this_one(setup: Setup) -> None:
    async with setup.other_admin.request("PUT", "/api/organisation/console-origins",
                                         json={"origins": [CONSOLE_B]}) as response:
        assert response.status == 200
    # B's admin cannot sign in at A's console origin (B did not configure it)
    status, body, _ = await setup.sign_in("admin@b.test", origin=CONSOLE)
    assert status == 403 and "any organisation you belong to" in body["error"]
    stolen = await setup.token("admin@b.test", origin=CONSOLE_B)
    # B's token from A's console: refused; from B's console: B's organisation only
    status, body, _ = await setup.call("GET", "/api/organisation/members", stolen, origin=CONSOLE)
    assert status == 403 and "not at" in body["error"]
    status, body, _ = await setup.call("GET", "/api/organisation/members", stolen, origin=CONSOLE_B)
    assert status == 200 and [m["email"] for m in body["members"]] == ["admin@b.test"]
    status, body, _ = await setup.call("PUT", "/api/session/organisation", stolen, origin=CONSOLE_B,
                                       json={"organisation_id": setup.org_a})
    assert status == 403 and "not a member" in body["error"]
    async with setup.admin.request("POST", "/api/groups", json={"name": "A's group"}) as response:
        group = (await response.json())["id"]
    for method, path, kwargs in (("PATCH", f"/api/groups/{group}", {"json": {"name": "Mine now"}}),
                                 ("DELETE", f"/api/groups/{group}", {})):
        status, body, _ = await setup.call(method, path, stolen, origin=CONSOLE_B, **kwargs)
        assert status == 404 and body["error"], (method, path, body)
    status, body, _ = await setup.call("GET", "/api/groups", stolen, origin=CONSOLE_B)
    assert status == 200 and group not in str(body)
    # a member of both organisations at A's console sees A only, and cannot pick B there
    setup.app[AUTH].accounts.add_member(setup.app[AUTH].accounts.user_by_email("op@a.test").id,
                                        setup.other_admin.session["organisation"]["id"], Role.ADMIN)
    status, body, _ = await setup.sign_in("op@a.test")
    assert [o["name"] for o in body["organisations"]] == ["Org A"] and body["organisation"]["name"] == "Org A"
    status, body, _ = await setup.call("PUT", "/api/session/organisation", body["session_token"],
                                       json={"organisation_id": setup.other_admin.session["organisation"]["id"]})
    assert status == 403 and "not a console origin of that organisation" in body["error"]


async def test_a_viewers_token_cannot_acknowledge_and_a_viewers_session_cannot_administer(setup: Setup) -> None:
    """A console session keeps its person's role (a signed-in viewer acknowledges, SPEC
    §4); a viewer token, even from the console origin, does not acknowledge."""
    async with setup.admin.request("POST", "/api/organisation/api-keys", json={
            "name": "wall", "role": "viewer", "origins": [CONSOLE]}) as response:
        secret = (await response.json())["secret"]
    async with setup.http.post(setup.url + "/api/tokens", headers={"Authorization": f"Bearer {secret}"},
                               json={"scope": {"streams": ["*"]}}) as response:
        viewer_token = (await response.json())["token"]
    status, body, _ = await setup.call("POST", "/api/streams/some-stream/acknowledge", viewer_token, json={"sealed": "x"})
    assert status == 403 and "operator" in body["error"]
    session = await setup.token("viewer@a.test")
    status, body, _ = await setup.call("POST", "/api/streams/some-stream/acknowledge", session, json={"sealed": "x"})
    assert status == 404 and "no live stream" in body["error"]  # allowed to try; there is no such stream
    for method, path in (("GET", "/api/organisation/members"), ("GET", "/api/organisation/console-origins"),
                         ("POST", "/api/organisation/api-keys")):
        status, body, _ = await setup.call(method, path, session, json={})
        assert status == 403 and "admin role" in body["error"], (path, body)


async def test_two_factor_sign_in_is_still_asked_at_a_console_origin(setup: Setup) -> None:
    async with setup.admin.request("POST", "/api/account/two-factor") as response:
        totp = pyotp.TOTP((await response.json())["secret"])
    async with setup.admin.request("POST", "/api/account/two-factor/confirm",
                                   json={"code": totp.at(setup.clock.now())}) as response:
        assert response.status == 200
    setup.clock.advance(timedelta(seconds=30))
    status, body, headers = await setup.sign_in("admin@a.test")
    assert status == 200 and body["two_factor"] and "session_token" not in body and "Set-Cookie" not in headers
    challenge = body["challenge"]
    assert (await setup.call("GET", "/api/streams", challenge))[0] == 401  # the password alone is no session
    status, body, _ = await setup.call("POST", "/api/session/two-factor", json={"code": "000000", "challenge": challenge})
    assert status == 401 and body["error"]
    status, body, _ = await setup.call("POST", "/api/session/two-factor", json={"code": totp.at(setup.clock.now())})
    assert status == 400 and "sign in with your e-mail address and password first" in body["error"]
    status, body, headers = await setup.call("POST", "/api/session/two-factor",
                                             json={"code": totp.at(setup.clock.now()), "challenge": challenge})
    assert status == 200 and body["session_token"].startswith("bws_") and "Set-Cookie" not in headers
    # an organisation that requires it: a member without it gets nothing of the organisation
    async with setup.admin.request("PUT", "/api/organisation/policy", json={"require_two_factor": True}) as response:
        assert response.status == 200
    status, body, _ = await setup.call("GET", "/api/streams", await setup.token("op@a.test"))
    assert status == 403 and "two-factor" in body["error"]


async def test_a_websocket_takes_the_session_token_as_a_subprotocol(setup: Setup) -> None:
    token = await setup.token("op@a.test")
    async with setup.http.ws_connect(setup.url.replace("http", "ws") + "/api/streams/ws", origin=CONSOLE,
                                     protocols=(TOKEN_SUBPROTOCOL, token)) as socket:
        assert socket.protocol == TOKEN_SUBPROTOCOL
        assert "streams" in await socket.receive_json(timeout=5)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        async with setup.http.ws_connect(setup.url.replace("http", "ws") + "/api/streams/ws", origin=ELSEWHERE,
                                         protocols=(TOKEN_SUBPROTOCOL, token)):
            pass
    assert refused.value.status == 403
