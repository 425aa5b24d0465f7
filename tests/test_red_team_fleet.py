"""Red team, issue 10 holes 2 and 3, replayed as an attacker would against the real server
over HTTP (and the real dock command and camera agents): an admin of organisation B goes
after organisation A's fleet with A's real ids, and a system joining A, or a replaced key,
tries to make A's cameras encrypt to another key. Each attack must be refused, and A's
fleet must be exactly as it was."""
from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bwlive_rtc.auth.service import AUTH
from bwlive_rtc.crypto.system_key import SystemKeyPair, SystemPublicKey
from bwlive_rtc.crypto.system_signing import SigningKeyPair
from bwlive_rtc.fleet.credentials import CredentialIssuer
from bwlive_rtc.fleet.service import FLEET
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.server import start_server
from bwlive_rtc.streams.hub import ROUTER
from bwlive_rtc.viewer.session import ApiClient
from tests.fleets import FleetIds, fleet_rows, make_fleet
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Camera, Process, bootstrap_admin

B_EMAIL, B_PASSWORD = "mallory@b.test", "organisation b's admin password"


@dataclass
class Attack:
    app: web.Application
    url: str
    data_dir: Path
    keys_dir: Path
    a: FleetIds  # the victim's fleet
    b: FleetIds  # the attacker's own fleet
    admin_a: ApiClient
    admin_b: ApiClient


@pytest.fixture
async def attack(tmp_path: Path) -> AsyncIterator[Attack]:
    keys_dir, data_dir = tmp_path / "keys", tmp_path / "data"
    SystemKeyPair.generate().save(keys_dir)
    SigningKeyPair.generate().save(keys_dir)
    bootstrap_admin(data_dir, keys_dir)  # organisation A, its admin and its local system
    runner, port = await start_server(Settings(port=0, keys_dir=keys_dir, data_dir=data_dir))
    app, url = runner.app, f"http://127.0.0.1:{port}"
    auth = app[AUTH]
    [org_a] = auth.accounts.organisations("Test organisation")
    org_b = auth.accounts.create_organisation("Organisation B", auth.accounts.create_user(B_EMAIL, "Mallory", B_PASSWORD))
    a = make_fleet(app, org_a["id"], "a", SystemPublicKey.load(keys_dir))
    b = make_fleet(app, org_b, "b", SystemKeyPair.generate().public)
    admin_a = await ApiClient.signed_in(url, ADMIN_EMAIL, ADMIN_PASSWORD)
    admin_b = await ApiClient.signed_in(url, B_EMAIL, B_PASSWORD)
    yield Attack(app, url, data_dir, keys_dir, a, b, admin_a, admin_b)
    await admin_a.close()
    await admin_b.close()
    await runner.cleanup()


async def call(client: ApiClient, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    async with client.request(method, path, json=body) as response:
        return response.status, await response.json()


async def bwlive(*args: str) -> subprocess.CompletedProcess[str]:
    """A ``bwlive`` command, beside the running server (the server's loop goes on)."""
    return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "bwlive_rtc", *args],
                                   capture_output=True, text=True, timeout=60)


async def dock(attack: Attack, serial: str, out: Path) -> subprocess.CompletedProcess[str]:
    """``bwlive camera dock`` at the system, as a camera docks."""
    return await bwlive("camera", "dock", "--data-dir", str(attack.data_dir), "--keys-dir", str(attack.keys_dir),
                        "--serial", serial, "--out", str(out))


# --- hole 2: cross-organisation writes in the fleet API ---------------------------------

async def test_other_organisation_cannot_switch_off_a_profile_not_even_by_its_name(attack: Attack) -> None:
    before = fleet_rows(attack.app, attack.a.organisation)
    assert attack.app[FLEET].fleet.profile(attack.b.organisation, attack.b.profile).name == "Patrol"  # same name
    for switch in ({"streaming": False}, {"location": False}):
        status, body = await call(attack.admin_b, "PATCH", f"/api/fleet/profiles/{attack.a.profile}", switch)
        assert (status, body) == (404, {"error": "no such profile in this organisation"})
    assert fleet_rows(attack.app, attack.a.organisation) == before
    status, _ = await call(attack.admin_a, "PATCH", f"/api/fleet/profiles/{attack.a.profile}", {"streaming": False})
    assert status == 200  # the owner still can


async def test_other_organisation_cannot_push_networks_or_point_its_objects_at_ours(attack: Attack) -> None:
    a, b = attack.a, attack.b
    before_a, before_b = fleet_rows(attack.app, a.organisation), fleet_rows(attack.app, b.organisation)
    attempts = [
        ("POST", "/api/fleet/networks", {"ssid": "Evil", "password": "x", "camera_user_id": a.camera_user},
         "camera user"),
        ("POST", "/api/fleet/networks", {"ssid": "Evil", "password": "x", "profile_id": a.profile}, "profile"),
        ("POST", "/api/fleet/camera-users", {"name": "Mole", "profile_id": a.profile}, "profile"),
        ("POST", "/api/fleet/cameras", {"serial": "EVIL-1", "camera_user_id": a.camera_user}, "camera user"),
        ("POST", "/api/fleet/cameras", {"serial": "EVIL-2", "system_id": a.system}, "system"),
        ("PATCH", f"/api/fleet/camera-users/{a.camera_user}", {"profile_id": b.profile}, "camera user"),
        ("PATCH", f"/api/fleet/camera-users/{b.camera_user}", {"profile_id": a.profile}, "profile"),
        ("POST", f"/api/fleet/cameras/{a.camera}/revoke", None, "camera"),
        ("POST", f"/api/fleet/cameras/{a.camera}/key-change", {"thumbprint": "0" * 32}, "camera"),
        ("PUT", f"/api/organisation/systems/{a.system}/public-key",
         {"public_key": SystemKeyPair.generate().public.pem().decode()}, "system"),
    ]
    for method, path, body, kind in attempts:
        status, answer = await call(attack.admin_b, method, path, body)
        assert (status, answer) == (404, {"error": f"no such {kind} in this organisation"}), (method, path, body)
    assert fleet_rows(attack.app, a.organisation) == before_a  # profiles, users, cameras, networks, systems
    assert fleet_rows(attack.app, b.organisation) == before_b  # and nothing half-made on the attacker's side
    package = attack.app[FLEET].docking.dock(a.serial, Ed25519PrivateKey.generate().public_key(),
                                             CredentialIssuer.load(attack.keys_dir))
    assert package["networks"] == [{"ssid": "a-WLAN", "password": "a secret"}]
    assert package["thumbprint"] == SystemPublicKey.load(attack.keys_dir).thumbprint
    status, listed = await call(attack.admin_b, "GET", "/api/fleet")
    assert status == 200 and {c["serial"] for c in listed["cameras"]} == {b.serial}


async def test_fleet_requests_are_typed_and_strict(attack: Attack) -> None:
    b = attack.b
    refused = [
        ("PATCH", f"/api/fleet/profiles/{b.profile}", {"streaming": "no"}, "streaming: input should be a valid boolean"),
        ("PATCH", f"/api/fleet/profiles/{b.profile}", {"streaming": "false"}, "streaming: input should be a valid boolean"),
        ("POST", "/api/fleet/profiles", {"name": None}, "name: input should be a valid string"),
        ("POST", "/api/fleet/camera-users", {"name": "   "}, "name: string should have at least 1 character"),
        ("POST", "/api/fleet/cameras", {"serial": "S" * 200_000}, "the body is larger than 64 KiB"),
        ("POST", "/api/fleet/cameras", {"serial": "S" * 65}, "serial: string should have at most 64 characters"),
        ("POST", "/api/fleet/cameras", {"serial": "BAD SERIAL"}, "serial: string should match pattern"),
        ("POST", "/api/fleet/profiles", {"name": "X", "owner": "someone"}, "unknown field 'owner'"),
        ("POST", "/api/fleet/networks", {"ssid": "N" * 33, "profile_id": b.profile}, "ssid: string should have at most"),
        ("POST", f"/api/fleet/cameras/{b.camera}/key-change", {"thumbprint": "not hex"}, "thumbprint: string should"),
        ("PUT", f"/api/organisation/systems/{b.system}/public-key", {"public_key": 7}, "public_key: input should be"),
        ("POST", "/api/systems/join", {"code": "X", "name": None, "public_key": "k"}, "name: input should be"),
    ]
    before = fleet_rows(attack.app, b.organisation)
    for method, path, body, message in refused:
        status, answer = await call(attack.admin_b, method, path, body)
        assert status == 400 and answer["error"].startswith(message), (method, path, body, answer)
    unknown = [  # well-formed ids that name nothing
        ("PATCH", "/api/fleet/profiles/no-such-profile", {"streaming": True}, "profile"),
        ("POST", "/api/fleet/camera-users", {"name": "Ned", "profile_id": "no-such-profile"}, "profile"),
        ("POST", "/api/fleet/cameras", {"serial": "NEW-1", "system_id": "no-such-system"}, "system"),
    ]
    for method, path, body, kind in unknown:
        assert await call(attack.admin_b, method, path, body) == (404, {"error": f"no such {kind} in this organisation"})
    assert fleet_rows(attack.app, b.organisation) == before


# --- hole 3: a joining system, or a replaced key, re-keys cameras ----------------------

async def test_a_system_joining_with_a_leaked_code_does_not_rekey_the_cameras(attack: Attack, tmp_path: Path) -> None:
    local = SystemPublicKey.load(attack.keys_dir)
    assert (await dock(attack, attack.a.serial, tmp_path / "before.json")).returncode == 0
    status, code = await call(attack.admin_a, "POST", "/api/organisation/join-codes")
    assert status == 201
    intruder = SystemKeyPair.generate().public  # whoever got hold of the code brings their own key
    anonymous = ApiClient(attack.url)
    try:
        status, joined = await call(anonymous, "POST", "/api/systems/join",
                                    {"code": code["code"], "name": "Intruder", "public_key": intruder.pem().decode(),
                                     "signing_key": SigningKeyPair.generate().public.b64u()})
    finally:
        await anonymous.close()
    assert status == 201 and joined["thumbprint"] == intruder.thumbprint

    docked = await dock(attack, attack.a.serial, tmp_path / "after.json")
    assert docked.returncode == 0, docked.stderr
    assert f"key thumbprint {local.thumbprint}" in docked.stdout and intruder.thumbprint not in docked.stdout
    status, added = await call(attack.admin_a, "POST", "/api/fleet/cameras",
                               {"serial": "A-NEW", "camera_user_id": attack.a.camera_user})
    assert status == 201 and added["system_id"] == attack.a.system  # new cameras too: the first system
    assert await call(attack.admin_a, "GET", "/api/fleet/key-changes") == (200, {"key_changes": []})


async def test_a_replaced_key_reaches_a_camera_only_after_an_admin_confirms_it(attack: Attack, tmp_path: Path) -> None:
    a = attack.a
    old = SystemPublicKey.load(attack.keys_dir)
    assert (await dock(attack, a.serial, tmp_path / "first.json")).returncode == 0
    second = attack.app[FLEET].fleet.add_camera(a.organisation, "SN-A-2", "test camera", a.camera_user)
    assert (await dock(attack, second.serial, tmp_path / "second.json")).returncode == 0
    new = SystemKeyPair.generate().public
    status, changed = await call(attack.admin_a, "PUT", f"/api/organisation/systems/{a.system}/public-key",
                                 {"public_key": new.pem().decode()})
    assert status == 200
    assert (changed["previous_thumbprint"], changed["thumbprint"]) == (old.thumbprint, new.thumbprint)

    refused = await dock(attack, a.serial, tmp_path / "refused.json")
    assert refused.returncode == 1 and not (tmp_path / "refused.json").exists()
    assert f"from {old.thumbprint} to {new.thumbprint}: an admin must confirm the change" in refused.stderr
    listed = await bwlive("fleet", "key-changes", "--data-dir", str(attack.data_dir), "--organisation",
                          "Test organisation")
    assert f"camera {a.serial} (system local system): key {old.thumbprint} -> {new.thumbprint}, waiting for an " \
           "admin's confirmation" in listed.stdout
    status, pending = await call(attack.admin_a, "GET", "/api/fleet/key-changes")
    assert status == 200 and [(c["serial"], c["old_thumbprint"], c["new_thumbprint"], c["confirmed"])
                              for c in pending["key_changes"]] == [
        (a.serial, old.thumbprint, new.thumbprint, False), (second.serial, old.thumbprint, new.thumbprint, False)]

    confirm = f"/api/fleet/cameras/{a.camera}/key-change"
    assert (await call(attack.admin_b, "POST", confirm, {"thumbprint": new.thumbprint}))[0] == 404
    status, wrong = await call(attack.admin_a, "POST", confirm, {"thumbprint": old.thumbprint})
    assert status == 409 and f"is {new.thumbprint}, not {old.thumbprint}" in wrong["error"]
    status, confirmed = await call(attack.admin_a, "POST", confirm, {"thumbprint": new.thumbprint})
    assert status == 200 and confirmed["confirmed"] is True
    by_cli = await bwlive("fleet", "confirm-key", "--data-dir", str(attack.data_dir), "--organisation",
                          "Test organisation", "--serial", second.serial, "--thumbprint", new.thumbprint)
    assert by_cli.returncode == 0, by_cli.stderr

    for serial in (a.serial, second.serial):
        docked = await dock(attack, serial, tmp_path / f"{serial}.json")
        assert docked.returncode == 0 and f"key thumbprint {new.thumbprint}" in docked.stdout, docked.stderr
    assert await call(attack.admin_a, "GET", "/api/fleet/key-changes") == (200, {"key_changes": []})
    status, log = await call(attack.admin_a, "GET", "/api/organisation/audit")
    confirmations = [e for e in log["entries"] if e["action"] == "camera key change confirmed"]
    assert {(e["user_name"], e["details"]["serial"], e["details"]["new_thumbprint"]) for e in confirmations} == {
        ("Ada Admin", a.serial, new.thumbprint), ("command line", second.serial, new.thumbprint)}


async def test_a_retired_key_is_refused_for_new_streams_while_running_ones_go_on(attack: Attack, tmp_path: Path) -> None:
    camera = Camera(tmp_path, attack.url, attack.keys_dir, "Rita Running", data_dir=attack.data_dir)
    try:
        await asyncio.to_thread(camera.wait_for, "streaming")
        [producer] = attack.app[ROUTER].producers.values()
        new = SystemKeyPair.generate().public
        status, _ = await call(attack.admin_a, "PUT", f"/api/organisation/systems/{attack.a.system}/public-key",
                               {"public_key": new.pem().decode()})
        assert status == 200
        packets: list[object] = []
        unsubscribe = producer.tracks["video"].subscribe(packets.append)
        await asyncio.sleep(1.5)
        unsubscribe()
        assert len(packets) > 20 and camera.proc.poll() is None  # the running stream goes on
        status, listed = await call(attack.admin_a, "GET", "/api/streams")
        assert [s["id"] for s in listed["streams"]] == [producer.id]

        again = Process(["camera", "stream", "--server", attack.url, "--dock-file", str(camera.dock_file)], cwd=tmp_path)
        line = await asyncio.to_thread(again.wait_for, r"error: server refused the stream \((\d+)\): (.*)")
        assert line.group(1) == "400" and "retired on" in line.group(2)
        assert await asyncio.to_thread(again.proc.wait, 10) == 1
    finally:
        await asyncio.to_thread(camera.stop)
