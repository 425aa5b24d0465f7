"""Licenses: signed files, usage averaged over 7 days (a hand-worked week), the trial,
and cameras refused with the reason when no valid license remains."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bwlive_rtc.auth.accounts import Accounts
from bwlive_rtc.auth.service import AUTH
from bwlive_rtc.crypto.b64 import b64url_encode
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.kernel.clock import ManualClock
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.licensing.license_file import License, LicenseError, sign, verify
from bwlive_rtc.licensing.service import Licensing
from bwlive_rtc.server import start_server
from bwlive_rtc.storage.database import Database
from bwlive_rtc.viewer.session import ApiClient
from tests.postgres import fresh_database
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Camera, bootstrap_admin

MONDAY = datetime(2026, 1, 5, tzinfo=UTC)


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Day 0 is Monday 5 January 2026 (UTC)."""
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


def test_hand_worked_week(tmp_path: Path) -> None:
    clock = ManualClock(at(0))
    database = Database(fresh_database(tmp_path / "db.sqlite"))
    accounts = Accounts(database.db, clock)
    org = accounts.create_organisation("Acme", accounts.create_user("a@acme.test", "A", "long password 1"))
    issuer = Ed25519PrivateKey.generate()
    licensing = Licensing(database.db, clock, accounts, issuer.public_key())
    usage = licensing.assignments
    usage.start(org, "A", at(0, 9))                      # Mon 09:00, stays
    usage.start(org, "B", at(0, 10)); usage.end(org, "B", at(2, 12))   # Mon-Wed
    usage.start(org, "C", at(3, 8)); usage.end(org, "C", at(3, 17))    # Thu only
    usage.start(org, "D", at(5, 23, 30))                 # Sat 23:30, stays
    usage.start(org, "E", at(1)); usage.end(org, "E", at(4))           # Tue 00:00 - Fri 00:00: Tue-Thu
    usage.start(org, "B", at(4, 12)); usage.end(org, "B", at(5))       # Fri only (ends at Sat 00:00)
    #            Mon Tue Wed Thu Fri Sat Sun
    by_hand = [2, 3, 3, 3, 2, 2, 2]  # A+B, A+B+E, A+B+E, A+C+E, A+B, A+D, A+D
    assert [usage.daily_count(org, date(2026, 1, 5) + timedelta(days=i)) for i in range(7)] == by_hand
    clock.advance(at(6, 12) - clock.now())  # Sunday noon
    assert licensing.state(org).needed == pytest.approx(17 / 7)
    assert licensing.state(org).in_trial and licensing.state(org).ok

    clock.advance(timedelta(days=30))  # the 30-day trial is over
    state = licensing.state(org)
    assert not state.ok and "no valid license" in state.reason
    two = License("L2", org, 2, date(2026, 2, 1), date(2026, 12, 31))
    licensing.add(org, sign(two, issuer))
    state = licensing.state(org)
    # the last 7 days now hold only A and D: 2 cameras every day
    assert state.needed == pytest.approx(2.0) and state.ok
    usage.start(org, "F", clock.now())
    state = licensing.state(org)
    assert not state.ok and state.reason.startswith("not enough licenses: 2.1 cameras on average over 7 days, 2 licensed")
    licensing.add(org, sign(License("L1", org, 1, date(2026, 2, 1), date(2026, 12, 31)), issuer))
    assert licensing.state(org).ok and licensing.state(org).licensed_cameras == 3


def test_license_files_are_verified(tmp_path: Path) -> None:
    issuer = Ed25519PrivateKey.generate()
    license = License("L1", "org-1", 5, date(2026, 1, 1), date(2026, 12, 31))
    text = sign(license, issuer)
    assert verify(text, issuer.public_key()) == license
    prefix, payload, signature = text.split(".")
    forged = ".".join([prefix, payload.replace("e", "f", 1), signature])
    with pytest.raises(LicenseError, match="signature"):
        verify(forged, issuer.public_key())
    with pytest.raises(LicenseError, match="signature"):
        verify(text, Ed25519PrivateKey.generate().public_key())
    with pytest.raises(LicenseError, match="not a bwlive license"):
        verify("hello", issuer.public_key())


async def test_camera_refused_after_trial_until_a_license_is_added(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    SystemKeyPair.generate().save(keys_dir)
    issuer = Ed25519PrivateKey.generate()
    (keys_dir / "license-issuer-public.pem").write_bytes(issuer.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    bootstrap_admin(tmp_path / "data", keys_dir)
    clock = ManualClock(datetime.now(UTC) + timedelta(days=31))  # the trial began today
    runner, port = await start_server(Settings(port=0, keys_dir=keys_dir, data_dir=tmp_path / "data"), clock)
    url = f"http://127.0.0.1:{port}"
    admin = await ApiClient.signed_in(url, ADMIN_EMAIL, ADMIN_PASSWORD)
    try:
        camera = Camera(tmp_path, url, keys_dir, "Unlicensed", clock=clock)
        line = await asyncio.to_thread(camera.wait_for, r"error: server refused the stream \(403\): (.*)")
        assert "this camera cannot stream now: no valid license: the trial ended on" in line.group(1)
        assert await asyncio.to_thread(camera.proc.wait, 10) == 1
        async with admin.request("GET", "/api/organisation/license") as r:
            state = await r.json()
        assert state["ok"] is False and "no valid license" in state["reason"]

        org_id = admin.session["organisation"]["id"]
        today = clock.now().date()
        async with admin.request("POST", "/api/organisation/licenses",
                                 data=sign(License("X", "another-org", 5, today, today), issuer)) as r:
            assert r.status == 400 and "another organisation" in (await r.json())["error"]
        async with admin.request("POST", "/api/organisation/licenses", data=b"\xff\xfe\x00license") as r:
            assert r.status == 400 and "not UTF-8 text" in (await r.json())["error"]
        text = sign(License("Y", org_id, 5, today, today + timedelta(days=30)), issuer)
        async with admin.request("POST", "/api/organisation/licenses", data=text) as r:
            assert r.status == 201
        async with admin.request("POST", "/api/organisation/licenses", data=text) as r:
            assert r.status == 400 and "already been added" in (await r.json())["error"]
        camera = Camera(tmp_path, url, keys_dir, "Licensed", clock=clock)
        await asyncio.to_thread(camera.wait_for, "streaming")
        await asyncio.to_thread(camera.stop)
        entries = runner.app[AUTH].audit.entries(org_id)
        assert any(e["action"] == "license added" for e in entries)
    finally:
        await admin.close()
        await runner.cleanup()


@pytest.mark.parametrize(("cameras", "days", "words"), [(-5, 30, "at least one camera"), (0, 30, "at least one camera"),
                                                        (3, -1, "ends")])
def test_a_license_for_no_cameras_or_no_days_is_neither_issued_nor_accepted(
        tmp_path: Path, cameras: int, days: int, words: str) -> None:
    issuer = Ed25519PrivateKey.generate()
    with pytest.raises(LicenseError, match=words):
        License("L1", "org-1", cameras, date(2026, 1, 10), date(2026, 1, 10) + timedelta(days=days))
    # a file signed by a careless issuer (bypassing the check) is still refused by the server
    payload = json.dumps({"id": "L2", "organisation_id": "org-1", "cameras": cameras, "valid_from": "2026-01-10",
                          "valid_until": (date(2026, 1, 10) + timedelta(days=days)).isoformat()}).encode()
    text = f"bwlive-license-v1.{b64url_encode(payload)}.{b64url_encode(issuer.sign(payload))}"
    with pytest.raises(LicenseError, match=words):
        verify(text, issuer.public_key())
    keys = tmp_path / "issuer.pem"
    keys.write_bytes(issuer.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    refused = subprocess.run([sys.executable, "-m", "bwlive_rtc", "license", "issue", "--issuer-key", str(keys),
                              "--organisation", "org-1", "--cameras", str(cameras), "--days", str(days + 1)],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and words in refused.stderr and "Traceback" not in refused.stderr
