"""Issue 12, part 1: a camera continues its running stream over a new connection (a
resume), on loopback with a real server and a real in-process camera agent: the same
stream, Producer, RTP series and SFrame counters; and a resume tried as an attacker would
(another camera, a thief with the credential, a replay, another manifest) is refused while
the stream goes on."""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aiohttp
import pytest
from aiortc import RTCPeerConnection
from aiortc.rtp import RtpPacket
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bwlive_rtc.camera.agent import CameraAgent, CameraOptions
from bwlive_rtc.camera.publish import SignedStream
from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.rfc9605 import decode_header
from bwlive_rtc.crypto.sframe import Kind, StreamKey, clear_prefix_length
from bwlive_rtc.sfu.producer import Producer
from bwlive_rtc.sfu.router import Router
from bwlive_rtc.sfu.vp8 import Vp8Assembler, starts_keyframe
from bwlive_rtc.streams.hub import ROUTER
from tests.test_red_team_camera import Identity, Site, site  # noqa: F401 (site is a fixture)


async def _until(condition: Callable[[], bool], timeout: float = 20.0, what: str = "",
                 describe: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}{describe()}")
        await asyncio.sleep(0.05)


@dataclass
class Running:
    agent: CameraAgent
    identity: Identity
    router: Router
    producer: Producer
    removed: list[Producer]


@pytest.fixture
async def running(site: Site) -> AsyncIterator[Running]:
    """An in-process camera agent streaming to the site (video and audio, no GPS)."""
    identity = site.credential("Resuming Camera")
    assert identity.device_key is not None
    agent = CameraAgent(CameraOptions(site.url, "Resuming Camera", site.keys.public, identity.credential,
                                      identity.device_key, gps=False, fps=15))
    await agent.start()
    try:
        await _until(lambda: agent.state.mode == "streaming", what="the camera to stream")
        router = site.app[ROUTER]
        removed: list[Producer] = []
        router.on("producer_removed", removed.append)
        yield Running(agent, identity, router, router.producers[agent.stream_id], removed)
    finally:
        await agent.stop()


def _video_units(packets: list[RtpPacket]) -> list[tuple[int, bool]]:
    """(SFrame counter, key frame) of each complete video frame, in order."""
    assembler, units = Vp8Assembler(), []
    for packet in packets:
        frame = assembler.add(packet)
        if frame is not None:
            _, counter, _ = decode_header(frame.data, clear_prefix_length(Kind.VIDEO, frame.data))
            units.append((counter, frame.data[0] & 0x01 == 0))
    return units


async def test_a_resumed_stream_keeps_its_id_producer_series_and_counters(running: Running) -> None:
    agent, producer = running.agent, running.producer
    stream_id = agent.stream_id
    track = producer.tracks["video"]
    first_receiver = track.receiver
    seen: list[tuple[bool, RtpPacket]] = []  # (over the new connection, packet as forwarded)
    unsubscribe = track.subscribe(lambda source: seen.append((track.receiver is not first_receiver, source.packet)))
    await asyncio.sleep(1.0)
    agent._lost("test: the path broke")  # what the path watch or ICE/DTLS report on a real network change
    await _until(lambda: agent.resumes == 1 and producer.resumes == 1 and agent.state.mode == "streaming",
                 what="the resume", describe=lambda: f": camera {agent.state}, server resumes {producer.resumes}")
    await _until(lambda: sum(1 for new, _ in seen if new) > 30, what="media over the new connection")
    unsubscribe()

    assert running.router.producers[stream_id] is producer and agent.stream_id == stream_id
    assert running.removed == []  # no stream ended, for viewers, webhooks or the recording
    assert producer.pc.connectionState == "connected" and producer.pending is None
    packets = [packet for _, packet in seen]
    assert len({packet.ssrc for packet in packets}) == 1, "viewers see one RTP series"
    steps = [(b.sequence_number - a.sequence_number) & 0xFFFF for a, b in zip(packets, packets[1:], strict=False)]
    assert all(1 <= step < 50 for step in steps), steps  # onward, no repeat, no wild jump at the splice
    assert all((b.timestamp - a.timestamp) & 0xFFFFFFFF < 90_000 * 3 for a, b in zip(packets, packets[1:], strict=False))
    units = _video_units(packets)
    counters = [counter for counter, _ in units]
    assert counters == sorted(set(counters)), "an SFrame counter was used twice under the stream's key"
    first_new = next(packet for new, packet in seen if new)
    assert starts_keyframe(first_new.payload), "the new connection starts with a key frame"


@dataclass
class Attempt:
    """Resumes of the running stream as an attacker (or the camera itself) would send them."""

    location: str
    signed: SignedStream
    stream_id: str
    offer: str

    async def send(self, headers: dict[str, str], url: str | None = None, body: str | None = None) -> tuple[int, str]:
        async with aiohttp.ClientSession() as http, http.post(
                url or self.location, data=body or self.offer,
                headers={"Content-Type": "application/sdp", **headers}) as response:
            return response.status, await response.text()


def camera_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
async def attempt(running: Running) -> AsyncIterator[Attempt]:
    """The running stream's resource and signed stream, and a real offer to resume it with."""
    agent = running.agent
    assert agent._location is not None and agent._stream is not None
    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="sendonly")
    pc.addTransceiver("audio", direction="sendonly")
    pc.createDataChannel("bwlive")
    await pc.setLocalDescription(await pc.createOffer())
    try:
        yield Attempt(agent._location, agent._stream.signed, agent.stream_id, pc.localDescription.sdp)
    finally:
        await pc.close()
    # the stream went on all along (a resume that never connected replaces nothing)
    assert running.router.producers[agent.stream_id] is running.producer and running.removed == []
    assert running.producer.resumes == 0 and running.producer.quiet_for() < 1.0


async def test_another_camera_a_thief_or_a_guess_cannot_resume_a_stream(attempt: Attempt, site: Site) -> None:
    signed = attempt.signed
    other = site.credential("Other Camera")
    assert other.device_key is not None
    # another camera, even one that learned the resource URL, with its own good proof
    other_stream = SignedStream.start(other.credential, other.device_key,
                                      KeyEnvelope.seal(StreamKey.new(), site.keys.public), camera_ms())
    status, text = await attempt.send(other_stream.resume_headers(attempt.offer, attempt.stream_id, camera_ms()))
    assert status == 404 and "no WHIP session" in text, text
    # the camera's credential and resource URL without its device key (a copied dock file)
    thief = SignedStream(signed.credential, Ed25519PrivateKey.generate(), signed.envelope, signed.camera_time_ms,
                         signed.manifest)
    status, text = await attempt.send(thief.resume_headers(attempt.offer, attempt.stream_id, camera_ms()))
    assert status == 403 and "not signed by the device key" in text, text
    # the resource's secret guessed
    headers = signed.resume_headers(attempt.offer, attempt.stream_id, camera_ms())
    status, text = await attempt.send(headers, url=attempt.location[:-4] + "AAAA")
    assert status == 404, text
    # no credential; no proof
    status, text = await attempt.send({k: v for k, v in headers.items() if k != "Authorization"})
    assert status == 401, text
    status, text = await attempt.send({k: v for k, v in headers.items() if k != "Bwlive-Proof"})
    assert status == 403 and "did not sign" in text, text


async def test_a_resume_is_of_this_stream_and_taken_once(attempt: Attempt, site: Site) -> None:
    signed = attempt.signed
    # the camera's device key, but a new stream's manifest and key: not this stream
    fresh = SignedStream.start(signed.credential, signed.device_key,
                               KeyEnvelope.seal(StreamKey.new(), site.keys.public), camera_ms())
    status, text = await attempt.send(fresh.resume_headers(attempt.offer, attempt.stream_id, camera_ms()))
    assert status == 403 and "manifest" in text, text
    # a publish proof is no resume proof (it binds no stream)
    headers = signed.resume_headers(attempt.offer, attempt.stream_id, camera_ms())
    status, text = await attempt.send({**headers, "Bwlive-Proof": signed.headers(attempt.offer)["Bwlive-Proof"]})
    assert status == 403, text
    # a malformed offer
    status, text = await attempt.send(signed.resume_headers("v=0 nonsense", attempt.stream_id, camera_ms()),
                                      body="v=0 nonsense")
    assert status == 400, text
    # a good resume is taken once; the same request again is a replay
    good = signed.resume_headers(attempt.offer, attempt.stream_id, camera_ms() + 1000)
    status, text = await attempt.send(good)
    assert status == 200 and text.startswith("v=0"), text
    status, text = await attempt.send(good)
    assert status == 409 and "once" in text, text
