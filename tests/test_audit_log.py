"""The audit log's API (issue 13, defect 10): server-side filter by person, camera, action
and time range, paging, the CSV export (same filters, every row, formula-safe cells),
people by name and e-mail; attacked with another organisation's ids, a viewer's session,
no session and malformed queries (400 with a sentence, never 5xx)."""
from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bwlive_rtc.auth.audit_export import cell
from bwlive_rtc.auth.service import AUTH
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.kernel.access import Role
from bwlive_rtc.kernel.clock import ManualClock
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.server import start_server
from bwlive_rtc.viewer.session import ApiClient

PASSWORD = "a long enough password"
FORMULA_NAME = "=HYPERLINK(\"http://evil.example\",\"x\")"


@pytest.fixture
async def clients(tmp_path: Path) -> AsyncIterator[tuple[dict[str, ApiClient], ManualClock, dict[str, str]]]:
    SystemKeyPair.generate().save(tmp_path / "keys")
    clock = ManualClock()
    runner, port = await start_server(Settings(port=0, keys_dir=tmp_path / "keys", data_dir=tmp_path / "data"), clock)
    auth = runner.app[AUTH]
    admin = auth.accounts.create_user("admin@a.test", "Ann Admin", PASSWORD)
    org_a = auth.accounts.create_organisation("Org A", admin)
    odd = auth.accounts.create_user("odd@a.test", FORMULA_NAME, PASSWORD)
    auth.accounts.add_member(odd.id, org_a, Role.VIEWER)
    auth.accounts.create_organisation("Org B", auth.accounts.create_user("admin@b.test", "Bo Admin", PASSWORD))
    for number in range(120):
        clock.advance(timedelta(minutes=1))
        auth.audit.record("stream viewed", organisation_id=org_a, user_id=odd.id, user_name=odd.name,
                          stream=f"s{number}", camera="Cam One" if number % 2 else "Cam Two")
    url = f"http://127.0.0.1:{port}"
    made = {name: await ApiClient.signed_in(url, email, PASSWORD)
            for name, email in (("admin", "admin@a.test"), ("viewer", "odd@a.test"), ("other_admin", "admin@b.test"))}
    made["anonymous"] = ApiClient(url)
    yield made, clock, {"odd": odd.id, "admin": admin.id}
    for client in made.values():
        await client.close()
    await runner.cleanup()


async def _get(client: ApiClient, path: str, **params: str) -> tuple[int, dict]:
    async with client.request("GET", path, params=params) as response:
        return response.status, await response.json()


async def test_filters_and_pages_on_the_server(clients) -> None:
    made, _, ids = clients
    admin = made["admin"]
    status, body = await _get(admin, "/api/organisation/audit")
    assert status == 200 and body["page_size"] == 50 and len(body["entries"]) == 50
    assert body["total"] >= 122 and "stream viewed" in body["actions"]
    newest = body["entries"][0]
    assert newest["action"] == "signed in"  # the sign-ins came last
    status, body = await _get(admin, "/api/organisation/audit", person=ids["odd"], action="stream viewed",
                              camera="Cam One", page="1", page_size="20")
    assert status == 200 and body["total"] == 60 and len(body["entries"]) == 20
    assert {(e["user_name"], e["user_email"], e["details"]["camera"]) for e in body["entries"]} == {
        (FORMULA_NAME, "odd@a.test", "Cam One")}
    first_page = (await _get(admin, "/api/organisation/audit", camera="Cam One", page_size="20"))[1]["entries"]
    assert not {e["id"] for e in first_page} & {e["id"] for e in body["entries"]}  # page 1 follows page 0
    assert first_page[-1]["id"] > body["entries"][0]["id"]  # newest first


async def test_time_range_is_half_open(clients) -> None:
    made, clock, _ = clients
    now = clock.now()
    status, body = await _get(made["admin"], "/api/organisation/audit", action="stream viewed",
                              since=(now - timedelta(minutes=10)).isoformat(), until=now.isoformat())
    assert status == 200 and body["total"] == 10  # minutes -10 .. -1 (the last entry is at now - 0)


async def test_csv_export_has_every_row_and_no_formulas(clients) -> None:
    made, _, ids = clients
    async with made["admin"].request("GET", "/api/organisation/audit.csv", params={"person": ids["odd"]}) as response:
        assert response.status == 200 and response.headers["Content-Type"].startswith("text/csv")
        assert "attachment" in response.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(await response.text())))
    assert rows[0] == ["time", "person", "e-mail", "action", "details"]
    viewed = [r for r in rows[1:] if r[3] == "stream viewed"]
    assert len(viewed) == 120  # more than one batch of any page: the whole log
    assert {r[1] for r in viewed} == {"'" + FORMULA_NAME} and {r[2] for r in viewed} == {"odd@a.test"}
    assert [cell(v) for v in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "plain", None)] == [
        "'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "plain", ""]
    status, body = await _get(made["admin"], "/api/organisation/audit", action="audit log exported")
    assert body["total"] == 1 and body["entries"][0]["details"] == {"filter": {"person": ids["odd"]}}


async def test_attackers_get_nothing(clients) -> None:
    made, _, ids = clients
    for path in ("/api/organisation/audit", "/api/organisation/audit.csv"):
        async with made["anonymous"].request("GET", path) as response:
            assert response.status == 401
        async with made["viewer"].request("GET", path) as response:
            assert response.status == 403 and "admin role" in (await response.json())["error"]
    status, body = await _get(made["other_admin"], "/api/organisation/audit", person=ids["odd"])
    assert status == 200 and body["total"] == 0 and body["entries"] == []  # A's person, from B: nothing
    async with made["other_admin"].request("GET", "/api/organisation/audit.csv", params={"person": ids["odd"]}) as r:
        assert len((await r.text()).strip().splitlines()) == 1  # only the header
    bad = [{"page": "-1"}, {"page_size": "0"}, {"page_size": "1000"}, {"since": "yesterday"},
           {"since": "2026-01-01T00:00:00"}, {"person": "x' OR 1=1 --"}, {"colour": "red"}, {"page": "²"}]
    for params in bad:
        status, body = await _get(made["admin"], "/api/organisation/audit", **params)
        assert status == 400 and body["error"], params
    every = {"person": ids["odd"], "camera": "Cam One", "action": "stream viewed", "since": "2026-01-01T00:00:00Z",
             "until": "2099-01-01T00:00:00+01:00"}
    async with made["admin"].request("GET", "/api/organisation/audit.csv", params=every) as response:
        assert response.status == 200 and len((await response.text()).strip().splitlines()) == 61
    async with made["admin"].request("GET", "/api/organisation/audit.csv", params={"until": "soon"}) as response:
        assert response.status == 400 and "until" in (await response.json())["error"]
