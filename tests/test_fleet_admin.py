"""Editing the fleet (issue 13, "what operators expect"): rename and delete profiles,
camera users and networks, reassign cameras; a profile or camera user in use is a 409 with
a sentence; every id is the caller's organisation's (another organisation's admin finds
nothing and changes nothing); viewers, anonymous callers and malformed bodies are refused."""
from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from bwlive_rtc.auth.service import AUTH
from bwlive_rtc.crypto.system_key import SystemKeyPair, SystemPublicKey
from bwlive_rtc.fleet.service import FLEET
from bwlive_rtc.kernel.access import Role
from bwlive_rtc.kernel.clock import ManualClock
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.server import start_server
from bwlive_rtc.viewer.session import ApiClient
from tests.fleets import FleetIds, fleet_rows, make_fleet

PASSWORD = "a long enough password"


@dataclass
class Setup:
    app: web.Application
    org_a: str
    a: FleetIds
    b: FleetIds
    clients: dict[str, ApiClient]


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    SystemKeyPair.generate().save(tmp_path / "keys")
    runner, port = await start_server(Settings(port=0, keys_dir=tmp_path / "keys", data_dir=tmp_path / "data"),
                                      ManualClock())
    accounts = runner.app[AUTH].accounts
    admin = accounts.create_user("admin@a.test", "Ann Admin", PASSWORD)
    org_a = accounts.create_organisation("Org A", admin)
    viewer = accounts.create_user("viewer@a.test", "Vi Viewer", PASSWORD)
    accounts.add_member(viewer.id, org_a, Role.VIEWER)
    org_b = accounts.create_organisation("Org B", accounts.create_user("admin@b.test", "Bo Admin", PASSWORD))
    a = make_fleet(runner.app, org_a, "a", SystemPublicKey.load(tmp_path / "keys"))
    b = make_fleet(runner.app, org_b, "b", SystemKeyPair.generate().public)
    url = f"http://127.0.0.1:{port}"
    clients = {name: await ApiClient.signed_in(url, email, PASSWORD) for name, email in
               (("admin", "admin@a.test"), ("viewer", "viewer@a.test"), ("other_admin", "admin@b.test"))}
    clients["anonymous"] = ApiClient(url)
    yield Setup(runner.app, org_a, a, b, clients)
    for client in clients.values():
        await client.close()
    await runner.cleanup()


async def _call(client: ApiClient, method: str, path: str, body: object = None) -> tuple[int, dict]:
    async with client.request(method, path, json=body) as response:
        return response.status, await response.json()


async def test_profiles_and_camera_users_are_renamed_and_deleted_unless_in_use(setup: Setup) -> None:
    admin, a = setup.clients["admin"], setup.a
    status, body = await _call(admin, "DELETE", f"/api/fleet/profiles/{a.profile}")
    assert status == 409 and body["error"] == (
        "profile Patrol is in use by 1 camera user(s) (a wearer): give them another profile first")
    status, body = await _call(admin, "DELETE", f"/api/fleet/camera-users/{a.camera_user}")
    assert status == 409 and "still has camera(s) SN-A-1: give them to another camera user first" in body["error"]

    status, new = await _call(admin, "POST", "/api/fleet/profiles", {"name": "Night"})
    assert (await _call(admin, "PATCH", f"/api/fleet/profiles/{new['id']}", {"name": "Patrol"}))[0] == 409
    assert (await _call(admin, "PATCH", f"/api/fleet/profiles/{new['id']}", {"name": "Night shift"}))[0] == 200
    assert (await _call(admin, "PATCH", f"/api/fleet/camera-users/{a.camera_user}",
                        {"name": "Ada Wearer", "profile_id": new["id"]}))[0] == 200
    fleet = setup.app[FLEET].fleet
    user = fleet.camera_user(setup.org_a, a.camera_user)
    assert user is not None and (user.name, user.profile_id) == ("Ada Wearer", new["id"])
    assert fleet.profile(setup.org_a, new["id"]).name == "Night shift"  # type: ignore[union-attr]
    status, _ = await _call(admin, "DELETE", f"/api/fleet/profiles/{a.profile}")  # no longer in use
    assert status == 200 and fleet.profile(setup.org_a, a.profile) is None
    assert a.network not in {n["id"] for n in fleet.list(setup.org_a)["networks"]}  # its networks went with it

    status, spare = await _call(admin, "POST", "/api/fleet/camera-users", {"name": "Spare"})
    status, _ = await _call(admin, "PATCH", f"/api/fleet/cameras/{a.camera}", {"camera_user_id": spare["id"]})
    assert status == 200 and fleet.require_camera(setup.org_a, a.camera).camera_user_id == spare["id"]
    assert not fleet.counts_for_licenses(fleet.require_camera(setup.org_a, a.camera))  # Spare has no profile
    assert (await _call(admin, "DELETE", f"/api/fleet/camera-users/{a.camera_user}"))[0] == 200
    assert (await _call(admin, "PATCH", f"/api/fleet/cameras/{a.camera}", {"camera_user_id": None}))[0] == 200
    assert fleet.require_camera(setup.org_a, a.camera).camera_user_id is None
    _, audit = await _call(admin, "GET", "/api/organisation/audit?page_size=200")
    actions = {e["action"] for e in audit["entries"]}
    assert {"profile renamed", "profile deleted", "camera user renamed", "camera user deleted",
            "camera reassigned"} <= actions


async def test_networks_get_a_new_password_or_go(setup: Setup) -> None:
    admin, a = setup.clients["admin"], setup.a
    fleet = setup.app[FLEET].fleet
    user = fleet.camera_user(setup.org_a, a.camera_user)
    assert user is not None
    status, _ = await _call(admin, "PATCH", f"/api/fleet/networks/{a.network}", {"ssid": "a-WLAN-5G", "password": "pw2"})
    assert status == 200 and fleet.networks_for(user) == [{"ssid": "a-WLAN-5G", "password": "pw2"}]
    status, body = await _call(admin, "PATCH", f"/api/fleet/networks/{a.network}", {"ssid": "  "})
    assert status == 400 and "SSID" in body["error"]
    assert (await _call(admin, "DELETE", f"/api/fleet/networks/{a.network}"))[0] == 200
    assert fleet.networks_for(user) == []
    status, body = await _call(admin, "DELETE", f"/api/fleet/networks/{a.network}")
    assert status == 404 and body["error"] == "no such Wi-Fi network in this organisation"


async def test_attackers_reach_nothing(setup: Setup) -> None:
    a, b = setup.a, setup.b
    writes = [("PATCH", f"/api/fleet/profiles/{a.profile}", {"name": "Mole"}),
              ("DELETE", f"/api/fleet/profiles/{a.profile}", None),
              ("PATCH", f"/api/fleet/camera-users/{a.camera_user}", {"name": "Mole"}),
              ("DELETE", f"/api/fleet/camera-users/{a.camera_user}", None),
              ("PATCH", f"/api/fleet/cameras/{a.camera}", {"camera_user_id": None}),
              ("PATCH", f"/api/fleet/networks/{a.network}", {"password": "stolen"}),
              ("DELETE", f"/api/fleet/networks/{a.network}", None)]
    before = fleet_rows(setup.app, setup.org_a)
    for method, path, body in writes:
        assert (await _call(setup.clients["other_admin"], method, path, body))[0] == 404, path
        assert (await _call(setup.clients["viewer"], method, path, body))[0] == 403, path
        async with setup.clients["anonymous"].request(method, path, json=body) as response:
            assert response.status == 401, path
    # A's camera given to B's camera user, B's camera to A's: "no such … in this organisation"
    status, body = await _call(setup.clients["admin"], "PATCH", f"/api/fleet/cameras/{a.camera}",
                               {"camera_user_id": b.camera_user})
    assert status == 404 and body["error"] == "no such camera user in this organisation"
    assert (await _call(setup.clients["admin"], "PATCH", f"/api/fleet/cameras/{b.camera}",
                        {"camera_user_id": a.camera_user}))[0] == 404
    assert fleet_rows(setup.app, setup.org_a) == before
    for body in ({}, {"camera_user_id": 5}, {"camera_user_id": "x y"}, {"camera_user_id": None, "more": 1}):
        status, answer = await _call(setup.clients["admin"], "PATCH", f"/api/fleet/cameras/{a.camera}", body)
        assert status == 400 and answer["error"], body
    status, answer = await _call(setup.clients["admin"], "PATCH", f"/api/fleet/camera-users/{a.camera_user}", {})
    assert status == 400 and answer["error"] == "send a new name or profile_id"
    assert (await _call(setup.clients["admin"], "PATCH", f"/api/fleet/profiles/{a.profile}", {"name": ""}))[0] == 400
    status, answer = await _call(setup.clients["other_admin"], "GET", "/api/fleet/status")
    assert status == 200 and [c["serial"] for c in answer["cameras"]] == ["SN-B-1"]
    assert (await _call(setup.clients["viewer"], "GET", "/api/fleet/status"))[0] == 403
