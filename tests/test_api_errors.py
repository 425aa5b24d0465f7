"""Bad input gets a status code and a sentence, never a traceback."""
from __future__ import annotations

import json
import time
from pathlib import Path

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bwlive_rtc.camera.identity import device_key_path, load_device_key
from bwlive_rtc.camera.publish import SignedStream
from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.sframe import StreamKey
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.kernel.appkeys import SETTINGS
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.server import start_server
from bwlive_rtc.viewer.session import ApiClient
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, bootstrap_admin, dock_camera


@pytest.fixture
async def api(tmp_path: Path):
    pair = SystemKeyPair.generate()
    pair.save(tmp_path / "keys")
    bootstrap_admin(tmp_path / "data", tmp_path / "keys")
    runner, port = await start_server(Settings(port=0, keys_dir=tmp_path / "keys", data_dir=tmp_path / "data"))
    client = await ApiClient.signed_in(f"http://127.0.0.1:{port}", ADMIN_EMAIL, ADMIN_PASSWORD)
    client.settings = runner.app[SETTINGS]
    yield client, pair
    await client.close()
    await runner.cleanup()


def _envelope(pair: SystemKeyPair) -> str:
    return KeyEnvelope.seal(StreamKey.new(), pair.public).to_header()


async def _error(response: aiohttp.ClientResponse) -> str:
    body = await response.json()
    assert set(body) == {"error"} and "Traceback" not in body["error"]
    return body["error"]


async def test_publish_refusals(api, tmp_path: Path) -> None:
    session, pair = api
    settings = session.settings
    keys: dict[str, Ed25519PrivateKey] = {}

    def credential(name: str) -> str:  # three cameras: each may publish 10 times at once (rate limit)
        dock_file = dock_camera(settings.data_dir, name, tmp_path / f"{name}.json")
        keys[name] = load_device_key(device_key_path(dock_file))
        return json.loads(dock_file.read_text())["credential"]

    sdp = {"Content-Type": "application/sdp"}
    now_ms = int(time.time() * 1000)
    auth = {**sdp, "Authorization": f"Bearer {credential('Refused Camera')}", "Bwlive-Camera-Time": str(now_ms)}
    keyed = {**sdp, "Authorization": f"Bearer {credential('Refused Keyed')}", "Bwlive-Content-Key": _envelope(pair)}

    def signed(headers: dict[str, str], body: str, key: Ed25519PrivateKey | None = None) -> dict[str, str]:
        """``headers`` with the camera's proof of ``body`` and its stream manifest (made by
        ``key``, the camera's own by default)."""
        stream = SignedStream.start(headers["Authorization"].removeprefix("Bearer "), key or keys["Refused Signer"],
                                    KeyEnvelope.from_header(headers["Bwlive-Content-Key"]), now_ms)
        return {**headers, **stream.headers(body)}

    good = {**sdp, "Authorization": f"Bearer {credential('Refused Signer')}", "Bwlive-Camera-Time": str(now_ms),
            "Bwlive-Content-Key": _envelope(pair)}
    cases = [
        (sdp, "v=0\r\n", 401, "no device credential: dock it"),
        ({**sdp, "Authorization": "Bearer bwlive-cred-v1.e30.AAAA"}, "v=0\r\n", 403,
         "not valid for this system: dock the camera"),
        (auth, "v=0\r\n", 400, "Bwlive-Content-Key"),
        ({**auth, "Bwlive-Content-Key": "garbage"}, "v=0\r\n", 400, "not a key envelope"),
        ({**auth, "Bwlive-Content-Key": _envelope(SystemKeyPair.generate())}, "v=0\r\n", 400, "dock the camera"),
        ({**good, "Content-Type": "text/plain"}, "v=0", 415, "application/sdp"),
        # a copied credential without the camera's device key, or a proof of another offer, does not publish
        (good, "v=0\r\n", 403, "this camera did not sign its publish (Bwlive-Proof header)"),
        (signed(good, "v=0\r\n", Ed25519PrivateKey.generate()), "v=0\r\n", 403,
         "not signed by the device key of camera SN-REFUSED-SIGNER: a credential alone does not make a camera"),
        (signed(good, "v=0\r\n"), "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n", 403, "not signed by the device key"),
        ({**signed(good, "v=0\r\n"), "Bwlive-Camera-Time": str(now_ms + 1)}, "v=0\r\n", 403,
         "not signed by the device key"),
        ({**signed(good, "v=0\r\n"), "Bwlive-Proof": "!!"}, "v=0\r\n", 403, "not signed by the device key"),
        (signed(good, "hello"), "hello", 400, "not an SDP offer"),
        (signed(good, "v=0\r\nm=nonsense\r\n"), "v=0\r\nm=nonsense\r\n", 400, "SDP offer"),
        (signed(good, h264 := "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\na=rtpmap:102 H264/90000\r\n"), h264,
         400, "VP8"),
        (keyed, "v=0", 400, "send the camera's clock in the Bwlive-Camera-Time header"),
        ({**keyed, "Bwlive-Camera-Time": "9" * 4000}, "v=0", 400, "in milliseconds since 1970"),
        ({**keyed, "Bwlive-Camera-Time": "soon"}, "v=0", 400, "in milliseconds since 1970"),
        ({**keyed, "Bwlive-Camera-Time": str(now_ms + 42_000)}, "v=0", 400,
         "s ahead of the server's (tolerance 10 s): set its time (NTP)"),
        ({**keyed, "Bwlive-Camera-Time": str(now_ms - 3_600_000)}, "v=0", 400, "3600 s behind"),
    ]
    for headers, body, status, words in cases:
        async with session.request("POST", "/whip", data=body, headers=headers) as response:
            assert response.status == status, (headers, await response.text())
            assert words in await _error(response)


async def test_unknown_streams_and_bad_bodies(api) -> None:
    session, _ = api
    for method, path in [
        ("POST", "/whep/nope"), ("DELETE", "/whep/nope/x"), ("POST", "/whep/nope/x/keepalive"),
        ("POST", "/api/streams/nope/end"),
    ]:
        async with session.request(method, path, data="v=0", headers={"Content-Type": "application/sdp"}) as response:
            assert response.status == 404
            assert "no live stream" in await _error(response)
    async with session.request("GET", "/no/such/page") as response:
        assert response.status == 404
    async with session.request("GET", "/api/system") as response:
        info = await response.json()
        assert info["key_id"] == api[1].public.key_id and info["thumbprint"] == api[1].public.thumbprint


async def test_https_with_a_self_signed_certificate(tmp_path: Path) -> None:
    SystemKeyPair.generate().save(tmp_path / "keys")
    settings = Settings(port=0, keys_dir=tmp_path / "keys", data_dir=tmp_path / "data", tls=True)
    runner, port = await start_server(settings)
    try:
        assert settings.base_url(port).startswith("https://")
        async with aiohttp.ClientSession() as session:
            async with session.get(f"https://127.0.0.1:{port}/api/system", ssl=False) as response:
                assert response.status == 200
        assert (tmp_path / "data" / "tls" / "self-signed.crt").exists()
    finally:
        await runner.cleanup()
