"""API keys, viewer tokens and their CORS against the real server over real HTTP (issue 14,
part 2), attacker-style: expired tokens, revoked keys, other origins, other
organisations, tampered and unsigned tokens, tokens in URLs, keys used as tokens, tokens
on routes they are not for. The browser's view from another origin is in
test_embedding_browser.py."""
from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
import jwt
import pytest
from aiohttp import web

from bwlive_rtc.console.routes import GROUPS
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.kernel.access import CREDENTIAL_LEVELS, Access, Role, required_access, token_access
from bwlive_rtc.kernel.appkeys import SETTINGS
from bwlive_rtc.kernel.clock import ManualClock
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.protocol import TOKEN_SUBPROTOCOL
from bwlive_rtc.streams.hub import ROUTER
from bwlive_rtc.systems.store import SYSTEMS
from bwlive_rtc.viewer.session import ApiClient
from tests.inprocess import start_two_organisations
from tests.postgres import stored_metadata

PASSWORD = "a long enough password"
SITE = "https://vms.example"  # the integrator's page
ELSEWHERE = "https://evil.example"
# The routes a viewer token may use, and the level it needs there: anything else is refused.
TOKEN_ROUTES = {
    ("GET", "/api/streams"): Access.VIEWER, ("GET", "/api/streams/ws"): Access.VIEWER,
    ("POST", "/whep/{stream_id}"): Access.VIEWER, ("POST", "/whep/{stream_id}/{consumer_id}/keepalive"): Access.VIEWER,
    ("POST", "/whep/{stream_id}/{consumer_id}/decrypt-state"): Access.VIEWER,
    ("DELETE", "/whep/{stream_id}/{consumer_id}"): Access.VIEWER,
    ("POST", "/api/streams/{stream_id}/acknowledge"): Access.OPERATOR,
    ("GET", "/api/recordings"): Access.VIEWER, ("GET", "/api/recordings/{recording_id}"): Access.VIEWER,
    ("GET", "/api/recordings/{recording_id}/segments/{seq}"): Access.VIEWER,
    ("GET", "/api/recordings/{recording_id}/segments/{seq}/webm"): Access.VIEWER,
    ("GET", "/api/time"): Access.PUBLIC,
}


@dataclass
class Setup:
    url: str
    app: web.Application
    clock: ManualClock
    admin: ApiClient  # organisation A's admin
    viewer: ApiClient  # a viewer of A
    other_admin: ApiClient  # organisation B's admin
    org_a: str
    http: aiohttp.ClientSession  # no cookie

    async def key(self, client: ApiClient | None = None, role: str = "operator", origins: tuple[str, ...] = (SITE,),
                  **extra: object) -> dict:
        async with (client or self.admin).request("POST", "/api/organisation/api-keys", json={
                "name": f"{role} key", "role": role, "origins": list(origins), **extra}) as response:
            assert response.status == 201, await response.text()
            return await response.json()

    async def mint(self, secret: str, **wanted: object) -> tuple[int, dict]:
        wanted.setdefault("scope", {"streams": ["*"], "recordings": ["*"]})
        async with self.http.post(self.url + "/api/tokens", json=wanted,
                                  headers={"Authorization": f"Bearer {secret}"}) as response:
            return response.status, await response.json()

    async def token(self, secret: str, **wanted: object) -> str:
        status, answer = await self.mint(secret, **wanted)
        assert status == 201, answer
        return answer["token"]

    async def call(self, method: str, path: str, token: str, origin: str | None = SITE, headers: dict | None = None,
                   **kwargs: object) -> tuple[int, dict, aiohttp.typedefs.LooseHeaders]:
        headers = {"Authorization": f"Bearer {token}", **({"Origin": origin} if origin else {}), **(headers or {})}
        async with self.http.request(method, self.url + path, headers=headers, **kwargs) as response:
            body = await response.json() if response.content_type == "application/json" else {}
            return response.status, body, response.headers


@pytest.fixture
async def setup(tmp_path: Path):
    started = await start_two_organisations(tmp_path, PASSWORD)
    url, runner, clock, org_a, auth = started.url, started.runner, started.clock, started.org_a, started.auth
    runner.app[SYSTEMS].add(org_a, "a system", started.keys.public)
    viewer = auth.accounts.create_user("viewer@a.test", "Vic Viewer", PASSWORD)
    auth.accounts.add_member(viewer.id, org_a, Role.VIEWER)
    clients = [await ApiClient.signed_in(url, f"{who}@{org}.test", PASSWORD)
               for who, org in (("admin", "a"), ("viewer", "a"), ("admin", "b"))]
    http = aiohttp.ClientSession()
    yield Setup(url, runner.app, clock, *clients, org_a, http)
    await http.close()
    for client in clients:
        await client.close()
    await runner.cleanup()


async def test_admins_create_list_and_revoke_keys_whose_secret_is_shown_once(setup: Setup) -> None:
    created = await setup.key(role="viewer", origins=(SITE, "http://127.0.0.1:8080", SITE), expires_in_days=30)
    secret = created.pop("secret")
    assert secret.startswith(created["prefix"]) and created["prefix"].startswith("bwk_") and len(secret) == 59
    assert created["origins"] == [SITE, "http://127.0.0.1:8080"] and created["created_by"] == "Ann Admin"
    async with setup.admin.request("GET", "/api/organisation/api-keys") as response:
        listed = (await response.json())["api_keys"]
    assert listed == [created] and secret not in json.dumps(listed)
    assert secret.encode() not in stored_metadata(setup.app[SETTINGS].data_dir)
    await setup.token(secret, origin=SITE)
    async with setup.admin.request("GET", "/api/organisation/api-keys") as response:
        assert (await response.json())["api_keys"][0]["last_used_at"] is not None
    # refused: an admin key, a bad origin, no origin, a viewer, another organisation's admin
    for body, status in (({"role": "admin", "origins": [SITE]}, 400), ({"role": "viewer", "origins": ["vms.example"]}, 400),
                         ({"role": "viewer", "origins": [SITE + "/path"]}, 400), ({"role": "viewer", "origins": []}, 400)):
        async with setup.admin.request("POST", "/api/organisation/api-keys", json={"name": "k", **body}) as response:
            assert response.status == status and (await response.json())["error"]
    async with setup.viewer.request("POST", "/api/organisation/api-keys",
                                    json={"name": "k", "role": "viewer", "origins": [SITE]}) as response:
        assert response.status == 403
    async with setup.other_admin.request("POST", f"/api/organisation/api-keys/{created['id']}/revoke") as response:
        assert response.status == 404
    async with setup.other_admin.request("GET", "/api/organisation/api-keys") as response:
        assert (await response.json())["api_keys"] == []
    async with setup.admin.request("POST", f"/api/organisation/api-keys/{created['id']}/revoke") as response:
        assert response.status == 200 and (await response.json())["revoked_at"]
    async with setup.admin.request("GET", "/api/organisation/audit") as response:
        actions = [entry["action"] for entry in (await response.json())["entries"]]
    assert {"API key created", "viewer token issued", "API key revoked"} <= set(actions)


async def test_a_token_is_refused_when_expired_revoked_tampered_unsigned_or_in_the_url(setup: Setup) -> None:
    key = await setup.key()
    token = await setup.token(key["secret"], minutes=5)
    assert (await setup.call("GET", "/api/streams", token))[0] == 200
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"] == SITE and claims["role"] == "operator" and claims["exp"] - claims["iat"] == 300
    assert {"org", "scope", "key", "jti"} <= set(claims)

    # in the URL: a sentence, whatever else is right
    async with setup.http.get(setup.url + f"/api/streams?access_token={token}") as response:
        assert response.status == 400 and "never in the URL" in (await response.json())["error"]
    # tampered (a role raised in the payload) and unsigned (alg: none)
    header, payload, signature = token.split(".")
    raised = base64.urlsafe_b64encode(json.dumps({**claims, "org": "other"}).encode()).rstrip(b"=").decode()
    unsigned = jwt.encode({**claims}, None, algorithm="none")
    for forged in (f"{header}.{raised}.{signature}", unsigned, token[:-3] + "AAA", "not-a-jwt"):
        status, body, _ = await setup.call("GET", "/api/streams", forged)
        assert status == 401 and "not a valid viewer token" in body["error"], (forged, body)
    # the API key itself is not a token
    status, body, _ = await setup.call("GET", "/api/streams", key["secret"])
    assert status == 401 and "only mints viewer tokens" in body["error"]
    # a token is not an API key
    status, body = await setup.mint(token)
    assert status == 401 and "unknown API key" in body["error"]
    # expired, on the server's clock
    setup.clock.advance(timedelta(minutes=5, seconds=1))
    status, body, headers = await setup.call("GET", "/api/streams", token)
    assert status == 401 and "expired" in body["error"] and headers["Access-Control-Allow-Origin"] == SITE
    # revoked: at once, for every token of the key
    fresh = await setup.token(key["secret"])
    async with setup.admin.request("POST", f"/api/organisation/api-keys/{key['id']}/revoke"):
        pass
    status, body, _ = await setup.call("GET", "/api/streams", fresh)
    assert status == 401 and "revoked" in body["error"]
    assert (await setup.mint(key["secret"]))[0] == 401


async def test_a_token_is_for_its_origin_its_role_and_nothing_an_admin_does(setup: Setup) -> None:
    viewer_key = await setup.key(role="viewer", origins=(SITE, "https://other.vms.example"))
    status, body = await setup.mint(viewer_key["secret"])
    assert status == 400 and "name one of this key's origins" in body["error"]
    status, body = await setup.mint(viewer_key["secret"], origin=SITE, role="operator")
    assert status == 403 and "at most the viewer role" in body["error"]
    status, body = await setup.mint(viewer_key["secret"], origin=ELSEWHERE)
    assert status == 403
    status, body = await setup.mint(viewer_key["secret"], origin=SITE, scope={})
    assert status == 400 and "scope" in body["error"]
    status, body = await setup.mint(viewer_key["secret"], origin=SITE, minutes=61)
    assert status == 400 and "minutes" in body["error"]
    token = await setup.token(viewer_key["secret"], origin=SITE)

    status, body, headers = await setup.call("GET", "/api/streams", token, origin=ELSEWHERE)
    assert status == 403 and f"for {SITE}, not for {ELSEWHERE}" in body["error"]
    assert "Access-Control-Allow-Origin" not in headers
    status, body, _ = await setup.call("POST", "/api/streams/nope/acknowledge", token, json={"sealed": "x"})
    assert status == 403 and "operator" in body["error"]
    for method, path in (("GET", "/api/organisation/members"), ("GET", "/api/organisation/api-keys"),
                         ("POST", "/api/groups"), ("POST", "/api/streams/nope/end"), ("POST", "/api/organisations"),
                         ("PUT", "/api/session/organisation")):
        status, body, _ = await setup.call(method, path, token, json={})
        assert status == 403 and "viewer token is not accepted" in body["error"], (method, path, body)


async def test_tokens_reach_only_the_routes_declared_for_them(setup: Setup) -> None:
    """Generated from the route table: a viewer and an operator token on every route. Where
    no token level is declared, a token is refused (403) even if the route is for viewers;
    where one is, it passes the gate when its role suffices."""
    tokens = {role: await setup.token((await setup.key(role=role))["secret"]) for role in ("viewer", "operator")}
    declared, failures = {}, []
    for route in setup.app.router.routes():
        if isinstance(route.resource, web.StaticResource) or route.method in ("HEAD", "*"):
            continue
        canonical, level = route.resource.canonical, required_access(route.handler)
        if token_access(route.handler) is not None:
            declared[(route.method, canonical)] = token_access(route.handler)
        if level == Access.PUBLIC or level in CREDENTIAL_LEVELS:
            continue
        path = canonical.replace("{", "").replace("}", "")
        for role, token in tokens.items():
            status, body, _ = await setup.call(route.method, path, token, json={})
            needed = token_access(route.handler)
            must_refuse = needed is None or (needed == Access.OPERATOR and role == "viewer")
            if must_refuse != (status == 403) or status == 401:
                failures.append(f"{role} token {route.method} {canonical}: {status} {body}")
    assert declared == TOKEN_ROUTES
    assert failures == []


async def test_cors_only_for_token_routes_and_the_origins_of_keys_in_service(setup: Setup) -> None:
    key = await setup.key(origins=(SITE,))
    token = await setup.token(key["secret"])

    async def preflight(path: str, origin: str, method: str = "GET") -> tuple[int, aiohttp.typedefs.LooseHeaders]:
        async with setup.http.options(setup.url + path, headers={
                "Origin": origin, "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "authorization, content-type"}) as response:
            return response.status, response.headers

    status, headers = await preflight("/whep/s1", SITE, "POST")
    assert status == 204 and headers["Access-Control-Allow-Origin"] == SITE
    assert "Authorization" in headers["Access-Control-Allow-Headers"] and "POST" in headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in headers and "Origin" in headers["Vary"]
    for path, origin, method in (("/api/streams", ELSEWHERE, "GET"), ("/api/organisation/members", SITE, "GET"),
                                 ("/api/streams/s1/end", SITE, "POST"), ("/api/tokens", SITE, "POST")):
        status, headers = await preflight(path, origin, method)
        assert status == 403 and "Access-Control-Allow-Origin" not in headers, (path, origin)

    status, _, headers = await setup.call("GET", "/api/streams", token)
    assert status == 200 and headers["Access-Control-Allow-Origin"] == SITE and "Origin" in headers["Vary"]
    assert "Location" in headers["Access-Control-Expose-Headers"] and "Link" in headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in headers
    assert headers["Content-Security-Policy"] and headers["Cache-Control"] == "no-store"
    # a signed-in browser gets no CORS, and its cookie still needs the same origin for changes
    async with setup.admin.request("GET", "/api/streams", headers={"Origin": SITE}) as response:
        assert response.status == 200 and "Access-Control-Allow-Origin" not in response.headers
    async with setup.admin.request("POST", "/api/organisation/join-codes", headers={"Origin": SITE}) as response:
        assert response.status == 403
    # a revoked key's origins are no longer admitted
    async with setup.admin.request("POST", f"/api/organisation/api-keys/{key['id']}/revoke"):
        pass
    assert (await preflight("/api/streams", SITE))[0] == 403


async def test_a_token_sees_its_scope_of_its_organisation_live_and_its_key_revocation_ends_it(
        setup: Setup, tmp_path: Path) -> None:
    from tests.processes import Camera
    from tests.viewing import DecodingViewer

    settings = setup.app[SETTINGS]
    camera = Camera(tmp_path, setup.url, settings.keys_dir, "Jip Mulder", data_dir=settings.data_dir, clock=setup.clock)
    try:
        await asyncio.to_thread(camera.wait_for, "streaming")
        producer = next(iter(setup.app[ROUTER].producers.values()))
        group = setup.app[GROUPS].create(setup.org_a, "North", ["Jip Mulder"])
        key = await setup.key()
        everything = await setup.token(key["secret"])
        by_group = await setup.token(key["secret"], scope={"groups": [group.id]})
        by_id = await setup.token(key["secret"], scope={"streams": [producer.id]})
        elsewhere = await setup.token(key["secret"], scope={"streams": ["Someone Else"], "recordings": ["*"]})
        other_org = await setup.token((await setup.key(setup.other_admin))["secret"])
        for token in (everything, by_group, by_id):
            status, body, _ = await setup.call("GET", "/api/streams", token)
            assert [s["camera"] for s in body["streams"]] == ["Jip Mulder"]
        for token in (elsewhere, other_org):
            assert (await setup.call("GET", "/api/streams", token))[1]["streams"] == []
            status, body, _ = await setup.call("POST", f"/whep/{producer.id}", token, data="v=0\r\n",
                                               headers={"Content-Type": "application/sdp"})
            assert status == 404, body
            status, body, _ = await setup.call("POST", f"/api/streams/{producer.id}/acknowledge", token,
                                               json={"sealed": "x"})
            assert status == 404, body
        async with setup.admin.request("GET", "/api/recordings") as response:
            recording = (await response.json())["recordings"][0]
        assert (await setup.call("GET", f"/api/recordings/{recording['id']}", elsewhere))[0] == 200
        for token in (by_id, other_org):  # by_id names no recording
            status, body, _ = await setup.call("GET", "/api/recordings", token)
            assert status == 200 and body["recordings"] == []
            assert (await setup.call("GET", f"/api/recordings/{recording['id']}", token))[0] == 404
            assert (await setup.call("GET", f"/api/recordings/{recording['id']}/segments/0", token))[0] == 404
        status, body = await setup.mint(key["secret"], scope={"groups": ["nope"]})
        assert status == 400 and "no group 'nope'" in body["error"]

        # the live list over a WebSocket: the token as a subprotocol, never in the URL
        ws = await setup.http.ws_connect(setup.url.replace("http", "ws") + "/api/streams/ws",
                                         protocols=(TOKEN_SUBPROTOCOL, by_group), headers={"Origin": SITE})
        assert ws.protocol == TOKEN_SUBPROTOCOL
        assert [s["camera"] for s in (await ws.receive_json(timeout=5))["streams"]] == ["Jip Mulder"]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await setup.http.ws_connect(setup.url + "/api/streams/ws", protocols=(TOKEN_SUBPROTOCOL, by_group),
                                        headers={"Origin": ELSEWHERE})
        assert refused.value.status == 403

        # real media with the token: the camera's frames decrypt and decode
        token_client = ApiClient(setup.url)
        token_client.http.headers.update({"Authorization": f"Bearer {by_id}", "Origin": SITE})
        viewer = DecodingViewer(token_client, producer.describe(), SystemKeyPair.load(settings.keys_dir))
        await viewer.start()
        for _ in range(60):
            if viewer.codes:
                break
            await asyncio.sleep(0.1)
        assert viewer.codes and len(producer.consumers) == 1
        assert next(iter(producer.consumers.values())).viewer == f"apikey:{key['id']}"

        # a token's live list ends with the token (to be opened again with a fresh one)
        short = await setup.token(key["secret"], minutes=1)
        setup.clock.advance(timedelta(seconds=59))
        brief = await setup.http.ws_connect(setup.url + "/api/streams/ws", protocols=(TOKEN_SUBPROTOCOL, short))
        assert (await brief.receive_json(timeout=5))["streams"]
        message = await brief.receive(timeout=5)
        assert (message.type, message.data, message.extra) == (aiohttp.WSMsgType.CLOSE, 4002, "token expired")

        async with setup.admin.request("POST", f"/api/organisation/api-keys/{key['id']}/revoke") as response:
            assert response.status == 200
        await asyncio.sleep(0.3)
        assert producer.consumers == {}  # the key's subscriptions ended with it
        message = await ws.receive(timeout=5)
        assert (message.type, message.data, message.extra) == (aiohttp.WSMsgType.CLOSE, 4001, "access changed")
        await viewer.stop()
        await token_client.close()
    finally:
        await asyncio.to_thread(camera.stop)


def test_the_documented_backend_is_the_file_the_browser_test_runs() -> None:
    docs = Path(__file__).resolve().parents[1] / "docs"
    backend = (docs / "examples" / "integrator_backend.py").read_text()
    assert f"```python\n{backend}```" in (docs / "EMBEDDING.md").read_text()
    assert len(backend.splitlines()) <= 22


def test_the_openapi_document_describes_the_token_api() -> None:
    from bwlive_rtc.app import create_app
    from bwlive_rtc.kernel.openapi import openapi_document

    document = openapi_document(create_app(Settings()), "bwlive", "test")
    mint = document["paths"]["/api/tokens"]["post"]
    assert mint["security"] == [{"api_key": []}] and mint["x-access"] == "api_key"
    assert mint["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/TokenRequest"}
    schemas = document["components"]["schemas"]
    assert {"TokenRequest", "TokenScope", "NewApiKey"} <= set(schemas)
    assert schemas["TokenRequest"]["properties"]["minutes"]["maximum"] == 60
    assert {"api_key", "viewer_token"} <= set(document["components"]["securitySchemes"])
    acknowledge = document["paths"]["/api/streams/{stream_id}/acknowledge"]["post"]
    assert acknowledge["x-token-access"] == "operator" and {"viewer_token": []} in acknowledge["security"]
    assert "x-token-access" not in document["paths"]["/api/organisation/members"]["get"]
