"""Camera agent -> server -> Python viewers, all real processes and real WebRTC."""
from __future__ import annotations

import asyncio
import json

from bwlive_rtc.crypto.sframe import FrameEncryptor, Kind
from tests.viewing import DecodingViewer


async def test_two_viewers_decrypt_decode_and_get_positions(server, start_camera, system_keys) -> None:
    start_camera("Alex Jansen")
    stream = server.wait_for_stream("Alex Jansen")
    first, second = DecodingViewer(server.url, stream, system_keys), DecodingViewer(server.url, stream, system_keys)
    await asyncio.gather(first.start(), second.start())
    await asyncio.sleep(4)
    await asyncio.gather(first.stop(), second.stop())
    for viewer in (first, second):
        numbers = [n for _, n, _ in viewer.codes]
        assert len(numbers) > 30, f"only {len(numbers)} readable frames in 4 s"
        assert numbers == sorted(numbers) and numbers[-1] - numbers[0] >= 30
        assert viewer.audio_packets > 100  # 50 Opus packets per second, each decrypted
        assert viewer.messages and viewer.messages[-1]["type"] == "position"
        assert 52 < viewer.messages[-1]["lat"] < 53


async def test_late_joiner_gets_a_picture_within_one_second(server, start_camera, system_keys) -> None:
    start_camera("Sam de Vries")
    stream = server.wait_for_stream("Sam de Vries")
    await asyncio.sleep(3.5)  # well past the camera's first keyframe
    for _ in range(3):
        viewer = DecodingViewer(server.url, stream, system_keys)
        await viewer.start()
        await asyncio.sleep(1.5)
        await viewer.stop()
        assert viewer.codes, "no picture at all"
        assert viewer.codes[0][0] < 1.0, f"first picture after {viewer.codes[0][0]:.2f} s"


async def test_acknowledge_reaches_the_camera(server, start_camera, system_keys) -> None:
    camera = start_camera("Robin Bakker")
    stream = server.wait_for_stream("Robin Bakker")
    viewer = DecodingViewer(server.url, stream, system_keys)
    await viewer.start()
    for _ in range(50):
        if viewer.client.channel.readyState == "open" and viewer.messages:
            break
        await asyncio.sleep(0.1)
    ack = FrameEncryptor(viewer.content_key, Kind.OPERATOR_DATA, first_counter=2**40 + 17)
    viewer.client.channel.send(ack.encrypt(json.dumps({"type": "acknowledge", "by": "Operator One"}).encode()))
    await asyncio.to_thread(camera.wait_for, "acknowledged: by Operator One", 5)
    await viewer.stop()
