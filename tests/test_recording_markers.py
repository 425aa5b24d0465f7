"""The timeline's markers (acknowledgements, encrypted positions for the loss of the GPS
fix) and the audit of playback (once per play session), over real HTTP to a real server,
tried also as an attacker: another organisation, a viewer, no session, a malformed id."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bwlive_rtc.auth.service import AUTH
from bwlive_rtc.crypto.b64 import b64url_decode
from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.sframe import FrameDecryptor, Kind
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.kernel.access import Role
from bwlive_rtc.kernel.audit import AUDIT
from bwlive_rtc.kernel.clock import ManualClock
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.server import start_server
from bwlive_rtc.viewer.session import ApiClient
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, TEST_ORGANISATION_ID, bootstrap_admin
from tests.synthetic_recording import SyntheticRecording, organisation_of, write_recording

PASSWORD = "a long enough password"


@dataclass
class Site:
    app: web.Application
    url: str
    clock: ManualClock
    keys: SystemKeyPair
    recording: SyntheticRecording
    admin: ApiClient
    clients: list[ApiClient]

    async def person(self, role: Role, own_organisation: bool = False) -> ApiClient:
        accounts = self.app[AUTH].accounts
        email = f"{role.value}-{len(self.clients)}@example.test"
        user = accounts.create_user(email, f"{role.value.title()} {len(self.clients)}", PASSWORD)
        organisation = (accounts.create_organisation(f"Org {len(self.clients)}", user) if own_organisation
                        else self.recording_organisation)
        if not own_organisation:
            accounts.add_member(user.id, organisation, role)
        client = await ApiClient.signed_in(self.url, email, PASSWORD)
        self.clients.append(client)
        return client

    @property
    def recording_organisation(self) -> str:
        return str(self.app[AUTH].accounts.db.value(TEST_ORGANISATION_ID))

    def played(self) -> list[dict[str, Any]]:
        entries = self.app[AUDIT].entries(self.recording_organisation)
        return [entry for entry in entries if entry["action"] == "recording played"]


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    keys = SystemKeyPair.generate()
    keys.save(tmp_path / "keys")
    data = tmp_path / "data"
    bootstrap_admin(data, tmp_path / "keys")
    recording = write_recording(data, keys.public, "Marker Mo", 40, organisation_id=organisation_of(data),
                                gps_lost=((20, 30),), acknowledged_at=((10, "Ada Admin"), (33.5, "Olu Operator")))
    clock = ManualClock(datetime.now(UTC))
    runner, port = await start_server(Settings(port=0, keys_dir=tmp_path / "keys", data_dir=data), clock)
    url = f"http://127.0.0.1:{port}"
    site = Site(runner.app, url, clock, keys, recording, await ApiClient.signed_in(url, ADMIN_EMAIL, ADMIN_PASSWORD), [])
    try:
        yield site
    finally:
        for client in [site.admin, *site.clients]:
            await client.close()
        await runner.cleanup()


async def get(client: ApiClient, path: str) -> tuple[int, Any]:
    async with client.request("GET", path) as response:
        body = await response.read()
        return response.status, json.loads(body) if response.content_type == "application/json" else body


async def test_markers_place_acknowledgements_and_the_encrypted_positions_of_a_lost_fix(site: Site) -> None:
    status, markers = await get(site.admin, f"/api/recordings/{site.recording.id}/markers")
    assert status == 200, markers
    assert [(a["ms"], a["by"]) for a in markers["acknowledgements"]] == [(10_000, "Ada Admin"), (33_500, "Olu Operator")]
    # the server hands over positions as ciphertext; with the key, the lost fix is in 20-30 s
    status, recording = await get(site.admin, f"/api/recordings/{site.recording.id}")
    decryptor = FrameDecryptor(KeyEnvelope.from_json(recording["key_envelope"]).open(site.keys))
    fixes = [(p["ms"], json.loads(decryptor.decrypt(Kind.CAMERA_DATA, b64url_decode(p["data"]))))
             for p in markers["positions"]]
    assert len(fixes) == 40
    assert [ms for ms, fix in fixes if fix["fix"] is False] == [s * 1000 + 500 for s in range(20, 30)]
    assert all(b"fix" not in b64url_decode(p["data"]) for p in markers["positions"])  # nothing readable on the server


async def test_markers_are_the_organisations_and_its_members_only(site: Site) -> None:
    path = f"/api/recordings/{site.recording.id}/markers"
    viewer = await site.person(Role.VIEWER)
    status, markers = await get(viewer, path)
    assert status == 200 and len(markers["acknowledgements"]) == 2  # viewers watch recordings

    outsider = await site.person(Role.ADMIN, own_organisation=True)
    for what in (path, f"/api/recordings/{site.recording.id}/segments/0"):
        status, refusal = await get(outsider, what)
        assert (status, refusal["error"]) == (404, f"There is no recording {site.recording.id!r} (it may have been purged).")

    async with aiohttp.ClientSession() as anonymous, anonymous.get(site.url + path) as response:
        assert response.status == 401 and "error" in await response.json()

    status, refusal = await get(site.admin, "/api/recordings/not%20an%20id/markers")
    assert status == 400 and "recording_id" in refusal["error"]
    assert site.played() == []  # markers are not playing


async def test_playing_is_audited_once_per_play_session_not_per_segment(site: Site) -> None:
    recording = site.recording
    for seq in range(5):
        status, body = await get(site.admin, f"/api/recordings/{recording.id}/segments/{seq}")
        assert status == 200 and len(body) > 1000
    played = site.played()
    assert len(played) == 1, played
    assert played[0]["user_name"] == "Ada Admin"
    assert played[0]["details"] == {"recording": recording.id, "camera": "Marker Mo"}

    viewer = await site.person(Role.VIEWER)  # another person: their own session
    for seq in (7, 8):
        assert (await get(viewer, f"/api/recordings/{recording.id}/segments/{seq}"))[0] == 200
    assert [entry["user_name"] for entry in site.played()] == ["Viewer 0", "Ada Admin"]

    site.clock.advance(timedelta(minutes=4))  # paused a while: the same session
    assert (await get(site.admin, f"/api/recordings/{recording.id}/segments/9"))[0] == 200
    assert len(site.played()) == 2
    site.clock.advance(timedelta(minutes=6))  # came back later: a new session
    assert (await get(site.admin, f"/api/recordings/{recording.id}/segments/0"))[0] == 200
    assert len(site.played()) == 3

    outsider = await site.person(Role.ADMIN, own_organisation=True)  # refused: nothing played
    assert (await get(outsider, f"/api/recordings/{recording.id}/segments/1"))[0] == 404
    assert len(site.played()) == 3
