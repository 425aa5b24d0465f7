"""Groups of camera users over the real HTTP API: create, rename, delete, members, the
limit of four, roles (operators change, viewers read), organisations kept apart,
persistence across a restart, and live pushes to the organisation's browsers."""
from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.server import start_server
from bwlive_rtc.viewer.session import ApiClient
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, bootstrap_admin

PASSWORD = "a long enough passphrase"


async def _start(tmp_path: Path):  # type: ignore[no-untyped-def]
    return await start_server(Settings(port=0, keys_dir=tmp_path / "keys", data_dir=tmp_path / "data"))


async def invite(admin: ApiClient, email: str, name: str, role: str) -> ApiClient:
    """A new member of the admin's organisation with ``role``, signed in."""
    async with admin.request("POST", "/api/organisation/invitations", json={"email": email, "role": role}) as response:
        assert response.status == 201, await response.text()
        token = (await response.json())["link"].split("#token=")[1]
    async with aiohttp.ClientSession() as invitee:  # not the admin's cookie jar
        async with invitee.post(f"{admin.server}/api/invitations/{token}", json={"name": name, "password": PASSWORD}) as response:
            assert response.status == 200, await response.text()
    return await ApiClient.signed_in(admin.server, email, PASSWORD)


@pytest.fixture
async def server_url(tmp_path: Path):
    SystemKeyPair.generate().save(tmp_path / "keys")
    bootstrap_admin(tmp_path / "data", tmp_path / "keys")
    runner, port = await _start(tmp_path)
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
async def admin(server_url: str):
    client = await ApiClient.signed_in(server_url, ADMIN_EMAIL, ADMIN_PASSWORD)
    yield client
    await client.close()


async def _ok(response: aiohttp.ClientResponse) -> dict:
    assert response.status == 200, await response.text()
    return await response.json()


async def _refused(response: aiohttp.ClientResponse, status: int) -> str:
    assert response.status == status, await response.text()
    body = await response.json()
    assert set(body) == {"error"}
    return body["error"]


async def test_create_rename_members_delete(admin: ApiClient) -> None:
    async def call(method: str, path: str, **kwargs: object) -> aiohttp.ClientResponse:
        async with admin.request(method, path, **kwargs) as response:
            await response.read()
            return response

    group = await _ok(await call("POST", "/api/groups", json={"name": "  North   team ", "members": ["Alex Jansen"]}))
    assert group["name"] == "North team" and group["members"] == ["Alex Jansen"]
    path = f"/api/groups/{group['id']}"
    for member in ["Sam de Vries", "Robin Bakker", "Kim Visser", "Kim Visser"]:  # adding twice is harmless
        group = await _ok(await call("PUT", f"{path}/members/{member}"))
    assert group["members"] == ["Alex Jansen", "Sam de Vries", "Robin Bakker", "Kim Visser"]

    refusal = await _refused(await call("PUT", f"{path}/members/Noor Smit"), 400)
    assert "already has 4 camera users" in refusal and "Noor Smit" in refusal

    group = await _ok(await call("DELETE", f"{path}/members/Sam de Vries"))
    assert group["members"] == ["Alex Jansen", "Robin Bakker", "Kim Visser"]
    assert "not in the group" in await _refused(await call("DELETE", f"{path}/members/Sam de Vries"), 404)

    await _ok(await call("POST", "/api/groups", json={"name": "South"}))
    assert "already exists" in await _refused(await call("PATCH", path, json={"name": "south"}), 400)
    await _ok(await call("PATCH", path, json={"name": "North (night shift)"}))
    listed = (await _ok(await call("GET", "/api/groups")))["groups"]
    assert [g["name"] for g in listed] == ["North (night shift)", "South"]

    await _ok(await call("DELETE", path))
    assert "no group" in await _refused(await call("DELETE", path), 404)
    assert [g["name"] for g in (await _ok(await call("GET", "/api/groups")))["groups"]] == ["South"]


async def test_bad_input_is_refused_with_a_sentence(admin: ApiClient) -> None:
    cases = [
        ("POST", "/api/groups", {"json": {"name": "  "}}, 400, "name"),
        ("POST", "/api/groups", {"json": {"name": "x" * 61}}, 400, "at most 60"),
        ("POST", "/api/groups", {"data": "nope"}, 400, "JSON object"),
        ("POST", "/api/groups", {"json": {"name": None}}, 400, "name: input should be a valid string"),
        ("POST", "/api/groups", {"json": {"name": "A", "members": "Alex"}}, 400, "array"),
        ("POST", "/api/groups", {"json": {"name": "Big", "members": list("ABCDE")}}, 400, "at most 4 items"),
        ("PUT", "/api/groups/nope/members/%00", {}, 400, "control character"),
        ("PATCH", "/api/groups/nope", {"json": {"name": "X"}}, 404, "no group"),
        ("POST", "/api/streams/nope/acknowledge", {}, 404, "no live stream"),
    ]
    for method, path, kwargs, status, words in cases:
        async with admin.request(method, path, **kwargs) as response:
            assert words in await _refused(response, status), (method, path, kwargs)
    async with admin.request("GET", "/api/groups") as response:
        assert (await _ok(response))["groups"] == []  # nothing half-made


async def test_operators_change_viewers_read_organisations_apart(admin: ApiClient, server_url: str) -> None:
    operator = await invite(admin, "olga@example.test", "Olga Operator", "operator")
    viewer = await invite(admin, "vic@example.test", "Vic Viewer", "viewer")
    try:
        async with operator.request("POST", "/api/groups", json={"name": "Harbour"}) as response:
            group = await _ok(response)
        async with viewer.request("GET", "/api/groups") as response:
            assert [g["id"] for g in (await _ok(response))["groups"]] == [group["id"]]
        async with admin.request("GET", "/api/organisation/audit") as response:
            entries = (await _ok(response))["entries"]
        assert any(e["action"] == "group created" and e["user_name"] == "Olga Operator" for e in entries), entries
        for method, path in [("POST", "/api/groups"), ("PATCH", f"/api/groups/{group['id']}"),
                             ("DELETE", f"/api/groups/{group['id']}"),
                             ("PUT", f"/api/groups/{group['id']}/members/Noor Smit")]:
            async with viewer.request(method, path, json={"name": "Mine"}) as response:
                assert "operator role" in await _refused(response, 403)
        async with aiohttp.ClientSession() as anonymous, anonymous.get(server_url + "/api/groups") as response:
            assert response.status == 401

        async with admin.request("POST", "/api/organisations", json={"name": "Other org"}) as response:
            assert response.status == 201, await response.text()  # and now the admin's organisation
        async with admin.request("GET", "/api/groups") as response:
            assert (await _ok(response))["groups"] == []  # Harbour belongs to the first organisation
        async with admin.request("DELETE", f"/api/groups/{group['id']}") as response:
            assert "no group" in await _refused(response, 404)
    finally:
        await operator.close()
        await viewer.close()


async def test_groups_survive_a_restart_and_are_pushed_live(tmp_path: Path) -> None:
    SystemKeyPair.generate().save(tmp_path / "keys")
    bootstrap_admin(tmp_path / "data", tmp_path / "keys")
    runner, port = await _start(tmp_path)
    admin = await ApiClient.signed_in(f"http://127.0.0.1:{port}", ADMIN_EMAIL, ADMIN_PASSWORD)
    try:
        async with admin.http.ws_connect(admin.server + "/api/streams/ws") as socket:
            assert (await socket.receive_json(timeout=5))["type"] == "streams"
            async with admin.request("POST", "/api/groups", json={"name": "Harbour", "members": ["Noor Smit"]}) as response:
                await _ok(response)
            pushed = await socket.receive_json(timeout=5)
            assert pushed["type"] == "groups"
            assert [(g["name"], g["members"]) for g in pushed["groups"]] == [("Harbour", ["Noor Smit"])]
    finally:
        await admin.close()
        await runner.cleanup()
    runner, port = await _start(tmp_path)
    admin = await ApiClient.signed_in(f"http://127.0.0.1:{port}", ADMIN_EMAIL, ADMIN_PASSWORD)
    try:
        async with admin.request("GET", "/api/groups") as response:
            groups = (await _ok(response))["groups"]
        assert [(g["name"], g["members"]) for g in groups] == [("Harbour", ["Noor Smit"])]
    finally:
        await admin.close()
        await runner.cleanup()
