"""Camera agent -> server -> Python viewers, all real processes and real WebRTC."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bwlive_rtc.crypto.acknowledgement import seal_acknowledgement, viewer_sender
from bwlive_rtc.crypto.chain import ChainReader, frame_hash
from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.sframe import Kind, clear_prefix_length, decode_header
from bwlive_rtc.crypto.signing import StreamManifest
from bwlive_rtc.crypto.system_signing import SigningPublicKey
from tests.viewing import DecodingViewer


async def test_two_viewers_decrypt_decode_and_get_positions(server, start_camera, system_keys, api) -> None:
    start_camera("Alex Jansen")
    stream = server.wait_for_stream("Alex Jansen")
    first, second = DecodingViewer(api, stream, system_keys), DecodingViewer(api, stream, system_keys)
    await asyncio.gather(first.start(), second.start())
    await asyncio.sleep(4)
    await asyncio.gather(first.stop(), second.stop())
    for viewer in (first, second):
        numbers = [n for _, n, _ in viewer.codes]
        assert len(numbers) > 30, f"only {len(numbers)} readable frames in 4 s"
        assert numbers == sorted(numbers) and numbers[-1] - numbers[0] >= 30
        assert viewer.audio_packets > 100  # 50 Opus packets per second, each decrypted
        positions = [m for m in viewer.messages if m["type"] == "position"]  # beside the camera's status messages
        assert positions and 52 < positions[-1]["lat"] < 53


async def test_the_cameras_checkpoints_sign_every_frame_a_viewer_gets(server, start_camera, system_keys, api,
                                                                     workdir: Path) -> None:
    start_camera("Kim Signed")
    stream = server.wait_for_stream("Kim Signed")
    viewer = DecodingViewer(api, stream, system_keys)
    await viewer.start()
    await asyncio.sleep(3)
    await viewer.stop()
    system = SigningPublicKey.load(workdir / "keys")  # what the link with key carries
    manifest, certificate, payload = StreamManifest.read(stream["manifest"], system.key)
    reader = ChainReader(certificate.device_public_key, payload, manifest.started_at, joining=True)
    signed = {(kid, ctr): digest for token in viewer.checkpoints for kid, ctr, digest in reader.accept(token).units}
    assert len(viewer.checkpoints) >= 4  # every 0.5 s, relayed in order (the reader refuses any other)
    received = {decode_header(frame, clear_prefix_length(Kind.VIDEO, frame))[:2]: frame for frame in viewer.encrypted_frames}
    counters = [ctr for kid, ctr in signed if kid == 0]
    between = [(kid, ctr) for kid, ctr in received if min(counters) <= ctr <= max(counters)]  # the checkpoints' span
    assert len(between) >= 5 and all(signed.get(unit) == frame_hash(received[unit]) for unit in between)


async def test_data_only_subscription_brings_encrypted_positions(server, start_camera, system_keys, api) -> None:
    start_camera("Noor Smit")
    stream = server.wait_for_stream("Noor Smit")
    viewer = DecodingViewer(api, stream, system_keys, media=False)
    await viewer.start()
    answer = viewer.client.pc.remoteDescription.sdp
    assert "m=application" in answer and "m=video" not in answer and "m=audio" not in answer
    for _ in range(60):
        if sum(m["type"] == "position" for m in viewer.messages) >= 2:
            break
        await asyncio.sleep(0.1)
    await viewer.stop()
    assert not viewer.encrypted_frames and viewer.audio_packets == 0
    positions = [m for m in viewer.messages if m["type"] == "position"]  # each decrypted with the content key
    assert len(positions) >= 2 and 52 < positions[-1]["lat"] < 53


async def test_late_joiner_gets_a_picture_within_one_second(server, start_camera, system_keys, api) -> None:
    start_camera("Sam de Vries")
    stream = server.wait_for_stream("Sam de Vries")
    await asyncio.sleep(3.5)  # well past the camera's first keyframe
    for _ in range(3):
        viewer = DecodingViewer(api, stream, system_keys)
        await viewer.start()
        await asyncio.sleep(1.5)
        await viewer.stop()
        assert viewer.codes, "no picture at all"
        assert viewer.codes[0][0] < 1.0, f"first picture after {viewer.codes[0][0]:.2f} s"


async def test_acknowledge_reaches_the_camera(server, start_camera, system_keys, api) -> None:
    """The console's path: the browser seals the press, the server relays it with the
    signed-in user's name, the camera opens it and vibrates."""
    camera = start_camera("Robin Bakker")
    stream = server.wait_for_stream("Robin Bakker")
    stream_key = KeyEnvelope.from_json(stream["key_envelope"]).open(system_keys)
    sealed = seal_acknowledgement(viewer_sender(stream_key), int(time.time() * 1000))
    async with api.request("POST", f"/api/streams/{stream['id']}/acknowledge", json={"sealed": sealed}) as response:
        assert response.status == 200, await response.text()
    await asyncio.to_thread(camera.wait_for, "acknowledged: by Ada Admin", 5)


async def test_silent_viewer_is_dropped_and_undecryptable_viewer_gets_no_keyframes(tmp_path, system_keys) -> None:
    from bwlive_rtc.kernel.appkeys import EVENTS
    from bwlive_rtc.kernel.config import Settings
    from bwlive_rtc.server import start_server
    from bwlive_rtc.streams.hub import ROUTER
    from bwlive_rtc.viewer.session import ApiClient
    from tests.postgres import database_of
    from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Camera, bootstrap_admin

    system_keys.save(tmp_path / "keys")
    bootstrap_admin(tmp_path / "data", tmp_path / "keys")
    runner, port = await start_server(
        Settings(port=0, keys_dir=tmp_path / "keys", data_dir=tmp_path / "data", consumer_timeout=2.0,
                 database_url=database_of(tmp_path / "data"))
    )
    router = runner.app[ROUTER]
    events: list = []
    runner.app[EVENTS].on("*", events.append)
    camera = Camera(tmp_path, f"http://127.0.0.1:{port}", tmp_path / "keys", "Kim Visser")
    try:
        await asyncio.to_thread(camera.wait_for, "streaming")
        producer = next(iter(router.producers.values()))
        client = await ApiClient.signed_in(f"http://127.0.0.1:{port}", ADMIN_EMAIL, ADMIN_PASSWORD)
        viewer = DecodingViewer(client, producer.describe(), system_keys)
        await viewer.start()
        await asyncio.sleep(1.0)
        consumer = next(iter(producer.consumers.values()))
        video = consumer.tracks["video"]
        pacer = producer.tracks["video"].pacer
        consumer.decrypting = False  # what the browser reports when it cannot decrypt
        before = pacer.sent
        for _ in range(20):
            video.on_keyframe_request()
        consumer.decrypting = True
        for _ in range(20):
            video.on_keyframe_request()  # a storm: only the budget gets through
        await asyncio.sleep(0.6)
        assert 1 <= pacer.sent - before <= 3
        # no keepalive from this viewer: it is dropped after the timeout
        for _ in range(60):
            if not producer.consumers:
                break
            await asyncio.sleep(0.1)
        assert not producer.consumers, "a silent viewer was not dropped"
        await viewer.stop()
        await client.close()
        await asyncio.to_thread(camera.stop)
        for _ in range(50):
            if len(events) == 2:
                break
            await asyncio.sleep(0.1)
        assert [(e.type, e.camera) for e in events] == [("stream.started", "Kim Visser"), ("stream.ended", "Kim Visser")]
    finally:
        camera.stop()
        await runner.cleanup()
