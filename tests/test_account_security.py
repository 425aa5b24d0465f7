"""Password change, admin-made reset links, TOTP two-factor sign-in and the organisation's
two-factor policy (issue 13, defect 5), over real HTTP against the real server with a
ManualClock; each endpoint also attacked: no credential, a viewer, another organisation's
admin, replayed links and codes, malformed bodies."""
from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from aiohttp import web

from bwlive_rtc.auth.service import AUTH
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.kernel.access import Role
from bwlive_rtc.kernel.clock import ManualClock
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.server import start_server
from bwlive_rtc.viewer.session import ApiClient

PASSWORD = "a long enough password"
NEW_PASSWORD = "another long password"


@dataclass
class Setup:
    url: str
    app: web.Application
    clock: ManualClock
    org_a: str
    member_id: str
    shared_id: str  # member of A and of B, whose admin is not A's


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    SystemKeyPair.generate().save(tmp_path / "keys")
    clock = ManualClock()
    runner, port = await start_server(Settings(port=0, keys_dir=tmp_path / "keys", data_dir=tmp_path / "data"), clock)
    accounts = runner.app[AUTH].accounts
    admin = accounts.create_user("admin@a.test", "Ann Admin", PASSWORD)
    org_a = accounts.create_organisation("Org A", admin)
    member = accounts.create_user("mia@a.test", "Mia Member", PASSWORD)
    accounts.add_member(member.id, org_a, Role.VIEWER)
    other = accounts.create_user("admin@b.test", "Bo Admin", PASSWORD)
    org_b = accounts.create_organisation("Org B", other)
    shared = accounts.create_user("sam@ab.test", "Sam Shared", PASSWORD)
    accounts.add_member(shared.id, org_a, Role.OPERATOR)
    accounts.add_member(shared.id, org_b, Role.ADMIN)
    yield Setup(f"http://127.0.0.1:{port}", runner.app, clock, org_a, member.id, shared.id)
    await runner.cleanup()


async def _status(client: ApiClient, method: str, path: str, **kwargs: object) -> tuple[int, dict]:
    async with client.request(method, path, **kwargs) as response:
        return response.status, await response.json()


async def test_password_change_needs_the_current_one_and_ends_other_sessions(setup: Setup) -> None:
    here = await ApiClient.signed_in(setup.url, "mia@a.test", PASSWORD)
    elsewhere = await ApiClient.signed_in(setup.url, "mia@a.test", PASSWORD)
    status, body = await _status(here, "PUT", "/api/account/password",
                                 json={"current_password": "wrong password!", "new_password": NEW_PASSWORD})
    assert status == 400 and "password is not right" in body["error"]
    status, body = await _status(here, "PUT", "/api/account/password",
                                 json={"current_password": PASSWORD, "new_password": "short"})
    assert status == 400 and "at least 10 characters" in body["error"]
    status, _ = await _status(here, "PUT", "/api/account/password",
                              json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert status == 200
    assert (await _status(here, "GET", "/api/streams"))[0] == 200  # this session goes on
    assert (await _status(elsewhere, "GET", "/api/streams"))[0] == 401  # every other one ended
    with pytest.raises(PermissionError):
        await ApiClient.signed_in(setup.url, "mia@a.test", PASSWORD)
    again = await ApiClient.signed_in(setup.url, "mia@a.test", NEW_PASSWORD)
    anonymous = ApiClient(setup.url)
    assert (await _status(anonymous, "PUT", "/api/account/password",
                          json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}))[0] == 401
    for client in (here, elsewhere, again, anonymous):
        await client.close()


async def test_reset_link_is_one_use_one_hour_and_organisation_scoped(setup: Setup) -> None:
    admin = await ApiClient.signed_in(setup.url, "admin@a.test", PASSWORD)
    other_admin = await ApiClient.signed_in(setup.url, "admin@b.test", PASSWORD)
    viewer = await ApiClient.signed_in(setup.url, "mia@a.test", PASSWORD)
    anonymous = ApiClient(setup.url)
    reset_path = f"/api/organisation/members/{setup.member_id}/password-reset"
    assert (await _status(anonymous, "POST", reset_path))[0] == 401
    assert (await _status(viewer, "POST", reset_path))[0] == 403
    status, body = await _status(other_admin, "POST", reset_path)  # A's member, from B
    assert status == 404 and "no such member in this organisation" in body["error"]
    status, body = await _status(admin, "POST", f"/api/organisation/members/{setup.shared_id}/password-reset")
    assert status == 403 and "organisation you do not administer" in body["error"]

    status, body = await _status(admin, "POST", reset_path)
    assert status == 201 and body["valid_minutes"] == 60
    token = body["link"].split("#token=")[1]
    status, shown = await _status(anonymous, "GET", f"/api/password-resets/{token}")
    assert status == 200 and shown["email"] == "mia@a.test"
    assert (await _status(anonymous, "POST", f"/api/password-resets/{token}", json={"password": "short"}))[0] == 400
    assert (await _status(anonymous, "POST", f"/api/password-resets/{token}", json={"pass": NEW_PASSWORD}))[0] == 400
    status, _ = await _status(anonymous, "POST", f"/api/password-resets/{token}", json={"password": NEW_PASSWORD})
    assert status == 200
    assert (await _status(viewer, "GET", "/api/streams"))[0] == 401  # the member's sessions ended
    status, body = await _status(anonymous, "POST", f"/api/password-resets/{token}", json={"password": PASSWORD})
    assert status == 400 and "already been used" in body["error"]
    await (await ApiClient.signed_in(setup.url, "mia@a.test", NEW_PASSWORD)).close()

    _, body = await _status(admin, "POST", reset_path)
    late = body["link"].split("#token=")[1]
    setup.clock.advance(timedelta(hours=1, seconds=1))
    status, body = await _status(anonymous, "POST", f"/api/password-resets/{late}", json={"password": PASSWORD})
    assert status == 400 and "expired" in body["error"]
    assert (await _status(anonymous, "GET", "/api/password-resets/not-a-token"))[0] == 400
    _, audit = await _status(admin, "GET", "/api/organisation/audit")
    actions = {(e["action"], e["details"].get("member", "")) for e in audit["entries"]}
    assert ("password reset link created", "Mia Member <mia@a.test>") in actions
    assert any(action == "password reset" for action, _ in actions)
    for client in (admin, other_admin, viewer, anonymous):
        await client.close()


async def _enrol(client: ApiClient, clock: ManualClock) -> tuple[pyotp.TOTP, list[str]]:
    status, enrolment = await _status(client, "POST", "/api/account/two-factor")
    assert status == 201 and enrolment["qr"].startswith("data:image/svg+xml")
    totp = pyotp.TOTP(enrolment["secret"])
    status, body = await _status(client, "POST", "/api/account/two-factor/confirm", json={"code": "000000"})
    assert status == 400
    status, body = await _status(client, "POST", "/api/account/two-factor/confirm", json={"code": totp.at(clock.now())})
    assert status == 200 and len(body["recovery_codes"]) == 10
    return totp, body["recovery_codes"]


async def _password_step(url: str, email: str) -> ApiClient:
    client = ApiClient(url)
    async with client.request("POST", "/api/session", json={"email": email, "password": PASSWORD}) as response:
        body = await response.json()
    assert body == {"signed_in": False, "two_factor": True}
    return client


async def _code_step(client: ApiClient, code: str) -> tuple[int, dict]:
    status, body = await _status(client, "POST", "/api/session/two-factor", json={"code": code})
    if status == 200:
        client.http.headers["X-CSRF-Token"] = body["csrf_token"]
    return status, body


async def test_totp_sign_in_is_single_use_and_backs_off(setup: Setup) -> None:
    mia = await ApiClient.signed_in(setup.url, "mia@a.test", PASSWORD)
    totp, recovery = await _enrol(mia, setup.clock)
    setup.clock.advance(timedelta(seconds=30))
    code = totp.at(setup.clock.now())

    first = await _password_step(setup.url, "mia@a.test")
    assert (await _status(first, "GET", "/api/streams"))[0] == 401  # the password alone is no session
    status, body = await _code_step(first, code)
    assert status == 200 and body["user"]["two_factor"] is True
    assert (await _status(first, "GET", "/api/streams"))[0] == 200

    replay = await _password_step(setup.url, "mia@a.test")
    status, body = await _code_step(replay, code)  # the same code, still in its window
    assert status == 401 and "used already" in body["error"]

    status, body = await _code_step(ApiClient(setup.url), code)  # no password step: no challenge cookie
    assert status == 400 and "password first" in body["error"]

    status, _ = await _code_step(replay, recovery[0].upper())
    assert status == 200
    again = await _password_step(setup.url, "mia@a.test")
    assert (await _code_step(again, recovery[0]))[0] == 401  # a recovery code works once

    setup.clock.advance(timedelta(hours=1))  # the two wrong codes above are forgotten
    guesser = await _password_step(setup.url, "mia@a.test")
    statuses = []
    for guess in ("111111", "222222", "333333", "444444"):
        statuses.append((await _code_step(guesser, guess))[0])
    assert statuses[:3] == [401, 401, 401] and statuses[3] == 429
    # a right password does not wipe the codes' failures
    fresh = await _password_step(setup.url, "mia@a.test")
    assert (await _code_step(fresh, "555555"))[0] == 429
    setup.clock.advance(timedelta(hours=1, minutes=1))
    status, _ = await _code_step(fresh, totp.at(setup.clock.now()))
    assert status == 400  # the challenge lasted 5 minutes: the password again
    for client in (mia, first, replay, again, guesser, fresh):
        await client.close()


async def test_organisation_requires_two_factor(setup: Setup) -> None:
    admin = await ApiClient.signed_in(setup.url, "admin@a.test", PASSWORD)
    status, body = await _status(admin, "PUT", "/api/organisation/policy", json={"require_two_factor": True})
    assert status == 409 and "your own account first" in body["error"]
    for bad in ({}, {"require_two_factor": "yes"}, {"require_two_factor": True, "x": 1}):
        assert (await _status(admin, "PUT", "/api/organisation/policy", json=bad))[0] == 400
    await _enrol(admin, setup.clock)
    viewer = await ApiClient.signed_in(setup.url, "mia@a.test", PASSWORD)
    assert (await _status(viewer, "PUT", "/api/organisation/policy", json={"require_two_factor": False}))[0] == 403
    assert (await _status(admin, "PUT", "/api/organisation/policy", json={"require_two_factor": True}))[0] == 200

    status, session = await _status(viewer, "GET", "/api/session")
    assert session["must_enrol"] is True and session["two_factor_required"] is True
    status, body = await _status(viewer, "GET", "/api/streams")
    assert status == 403 and "requires two-factor sign-in" in body["error"]
    await _enrol(viewer, setup.clock)
    assert (await _status(viewer, "GET", "/api/streams"))[0] == 200
    status, body = await _status(viewer, "POST", "/api/account/two-factor/disable", json={"password": PASSWORD})
    assert status == 409 and "Org A requires two-factor sign-in" in body["error"]
    _, audit = await _status(admin, "GET", "/api/organisation/audit")
    actions = [e["action"] for e in audit["entries"]]
    assert "two-factor policy changed" in actions and "two-factor sign-in set up" in actions
    await admin.close()
    await viewer.close()


async def test_two_factor_can_be_turned_off_with_the_password(setup: Setup) -> None:
    mia = await ApiClient.signed_in(setup.url, "mia@a.test", PASSWORD)
    await _enrol(mia, setup.clock)
    status, body = await _status(mia, "POST", "/api/account/two-factor", json={})
    assert status == 400 and "already set up" in body["error"]
    assert (await _status(mia, "POST", "/api/account/two-factor/disable", json={"password": "wrong password"}))[0] == 400
    assert (await _status(mia, "POST", "/api/account/two-factor/disable", json={"password": PASSWORD}))[0] == 200
    await (await ApiClient.signed_in(setup.url, "mia@a.test", PASSWORD)).close()  # the password alone again
    await mia.close()


async def test_an_admin_resets_a_members_two_factor_sign_in(setup: Setup) -> None:
    mia = await ApiClient.signed_in(setup.url, "mia@a.test", PASSWORD)
    await _enrol(mia, setup.clock)  # then loses the phone and the recovery codes
    admin = await ApiClient.signed_in(setup.url, "admin@a.test", PASSWORD)
    other_admin = await ApiClient.signed_in(setup.url, "admin@b.test", PASSWORD)
    viewer = await ApiClient.signed_in(setup.url, "sam@ab.test", PASSWORD)  # an operator of A
    anonymous = ApiClient(setup.url)
    path = f"/api/organisation/members/{setup.member_id}/two-factor"
    assert (await _status(anonymous, "DELETE", path))[0] == 401
    assert (await _status(viewer, "DELETE", path))[0] == 403  # not an admin of A
    status, body = await _status(other_admin, "DELETE", path)  # A's member, from B
    assert status == 404 and "no such member in this organisation" in body["error"]
    status, body = await _status(admin, "DELETE", f"/api/organisation/members/{setup.shared_id}/two-factor")
    assert status == 403 and "organisation you do not administer" in body["error"]
    assert (await _status(admin, "DELETE", "/api/organisation/members/not..an..id/two-factor"))[0] == 400

    status, body = await _status(admin, "DELETE", path)
    assert (status, body["two_factor"], body["name"]) == (200, False, "Mia Member")
    assert (await _status(mia, "GET", "/api/streams"))[0] == 401  # her sessions ended
    status, body = await _status(admin, "DELETE", path)  # again: nothing to reset
    assert status == 409 and "no two-factor sign-in to reset" in body["error"]
    await (await ApiClient.signed_in(setup.url, "mia@a.test", PASSWORD)).close()  # the password alone again
    _, audit = await _status(admin, "GET", "/api/organisation/audit")
    entries = [(e["action"], e["details"].get("member", "")) for e in audit["entries"]]
    assert ("two-factor sign-in reset", "Mia Member <mia@a.test>") in entries
    for client in (mia, admin, other_admin, viewer, anonymous):
        await client.close()
