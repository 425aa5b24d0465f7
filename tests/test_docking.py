"""Docking and device credentials: every refusal at publish time, with its exact reason
as the camera agent prints it, on an injectable clock."""
from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.fleet.service import FLEET
from bwlive_rtc.kernel.clock import ManualClock
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.server import start_server
from bwlive_rtc.viewer.session import ApiClient
from tests.processes import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    TEST_ORGANISATION_ID,
    Camera,
    Process,
    bootstrap_admin,
    dock_camera,
    system_issuer,
)


@pytest.fixture
async def system(tmp_path: Path):
    SystemKeyPair.generate().save(tmp_path / "keys")
    bootstrap_admin(tmp_path / "data", tmp_path / "keys")
    clock = ManualClock(datetime.now(UTC))
    runner, port = await start_server(Settings(port=0, keys_dir=tmp_path / "keys", data_dir=tmp_path / "data"), clock)
    yield runner.app, f"http://127.0.0.1:{port}", clock
    await runner.cleanup()


async def refusal(camera: Camera) -> str:
    line = await asyncio.to_thread(camera.wait_for, r"error: server refused the stream \((\d+)\): (.*)")
    assert await asyncio.to_thread(camera.proc.wait, 10) == 1
    return f"{line.group(1)} {line.group(2)}"


async def test_credential_valid_six_days(system, tmp_path: Path) -> None:
    app, url, clock = system
    camera = Camera(tmp_path, url, tmp_path / "keys", "Dana Dock", clock=clock)
    await asyncio.to_thread(camera.wait_for, "credential valid until")
    await asyncio.to_thread(camera.wait_for, "streaming")
    await asyncio.to_thread(camera.stop)
    docked = json.loads(camera.dock_file.read_text())
    assert datetime.fromisoformat(docked["credential_expires_at"]) - clock.now() == timedelta(days=6)
    assert docked["profile"] == {"name": "Streaming", "streaming": True, "location": True}
    assert docked["thumbprint"] == SystemKeyPair.load(tmp_path / "keys").public.thumbprint

    clock.advance(timedelta(days=5, hours=23))  # not docked since: the same credential still streams
    offset = (clock.now() - datetime.now(UTC)).total_seconds()
    again = Process(["camera", "stream", "--server", url, "--dock-file", str(camera.dock_file),
                     "--clock-offset", str(offset)], cwd=tmp_path)
    await asyncio.to_thread(again.wait_for, "streaming")
    await asyncio.to_thread(again.stop)


async def test_expired_revoked_and_unknown_cameras_are_refused(system, tmp_path: Path) -> None:
    app, url, clock = system

    def stream(dock_file: Path) -> Process:
        offset = (clock.now() - datetime.now(UTC)).total_seconds()
        return Process(["camera", "stream", "--server", url, "--dock-file", str(dock_file),
                        "--clock-offset", str(offset)], cwd=tmp_path)

    old = dock_camera(tmp_path / "data", "Eli Expired", tmp_path / "old.json", clock)
    clock.advance(timedelta(days=6, seconds=1))
    assert await refusal(stream(old)) == (
        f"403 the certificate of camera SN-ELI-EXPIRED expired on {(clock.now() - timedelta(seconds=1)):%Y-%m-%d %H:%M} UTC "
        "(not docked for more than 6 days): dock the camera to renew its certificate")
    fresh = dock_camera(tmp_path / "data", "Eli Expired", tmp_path / "fresh.json", clock)  # docking renews it
    camera = stream(fresh)
    await asyncio.to_thread(camera.wait_for, "streaming")
    await asyncio.to_thread(camera.stop)

    fleet = app[FLEET].fleet
    serial = json.loads(fresh.read_text())["serial"]
    admin = await ApiClient.signed_in(url, ADMIN_EMAIL, ADMIN_PASSWORD)
    try:
        async with admin.request("POST", f"/api/fleet/cameras/{fleet.camera_by_serial(serial).id}/revoke") as r:
            assert r.status == 200
    finally:
        await admin.close()
    assert await refusal(stream(fresh)) == f"403 camera {serial} was revoked on {clock.now():%Y-%m-%d}"

    gone = dock_camera(tmp_path / "data", "Gus Gone", tmp_path / "gone.json", clock)
    gone_serial = json.loads(gone.read_text())["serial"]
    fleet.db.delete("cameras", id=fleet.camera_by_serial(gone_serial).id)  # removed from the system since docking
    assert await refusal(stream(gone)) == f"403 unknown camera {gone_serial}: it was removed from the system"


async def test_camera_clock_off_is_refused(system, tmp_path: Path) -> None:
    app, url, clock = system

    dock_file = dock_camera(tmp_path / "data", "Cleo Clock", tmp_path / "clock.json", clock)
    camera = Process(["camera", "stream", "--server", url, "--dock-file", str(dock_file), "--clock-offset", "-95"],
                     cwd=tmp_path)
    reason = await refusal(camera)
    assert reason.startswith("400 the camera's clock is 9") and reason.endswith(
        " s behind the server's (tolerance 10 s): set its time (NTP) and try again")


async def test_licenses_count_cameras_of_streaming_profiles(system, tmp_path: Path) -> None:
    app, url, clock = system

    dock_camera(tmp_path / "data", "Lou License", tmp_path / "l1.json", clock)
    dock_camera(tmp_path / "data", "Max Muted", tmp_path / "l2.json", clock, streaming=False)
    licensing_org = app[FLEET].fleet.db.value(TEST_ORGANISATION_ID)
    usage = app[FLEET].fleet.usage
    assert usage.daily_count(licensing_org, clock.now().date()) == 1  # only the streaming profile counts


async def test_local_recording_and_troubleshooting(system, tmp_path: Path) -> None:
    import av

    app, url, clock = system
    dock_file = dock_camera(tmp_path / "data", "Rae Record", tmp_path / "rec.json", clock)
    offset = (clock.now() - datetime.now(UTC)).total_seconds()
    camera = Process(["camera", "stream", "--server", url, "--dock-file", str(dock_file), "--clock-offset", str(offset),
                      "--duration", "3", "--troubleshoot", "--recordings-dir", str(tmp_path / "own")], cwd=tmp_path)
    assert await asyncio.to_thread(camera.proc.wait, 30) == 0
    out = camera.output
    for item in ("time", "network", "mode", "signal", "addresses", "name servers", "last server response"):
        assert f"troubleshooting {item}: " in out
    started = camera.wait_for(r"local recording started: (\S+)").group(1)
    frames = int(camera.wait_for(r"stopped: local recording stopped: (\d+) frames").group(1))
    assert frames > 30
    with av.open(str(tmp_path / started)) as container:  # the camera's own copy plays (unencrypted, on the camera)
        assert sum(1 for _ in container.decode(video=0)) == frames


async def test_dock_package_networks_user_overrides_profile(system, tmp_path: Path) -> None:
    app, url, clock = system
    service = app[FLEET]
    fleet = service.fleet
    org = fleet.db.value(TEST_ORGANISATION_ID)
    profile = fleet.add_profile(org, "Night shift", streaming=True, location=False)
    fleet.add_network(org, "HQ-WLAN", "hq secret", profile_id=profile.id)
    shared = fleet.add_camera_user(org, "Sol Shared", profile.id).id
    own = fleet.add_camera_user(org, "Ola Own", profile.id).id
    fleet.add_network(org, "Ola-Home", "home secret", camera_user_id=own)
    fleet.add_camera(org, "NET-1", "m", shared)
    fleet.add_camera(org, "NET-2", "m", own)
    issuer = system_issuer(tmp_path / "keys")
    first, second = (service.docking.dock(serial, Ed25519PrivateKey.generate().public_key(), issuer)
                     for serial in ("NET-1", "NET-2"))
    assert first["networks"] == [{"ssid": "HQ-WLAN", "password": "hq secret"}]
    assert second["networks"] == [{"ssid": "Ola-Home", "password": "home secret"}]  # the user's own network wins
    assert first["profile"] == {"name": "Night shift", "streaming": True, "location": False}
    with pytest.raises(Exception, match="assign the network to a profile or to a camera user"):
        fleet.add_network(org, "X", "y")


async def test_fleet_api_assigns_profiles_and_networks(system, tmp_path: Path) -> None:
    app, url, clock = system
    admin = await ApiClient.signed_in(url, ADMIN_EMAIL, ADMIN_PASSWORD)
    try:
        async def call(method: str, path: str, body: dict | None = None, status: int = 200) -> dict:
            async with admin.request(method, path, json=body) as r:
                assert r.status == status, await r.text()
                return await r.json()

        on = (await call("POST", "/api/fleet/profiles", {"name": "On"}, 201))["id"]
        off = (await call("POST", "/api/fleet/profiles", {"name": "Off", "streaming": False}, 201))["id"]
        user = (await call("POST", "/api/fleet/camera-users", {"name": "Kai", "profile_id": on}, 201))["id"]
        await call("POST", "/api/fleet/cameras", {"serial": "API-1", "model": "m", "camera_user_id": user}, 201)
        await call("POST", "/api/fleet/networks", {"ssid": "Depot", "password": "pw", "profile_id": on}, 201)
        listed = await call("GET", "/api/fleet")
        assert [n["ssid"] for n in listed["networks"]] == ["Depot"] and "password" not in listed["networks"][0]
        org = listed["profiles"][0]["organisation_id"]
        assert app[FLEET].fleet.usage.daily_count(org, clock.now().date()) == 1
        await call("PATCH", f"/api/fleet/camera-users/{user}", {"profile_id": off})
        docked = app[FLEET].docking.dock("API-1", Ed25519PrivateKey.generate().public_key(), system_issuer(tmp_path / "keys"))
        assert docked["profile"]["streaming"] is False
        clock.advance(timedelta(days=1))
        assert app[FLEET].fleet.usage.daily_count(org, clock.now().date()) == 0  # no longer counts for licenses
        refused = await call("PATCH", f"/api/fleet/camera-users/{user}", {"profile_id": "nope"}, 404)
        assert refused["error"] == "no such profile in this organisation"
        refused = await call("POST", "/api/fleet/networks", {"ssid": "", "password": "x", "profile_id": on}, 400)
        assert "SSID" in refused["error"]
    finally:
        await admin.close()


def test_the_local_recording_goes_on_across_a_stream_published_afresh(tmp_path: Path) -> None:
    """A camera whose server went away publishes a new stream, whose encoder counts its
    times from zero again: the camera's own recording takes both, in order, losing none."""
    import av

    from bwlive_rtc.camera.encoder import Vp8Encoder
    from bwlive_rtc.camera.local_recording import LocalRecording

    recording = LocalRecording(tmp_path / "own.ivf", 64, 48)
    for _stream in range(2):
        encoder = Vp8Encoder(64, 48)
        for n in range(10):
            frame = av.VideoFrame(64, 48, "yuv420p")
            for packet in encoder.encode(frame, n * 3000):
                recording.write(packet)
    recording.close()
    assert recording.frames == 20
    with av.open(str(tmp_path / "own.ivf")) as container:
        times = [packet.pts for packet in container.demux(video=0) if packet.size]
    assert len(times) == 20 and times == sorted(set(times))
