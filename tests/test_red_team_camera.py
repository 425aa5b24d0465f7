"""Issue 10, holes 1 and 5, tried as an attacker would: a real server on loopback, real
camera processes streaming over WebRTC, attacks over real HTTP (from other loopback
addresses where the attacker is elsewhere). Each attack must be refused, and nothing may
be lost: the stream stays live under the same id and its recording keeps growing."""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiortc import RTCPeerConnection
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bwlive_rtc.auth.service import AUTH
from bwlive_rtc.camera.identity import device_key_path, load_device_key
from bwlive_rtc.camera.publish import SignedStream
from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.sframe import StreamKey
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.kernel.access import Role
from bwlive_rtc.kernel.appkeys import EVENTS
from bwlive_rtc.kernel.clock import Clock, ManualClock, SystemClock
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.server import start_server
from bwlive_rtc.viewer.session import ApiClient
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, TEST_ORGANISATION_ID, Camera, Server, bootstrap_admin, dock_camera

PASSWORD = "a long enough password"


@dataclass
class Site:
    """A running server with the test organisation, its admin and the cameras started."""

    app: web.Application
    url: str
    tmp: Path
    keys: SystemKeyPair
    clock: Clock
    admin: ApiClient
    clients: list[ApiClient] = field(default_factory=list)
    cameras: list[Camera] = field(default_factory=list)

    @property
    def organisation(self) -> str:
        return str(self.app[AUTH].accounts.db.value(TEST_ORGANISATION_ID))

    async def person(self, role: Role, organisation: str | None = None) -> ApiClient:
        """A signed-in user with ``role`` in ``organisation`` (default: the camera's), or in a
        new organisation of their own."""
        accounts = self.app[AUTH].accounts
        email = f"{role.value}-{len(self.clients)}@example.test"
        user = accounts.create_user(email, f"{role.value.title()} {len(self.clients)}", PASSWORD)
        if organisation == "own":
            accounts.add_member(user.id, accounts.create_organisation(f"Org {len(self.clients)}", user), role)
        else:
            accounts.add_member(user.id, organisation or self.organisation, role)
        client = await ApiClient.signed_in(self.url, email, PASSWORD)
        self.clients.append(client)
        return client

    async def camera(self, name: str) -> Camera:
        clock = None if isinstance(self.clock, SystemClock) else self.clock  # no offset to pass
        camera = Camera(self.tmp, self.url, self.tmp / "keys", name, clock=clock)
        self.cameras.append(camera)
        await asyncio.to_thread(camera.wait_for, "streaming")
        return camera

    def credential(self, name: str) -> Identity:
        """A docked camera's device credential and device key (an attacker who has the
        whole camera, or, with ``.credential`` alone, one who copied its dock file)."""
        return Identity.of(dock_camera(self.tmp / "data", name, self.tmp / f"stolen-{name}.json", self.clock))


@dataclass(frozen=True)
class Identity:
    credential: str
    device_key: Ed25519PrivateKey | None

    @classmethod
    def of(cls, dock_file: Path) -> Identity:
        """What a camera keeps: its dock file's credential and its device key."""
        return cls(json.loads(dock_file.read_text())["credential"], load_device_key(device_key_path(dock_file)))


async def _site(tmp_path: Path, clock: Clock) -> AsyncIterator[Site]:
    keys = SystemKeyPair.generate()
    keys.save(tmp_path / "keys")
    bootstrap_admin(tmp_path / "data", tmp_path / "keys")
    runner, port = await start_server(Settings(port=0, keys_dir=tmp_path / "keys", data_dir=tmp_path / "data"), clock)
    url = f"http://127.0.0.1:{port}"
    site = Site(runner.app, url, tmp_path, keys, clock, await ApiClient.signed_in(url, ADMIN_EMAIL, ADMIN_PASSWORD))
    try:
        yield site
    finally:
        for camera in site.cameras:
            await asyncio.to_thread(camera.stop)
        for client in [site.admin, *site.clients]:
            await client.close()
        await runner.cleanup()


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    async for each in _site(tmp_path, SystemClock()):
        yield each


@pytest.fixture
async def frozen_site(tmp_path: Path) -> AsyncIterator[Site]:
    """The same on a clock that moves only when the test says (rate limits refill on it)."""
    async for each in _site(tmp_path, ManualClock(datetime.now(UTC))):
        yield each


async def get(client: ApiClient, path: str) -> Any:
    async with client.request("GET", path) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def live(client: ApiClient) -> dict[str, dict]:
    """The live streams the client sees, by camera user."""
    return {stream["camera"]: stream for stream in (await get(client, "/api/streams"))["streams"]}


async def growing_recording(site: Site, camera: str) -> dict:
    """The camera's recording, once it has stored a segment."""
    for _ in range(100):
        listed = (await get(site.admin, f"/api/recordings?camera={camera.replace(' ', '+')}"))["recordings"]
        if listed:
            recording = await get(site.admin, f"/api/recordings/{listed[0]['id']}")
            if recording["segments"]:
                return recording
        await asyncio.sleep(0.2)
    raise AssertionError(f"no recording of {camera!r}")


async def nothing_lost(site: Site, stream: dict, recording: dict) -> dict:
    """The stream is still live under the same id and its recording grows on (a segment
    is stored every 2 s; a loaded machine may take longer)."""
    for _ in range(40):
        await asyncio.sleep(0.5)
        assert (await live(site.admin)).get(stream["camera"], {}).get("id") == stream["id"], "the stream was ended"
        now = await get(site.admin, f"/api/recordings/{recording['id']}")
        assert now["state"] == "recording", "the recording was finished"
        if now["duration_ms"] > recording["duration_ms"]:
            return now
    raise AssertionError("the recording stopped growing")


def attacker(address: str = "127.0.0.2") -> aiohttp.ClientSession:
    """An HTTP client elsewhere (another loopback address), with no session cookie."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address, 0)))


async def refused(response: aiohttp.ClientResponse, status: int, words: str) -> None:
    body = await response.text()
    assert response.status == status, body
    assert words in json.loads(body)["error"], body


async def whip_offer() -> str:
    """A real publishing offer (VP8 video, ICE credentials, DTLS fingerprint)."""
    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="sendonly")
    pc.createDataChannel("bwlive")
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return sdp


def publish_headers(site: Site, identity: Identity, offer: str = "v=0") -> dict[str, str]:
    """WHIP headers of a publish of ``offer``, signed (proof and manifest) when the identity
    has a device key."""
    envelope = KeyEnvelope.seal(StreamKey.new(), site.keys.public)  # the public key is public
    now_ms = int(site.clock.now().timestamp() * 1000)
    if identity.device_key is None:
        return {"Content-Type": "application/sdp", "Authorization": f"Bearer {identity.credential}",
                "Bwlive-Camera-Time": str(now_ms), "Bwlive-Content-Key": envelope.to_header()}
    stream = SignedStream.start(identity.credential, identity.device_key, envelope, now_ms)
    return {"Content-Type": "application/sdp", **stream.headers(offer)}


# --- hole 1: ending someone else's stream -------------------------------------------------


async def test_nobody_but_the_camera_ends_its_stream_over_whip(site: Site) -> None:
    camera = await site.camera("Vic Victim")
    stream = (await live(site.admin))["Vic Victim"]
    recording = await growing_recording(site, "Vic Victim")
    own = json.loads(camera.dock_file.read_text())["credential"]  # stolen from the camera
    other = site.credential("Otto Other").credential  # a camera of the same organisation
    sid = stream["id"]  # every viewer and every SOC webhook sees it
    async with attacker() as http:
        for path, headers, status, words in [
            (f"/whip/{sid}", {}, 404, "Not Found"),  # the old resource URL is gone
            (f"/whip/{sid}/guess", {}, 401, "no device credential"),
            (f"/whip/{sid}/guess", {"Authorization": f"Bearer {other}"}, 404, "no WHIP session at this URL"),
            (f"/whip/{sid}/guess", {"Authorization": f"Bearer {own}"}, 404, "no WHIP session at this URL"),
            (f"/whip/{sid}/guess?credential={own}", {}, 400, "Authorization header, never in the URL"),
            (f"/whip/{sid}/guess", {"Authorization": "Bearer bwlive-cred-v1.e30.AAAA"}, 403, "not valid for this system"),
        ]:
            async with http.delete(site.url + path, headers=headers) as response:
                await refused(response, status, words)
    recording = await nothing_lost(site, stream, recording)

    # The camera itself ends it at the URL it was given: at once, not after an ICE timeout.
    await asyncio.to_thread(camera.stop)
    assert "end the stream" not in camera.output, camera.output  # its DELETE was accepted (no error shown)
    assert "Vic Victim" not in await live(site.admin)
    assert (await get(site.admin, f"/api/recordings/{recording['id']}"))["state"] == "complete"


async def test_only_operators_of_its_organisation_end_a_stream(site: Site) -> None:
    camera = await site.camera("Eve Ended")
    stream = (await live(site.admin))["Eve Ended"]
    recording = await growing_recording(site, "Eve Ended")
    viewer = await site.person(Role.VIEWER)
    stranger = await site.person(Role.OPERATOR, "own")  # an operator of another organisation
    async with viewer.request("POST", f"/api/streams/{stream['id']}/end") as response:
        await refused(response, 403, "needs the operator role")
    async with stranger.request("POST", f"/api/streams/{stream['id']}/end") as response:
        await refused(response, 404, "no live stream")
    async with attacker() as http:  # nobody signed in
        async with http.post(f"{site.url}/api/streams/{stream['id']}/end") as response:
            await refused(response, 401, "sign in")
    await nothing_lost(site, stream, recording)

    operator = await site.person(Role.OPERATOR)
    async with operator.http.ws_connect(site.url + "/api/streams/ws") as socket:
        assert [s["id"] for s in (await socket.receive_json(timeout=5))["streams"]] == [stream["id"]]
        async with operator.request("POST", f"/api/streams/{stream['id']}/end") as response:
            assert response.status == 200 and (await response.json()) == {"ended": stream["id"]}
        assert (await socket.receive_json(timeout=5))["streams"] == []  # pushed to every browser
    audit = (await get(site.admin, "/api/organisation/audit"))["entries"]
    assert any(e["action"] == "stream ended" and e["details"]["stream"] == stream["id"] for e in audit)
    # The camera sees its session end, says so, and publishes afresh (a new stream).
    await asyncio.to_thread(camera.wait_for, r"error: lost the connection to the server \(DTLS closed")
    for _ in range(100):
        again = (await live(site.admin)).get("Eve Ended")
        if again:
            break
        await asyncio.sleep(0.1)
    assert again and again["id"] != stream["id"]


# --- hole 5: replayable credentials -------------------------------------------------------


async def test_a_replayed_credential_is_refused_while_the_camera_streams(site: Site) -> None:
    camera = await site.camera("Rita Replayed")
    stream = (await live(site.admin))["Rita Replayed"]
    recording = await growing_recording(site, "Rita Replayed")
    cloned = Identity.of(camera.dock_file)  # the camera's files, device key included
    copied = Identity(cloned.credential, None)  # its dock file alone
    offer = await whip_offer()
    async with attacker() as http:
        async with http.post(site.url + "/whip", data=offer, headers=publish_headers(site, copied, offer)) as response:
            await refused(response, 403, "this camera did not sign its publish")
        thief = Identity(cloned.credential, Ed25519PrivateKey.generate())
        async with http.post(site.url + "/whip", data=offer, headers=publish_headers(site, thief, offer)) as response:
            await refused(response, 403, "a credential alone does not make a camera")
        async with http.post(site.url + "/whip", data=offer, headers=publish_headers(site, cloned, offer)) as response:
            await refused(response, 409, "this camera is streaming already")
            assert response.headers["Retry-After"] == "2"
        query = {k: v for k, v in publish_headers(site, cloned, offer).items() if k != "Authorization"}
        async with http.post(f"{site.url}/whip?credential={cloned.credential}", data=offer, headers=query) as response:
            await refused(response, 400, "in the Authorization header, never in the URL")
    await nothing_lost(site, stream, recording)
    assert len(await live(site.admin)) == 1


async def test_revoking_a_camera_ends_its_stream_within_seconds(site: Site) -> None:
    camera = await site.camera("Rex Revoked")
    stream = (await live(site.admin))["Rex Revoked"]
    camera_id = next(c["id"] for c in (await get(site.admin, "/api/fleet"))["cameras"] if c["serial"] == "SN-REX-REVOKED")
    async with site.admin.request("POST", f"/api/fleet/cameras/{camera_id}/revoke") as response:
        assert response.status == 200, await response.text()
    revoked_at = time.monotonic()
    while "Rex Revoked" in await live(site.admin):
        assert time.monotonic() - revoked_at < 3, "the revoked camera is still streaming"
        await asyncio.sleep(0.1)
    line = await asyncio.to_thread(camera.wait_for, r"error: server refused the stream \(403\): (.*)")
    assert line.group(1) == f"camera SN-REX-REVOKED was revoked on {site.clock.now():%Y-%m-%d}; not reconnecting"
    assert stream["id"] not in json.dumps(await live(site.admin))


async def test_offers_without_ice_or_dtls_credentials_leave_no_trace(site: Site) -> None:
    """Before, such an offer became a ghost stream, listed for 60-90 s with a recording
    and a webhook (SOC integrations forward the bus's stream events)."""
    events: list = []
    site.app[EVENTS].on("*", events.append)
    credential = site.credential("Gus Ghost")
    offer = await whip_offer()
    async with attacker() as http:
        for attribute, words in [("a=ice-ufrag:", "ICE username fragment"), ("a=ice-pwd:", "ICE password"),
                                 ("a=fingerprint:", "DTLS fingerprint")]:
            stripped = "".join(line for line in offer.splitlines(keepends=True) if not line.startswith(attribute))
            headers = publish_headers(site, credential, stripped)
            async with http.post(site.url + "/whip", data=stripped, headers=headers) as response:
                await refused(response, 400, words)
    await asyncio.sleep(1)
    assert await live(site.admin) == {}
    assert (await get(site.admin, "/api/recordings"))["recordings"] == []
    assert events == []


async def test_whip_is_rate_limited_per_camera_and_per_address(frozen_site: Site) -> None:
    site = frozen_site
    credential = site.credential("Ray Rapid")
    async with attacker("127.0.0.3") as http:
        statuses = []
        for _ in range(11):
            async with http.post(site.url + "/whip", data="v=0", headers=publish_headers(site, credential)) as response:
                statuses.append(response.status)
        assert statuses == [400] * 10 + [429]
        async with http.post(site.url + "/whip", data="v=0", headers=publish_headers(site, credential)) as response:
            await refused(response, 429, "too many requests from this camera: try again in 6 s")
            assert response.headers["Retry-After"] == "6"
        site.clock.advance(timedelta(seconds=7))  # type: ignore[attr-defined]
        async with http.post(site.url + "/whip", data="v=0", headers=publish_headers(site, credential)) as response:
            assert response.status == 400, await response.text()  # this camera may again

    async with attacker("127.0.0.4") as http:  # guessing credentials from one address
        statuses = []
        for _ in range(101):
            async with http.post(site.url + "/whip", data="v=0", headers={"Authorization": "Bearer guess"}) as response:
                statuses.append(response.status)
        assert statuses == [403] * 100 + [429]
        async with http.post(site.url + "/whip", data="v=0", headers=publish_headers(site, credential)) as response:
            await refused(response, 429, "too many requests from this address")
    async with attacker("127.0.0.5") as http:  # another address is not held back
        async with http.post(site.url + "/whip", data="v=0") as response:
            await refused(response, 401, "no device credential")


# --- a camera recovers by itself -------------------------------------------------------------


async def test_a_camera_comes_back_after_the_server_restarts(tmp_path: Path) -> None:
    SystemKeyPair.generate().save(tmp_path / "keys")
    server = await asyncio.to_thread(Server, tmp_path, tmp_path / "keys")
    camera = Camera(tmp_path, server.url, tmp_path / "keys", "Bo Bounce")
    try:
        await asyncio.to_thread(camera.wait_for, "streaming")
        first = await asyncio.to_thread(server.wait_for_stream, "Bo Bounce")
        await asyncio.to_thread(server.restart)
        await asyncio.to_thread(camera.wait_for, r"error: lost the connection to the server")
        again = await asyncio.to_thread(server.wait_for_stream, "Bo Bounce", 30)
        assert again["id"] != first["id"]
        await asyncio.to_thread(camera.wait_for, f"streaming: stream {again['id']}")  # media flows again
    finally:
        await asyncio.to_thread(camera.stop)
        await asyncio.to_thread(server.stop)
