"""The authorization matrix, generated from the route table, and the session rules
(expiry, CSRF, invitations) with an injectable clock; sign-in back-off is in test_sign_in.py."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bwlive_rtc.auth.service import AUTH
from bwlive_rtc.crypto.system_key import SystemKeyPair, SystemPublicKey
from bwlive_rtc.crypto.system_signing import SigningKeyPair
from bwlive_rtc.kernel.access import CREDENTIAL_LEVELS, Access, Role, required_access
from bwlive_rtc.kernel.clock import ManualClock
from bwlive_rtc.viewer.session import ApiClient
from tests.fleets import FleetIds, fleet_rows, make_fleet
from tests.inprocess import start_two_organisations

PASSWORD = "a long enough password"
PERSONAS = ("anonymous", "viewer", "operator", "other_admin", "admin")


@dataclass
class Setup:
    url: str
    app: web.Application
    clock: ManualClock
    clients: dict[str, ApiClient]
    org_a: str
    fleet_a: FleetIds  # real objects of organisation A, which other_admin (of B) must not reach


@pytest.fixture
async def setup(tmp_path: Path):
    started = await start_two_organisations(tmp_path, PASSWORD)
    url, runner, clock, org_a, org_b, auth = (started.url, started.runner, started.clock, started.org_a, started.org_b,
                                              started.auth)
    for role in (Role.VIEWER, Role.OPERATOR):
        user = auth.accounts.create_user(f"{role.value}@a.test", role.value.title(), PASSWORD)
        auth.accounts.add_member(user.id, org_a, role)
    fleet_a = make_fleet(runner.app, org_a, "a", SystemPublicKey.load(tmp_path / "keys"))
    make_fleet(runner.app, org_b, "b", SystemKeyPair.generate().public)
    emails = {"viewer": "viewer@a.test", "operator": "operator@a.test", "other_admin": "admin@b.test", "admin": "admin@a.test"}
    clients = {"anonymous": ApiClient(url)}
    for persona, email in emails.items():
        clients[persona] = await ApiClient.signed_in(url, email, PASSWORD)
    yield Setup(url, runner.app, clock, clients, org_a, fleet_a)
    for client in clients.values():
        await client.close()
    await runner.cleanup()


def expected_gate(level: Access, persona: str) -> int | None:
    """401/403 when the gate must refuse; None when the request must pass the gate.
    (CAMERA endpoints are checked apart: a user's session must make no difference.)"""
    if level == Access.PUBLIC:
        return None
    if persona == "anonymous":
        return 401
    if level == Access.USER or level == Access.VIEWER:
        return None
    rank = {"viewer": Access.VIEWER, "operator": Access.OPERATOR, "other_admin": Access.ADMIN, "admin": Access.ADMIN}
    return None if rank[persona] >= level else 403


FLEET_AND_SYSTEMS = ("/api/fleet", "/api/organisation/systems")


def path_ids(fleet: FleetIds) -> dict[str, str]:
    """Organisation A's real ids for the fleet's and systems' path parameters."""
    return {"profile_id": fleet.profile, "user_id": fleet.camera_user, "camera_id": fleet.camera,
            "system_id": fleet.system, "network_id": fleet.network}


def bodies(fleet: FleetIds) -> dict[tuple[str, str], dict[str, object]]:
    """Valid bodies for the fleet's and systems' writes, each naming A's objects."""
    return {
        ("PATCH", "/api/fleet/profiles/{profile_id}"): {"streaming": False},
        ("PATCH", "/api/fleet/camera-users/{user_id}"): {"profile_id": fleet.profile},
        ("POST", "/api/fleet/camera-users"): {"name": "Mole", "profile_id": fleet.profile},
        ("POST", "/api/fleet/cameras"): {"serial": "MOLE-1", "camera_user_id": fleet.camera_user,
                                         "system_id": fleet.system},
        ("POST", "/api/fleet/networks"): {"ssid": "Evil", "password": "x", "camera_user_id": fleet.camera_user},
        ("POST", "/api/fleet/cameras/{camera_id}/key-change"): {"thumbprint": "0" * 32},
        ("PATCH", "/api/fleet/cameras/{camera_id}"): {"camera_user_id": fleet.camera_user},
        ("PATCH", "/api/fleet/networks/{network_id}"): {"password": "changed"},
        ("PUT", "/api/organisation/systems/{system_id}/public-key"):
            {"public_key": SystemKeyPair.generate().public.pem().decode()},
    }


def concrete(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: ids.get(m.group(1), "nope"), path)


async def test_authorization_matrix(setup: Setup) -> None:
    """Every route, every persona; the fleet's and systems' routes with organisation A's
    real ids, which B's admin must find nowhere (404) while A's own admin gets through."""
    routes = [
        r for r in setup.app.router.routes()
        if not isinstance(r.resource, web.StaticResource) and r.method not in ("HEAD", "*")
    ]
    assert len(routes) > 20
    ids, valid = path_ids(setup.fleet_a), bodies(setup.fleet_a)
    untouched = fleet_rows(setup.app, setup.org_a)
    failures = []
    for route in sorted(routes, key=lambda r: r.method == "DELETE"):  # a revocation or removal last
        level = required_access(route.handler)
        canonical = route.resource.canonical
        assert level is not None, f"{route.method} {canonical} has no access rule"
        if route.method == "DELETE" and canonical == "/api/session":
            continue  # signing out would end the persona's session for the rest of the matrix
        body = valid.get((route.method, canonical))
        names_a = body is not None or (canonical.startswith(FLEET_AND_SYSTEMS) and "{" in canonical)
        statuses = {}
        for persona in PERSONAS:
            async with setup.clients[persona].request(
                route.method, concrete(canonical, ids if names_a else {}), json={} if body is None else body,
            ) as response:
                status = statuses[persona] = response.status
                text = await response.text()
            if level in CREDENTIAL_LEVELS:  # a device credential, API key or node signature, not a session
                if status != statuses["anonymous"]:
                    failures.append(f"{persona} {route.method} {canonical}: {status}, anonymous got "
                                    f"{statuses['anonymous']}")
                continue
            gate = expected_gate(level, persona)
            if persona == "other_admin" and names_a and gate is None:
                if status != 404:
                    failures.append(f"other_admin {route.method} {canonical} reached A's objects: {status} {text}")
                elif fleet_rows(setup.app, setup.org_a) != untouched:
                    failures.append(f"other_admin {route.method} {canonical} changed A's fleet")
            elif persona == "admin" and names_a and status >= 400 and status != 409:
                failures.append(f"admin {route.method} {canonical} refused A's own objects: {status} {text}")
            elif gate is None and status in (401, 403):
                failures.append(f"{persona} {route.method} {canonical}: refused {status} {text}")
            elif gate is not None and status != gate:
                failures.append(f"{persona} {route.method} {canonical}: {status}, expected {gate}")
        if names_a:
            untouched = fleet_rows(setup.app, setup.org_a)  # A's admin changed A's fleet: the new baseline
    assert failures == []


async def test_other_organisation_sees_nothing_of_ours(setup: Setup) -> None:
    async with setup.clients["other_admin"].request("GET", "/api/organisation/members") as response:
        members = (await response.json())["members"]
    assert [m["email"] for m in members] == ["admin@b.test"]


async def test_csrf_and_origin_are_required_for_changes(setup: Setup) -> None:
    admin = setup.clients["admin"]
    async with aiohttp.ClientSession(cookie_jar=admin.http.cookie_jar) as no_csrf:  # signed in, no header
        async with no_csrf.post(setup.url + "/api/organisation/join-codes") as response:
            assert response.status == 403
            assert "X-CSRF-Token" in (await response.json())["error"]
    async with admin.request("POST", "/api/organisation/join-codes", headers={"Origin": "https://evil.example"}) as response:
        assert response.status == 403
        assert "evil.example" in (await response.json())["error"]
    async with admin.request("POST", "/api/organisation/join-codes") as response:
        assert response.status == 201


async def test_session_expires_after_seven_idle_days(setup: Setup) -> None:
    viewer = setup.clients["viewer"]
    setup.clock.advance(timedelta(days=6, hours=23))
    async with viewer.request("GET", "/api/streams") as response:
        assert response.status == 200  # used: the idle period starts again
    setup.clock.advance(timedelta(days=6, hours=23))
    async with viewer.request("GET", "/api/streams") as response:
        assert response.status == 200
    setup.clock.advance(timedelta(days=7, minutes=1))
    async with viewer.request("GET", "/api/streams") as response:
        assert response.status == 401
        assert "sign in" in (await response.json())["error"]


async def test_invitation_accept_and_expiry(setup: Setup) -> None:
    admin = setup.clients["admin"]
    async with admin.request("POST", "/api/organisation/invitations", json={"email": "new@a.test", "role": "operator"}) as r:
        assert r.status == 201
        token = (await r.json())["link"].split("#token=")[1]
    async with admin.request("POST", "/api/organisation/invitations", json={"email": "late@a.test", "role": "viewer"}) as r:
        late_token = (await r.json())["link"].split("#token=")[1]
    anonymous = setup.clients["anonymous"]
    async with anonymous.request("POST", f"/api/invitations/{token}", json={"name": "Nia New", "password": PASSWORD}) as r:
        assert r.status == 200
        assert (await r.json())["role"] == "operator"
    async with anonymous.request("POST", f"/api/invitations/{token}", json={"name": "Again", "password": PASSWORD}) as r:
        assert r.status == 400 and "already been used" in (await r.json())["error"]
    setup.clock.advance(timedelta(days=7, seconds=1))
    async with anonymous.request("GET", f"/api/invitations/{late_token}") as r:
        assert r.status == 400 and "expired" in (await r.json())["error"]


async def test_role_change_applies_at_once_to_requests_and_websockets(setup: Setup) -> None:
    admin, operator = setup.clients["admin"], setup.clients["operator"]
    operator_id = operator.session["user"]["id"]
    ws = await operator.http.ws_connect(setup.url + "/api/streams/ws")
    assert (await ws.receive_json())["type"] == "streams"
    async with admin.request("PUT", f"/api/organisation/members/{operator_id}", json={"role": "admin"}) as r:
        assert r.status == 200
    message = await ws.receive(timeout=5)
    assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED) and ws.close_code == 4001
    async with operator.request("GET", "/api/organisation/members") as r:
        assert r.status == 200  # now an admin
    async with admin.request("DELETE", f"/api/organisation/members/{operator_id}") as r:
        assert r.status == 200
    async with operator.request("GET", "/api/streams") as r:
        assert r.status == 403
    async with admin.request("GET", "/api/organisation/audit") as r:
        actions = [e["action"] for e in (await r.json())["entries"]]
    assert "role changed" in actions and "member removed" in actions and "signed in" in actions


async def test_removed_member_loses_running_subscription(setup: Setup, tmp_path: Path) -> None:
    import asyncio

    from bwlive_rtc.kernel.appkeys import SETTINGS
    from bwlive_rtc.streams.hub import ROUTER
    from tests.processes import Camera
    from tests.viewing import DecodingViewer

    keys_dir = setup.app[SETTINGS].keys_dir
    keys = SystemKeyPair.load(keys_dir)
    camera = Camera(tmp_path, setup.url, keys_dir, "Jip Mulder", data_dir=setup.app[SETTINGS].data_dir, clock=setup.clock)
    try:
        await asyncio.to_thread(camera.wait_for, "streaming")
        producer = next(iter(setup.app[ROUTER].producers.values()))
        assert producer.organisation_ids == [setup.org_a]
        async with setup.clients["other_admin"].request("GET", "/api/streams") as r:
            assert (await r.json())["streams"] == []  # another organisation sees nothing
        viewer = DecodingViewer(setup.clients["viewer"], producer.describe(), keys)
        await viewer.start()
        await asyncio.sleep(1.5)
        assert viewer.codes and len(producer.consumers) == 1
        viewer_id = setup.clients["viewer"].session["user"]["id"]
        async with setup.clients["admin"].request("DELETE", f"/api/organisation/members/{viewer_id}") as r:
            assert r.status == 200
        await asyncio.sleep(0.3)
        assert producer.consumers == {}
        await viewer.stop()
    finally:
        await asyncio.to_thread(camera.stop)


async def test_system_joins_with_a_one_time_code(setup: Setup, tmp_path: Path) -> None:
    import asyncio
    import subprocess
    import sys

    admin = setup.clients["admin"]
    other, other_signing = SystemKeyPair.generate(), SigningKeyPair.generate()
    other.save(tmp_path / "other-system")
    other_signing.save(tmp_path / "other-system")
    async with admin.request("POST", "/api/organisation/join-codes") as r:
        code = (await r.json())["code"]

    def join(code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bwlive_rtc", "system", "join", "--server", setup.url, "--code", code,
             "--name", "Harbour system", "--keys-dir", str(tmp_path / "other-system")],
            capture_output=True, text=True, timeout=30,
        )

    joined = await asyncio.to_thread(join, code)
    assert joined.returncode == 0, joined.stderr
    assert other.public.thumbprint in joined.stdout and other_signing.public.thumbprint in joined.stdout
    again = await asyncio.to_thread(join, code)
    assert again.returncode == 1 and "already been used" in again.stderr
    async with admin.request("GET", "/api/organisation/systems") as r:
        systems = (await r.json())["systems"]
    assert [s["name"] for s in systems] == ["a system", "Harbour system"] and systems[1]["key_id"] == other.public.key_id
    joined_system = setup.app[AUTH].systems.system(setup.org_a, systems[1]["id"])
    assert joined_system.key.key_id == other.public.key_id and joined_system.signing_key == other_signing.public
    async with admin.request("POST", "/api/organisation/join-codes") as r:
        late = (await r.json())["code"]
    setup.clock.advance(timedelta(hours=24, seconds=1))
    expired = await asyncio.to_thread(join, late)
    assert expired.returncode == 1 and "expired" in expired.stderr


async def test_sign_out_ends_the_session(setup: Setup) -> None:
    viewer = setup.clients["viewer"]
    cookie = {c.key: c.value for c in viewer.http.cookie_jar}["bwlive_session"]
    async with viewer.request("DELETE", "/api/session") as r:
        assert r.status == 200
    async with aiohttp.ClientSession() as http:  # the old cookie, replayed, no longer works
        async with http.get(setup.url + "/api/streams", headers={"Cookie": f"bwlive_session={cookie}"}) as r:
            assert r.status == 401
