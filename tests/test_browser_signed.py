"""Issue 11, part 3, in real Chromium: a signed stream plays with the verified mark and
the camera's serial; a malicious server is caught, each time with the sentence the
operator sees. The server runs in this process (on a thread of its own) so that the test
can make it malicious, monkeypatching its forwarding: never the product code. The
camera is a real agent process; the media path is real WebRTC."""
from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiortc.rtp import RtpPacket
from playwright.sync_api import Browser, Page

from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.sframe import StreamKey
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.crypto.system_signing import SigningKeyPair, SigningPublicKey
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.server import start_server
from bwlive_rtc.sfu.consumer import Consumer, ConsumerTrack
from bwlive_rtc.sfu.rewriter import SourcePacket
from bwlive_rtc.streams.hub import ROUTER
from tests.processes import Camera, bootstrap_admin
from tests.test_browser_live import frame_codes, open_console, open_tile

CAMERA = "Vera Signed"
SERIAL = "SN-VERA-SIGNED"


class ThreadedServer:
    """The real server, in this process on an event loop of its own thread."""

    def __init__(self, workdir: Path) -> None:
        bootstrap_admin(workdir / "data", workdir / "keys")
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        settings = Settings(port=0, keys_dir=workdir / "keys", data_dir=workdir / "data")
        self.runner, port = self.call(start_server(settings))
        self.app: web.Application = self.runner.app
        self.url = f"http://127.0.0.1:{port}"
        self.signing_key = SigningPublicKey.load(workdir / "keys").b64u()  # what the link carries

    def call(self, work: Any) -> Any:
        """Run a coroutine, or a plain function, on the server's loop; its result."""

        async def run() -> Any:
            return await work if asyncio.iscoroutine(work) else work()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(30)

    def stop(self) -> None:
        self.call(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)


@dataclass
class Malice:
    """A malicious server's forwarding: it keeps what it forwarded to each viewer and can
    send it again, as new packets right after the newest (sequence numbers and RTP times
    moved on, so the browser takes them), or send an old position again."""

    forwarded: dict[ConsumerTrack, list[tuple[float, RtpPacket]]] = field(default_factory=dict)
    shift: dict[ConsumerTrack, int] = field(default_factory=dict)
    positions: list[tuple[float, Consumer, bytes]] = field(default_factory=list)
    deliver: Callable[[ConsumerTrack, SourcePacket], None] = ConsumerTrack.deliver  # the honest ones
    send_data: Callable[[Consumer, bytes | str], None] = Consumer.send_data

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        deliver, send_data = self.deliver, self.send_data

        def forwarding(track: ConsumerTrack, source: SourcePacket) -> None:
            self.forwarded.setdefault(track, []).append((time.monotonic(), source.packet))
            shift = self.shift.get(track, 0)
            deliver(track, _moved(source.packet, shift) if shift else source)

        def relaying(consumer: Consumer, message: bytes | str) -> None:
            if isinstance(message, bytes):
                self.positions.append((time.monotonic(), consumer, message))
            send_data(consumer, message)

        monkeypatch.setattr(ConsumerTrack, "deliver", forwarding)
        # every packet through ``forwarding``: a viewer never joins the track's fan-out
        monkeypatch.setattr(ConsumerTrack, "join", lambda track, source: track.output.forward(source))
        monkeypatch.setattr(Consumer, "send_data", relaying)

    def resend(self, kind: str, ago: int, count: int) -> int:
        """Send again ``count`` whole frames, the first of them ``ago`` frames back (on the
        server's loop); returns how many frames."""
        track = next(t for t in reversed(list(self.forwarded)) if t.source.kind == kind)
        packets = [p for _, p in self.forwarded[track]]
        newest = packets[-1]
        frames = list(dict.fromkeys(p.timestamp for p in packets))[-ago:][:count]  # in the order sent
        again = [p for p in packets if p.timestamp in frames]
        shift = self.shift.get(track, 0)
        for i, packet in enumerate(again):
            moved = RtpPacket(payload_type=packet.payload_type, marker=packet.marker,
                              sequence_number=(newest.sequence_number + shift + 1 + i) & 0xFFFF,
                              timestamp=(newest.timestamp + 1 + frames.index(packet.timestamp)) & 0xFFFFFFFF,
                              ssrc=packet.ssrc, payload=packet.payload)
            self.deliver(track, SourcePacket(moved))
        self.shift[track] = shift + len(again)
        return len(frames)

    def resend_position(self, older_than_s: float, map_viewer: bool = False) -> float:
        """Send a tile's subscription (or the map's data-only one) again a sealed camera
        message (a position or a status) forwarded to it at least ``older_than_s`` seconds
        ago; returns its age."""
        sent_at, consumer, message = next(p for p in self.positions if time.monotonic() - p[0] >= older_than_s
                                          and bool(p[1].tracks) != map_viewer)
        self.send_data(consumer, message)
        return time.monotonic() - sent_at


def _moved(packet: RtpPacket, shift: int) -> SourcePacket:
    return SourcePacket(RtpPacket(payload_type=packet.payload_type, marker=packet.marker,
                                  sequence_number=(packet.sequence_number + shift) & 0xFFFF,
                                  timestamp=packet.timestamp, ssrc=packet.ssrc, payload=packet.payload))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ThreadedServer, SystemKeyPair, dict]]:
    workdir = tmp_path_factory.mktemp("signed")
    keys = SystemKeyPair.generate()
    keys.save(workdir / "keys")
    SigningKeyPair.generate().save(workdir / "keys")  # as `bwlive system keys generate` makes both
    server = ThreadedServer(workdir)
    camera = Camera(workdir, server.url, workdir / "keys", CAMERA)
    try:
        camera.wait_for("streaming", timeout=40)
        stream = next(s for s in server.call(lambda: [p.describe() for p in server.app[ROUTER].producers.values()]))
        yield server, keys, stream
    finally:
        camera.stop()
        server.stop()


@pytest.fixture
def malice(monkeypatch: pytest.MonkeyPatch) -> Malice:
    """The in-process server turns malicious for one test."""
    evil = Malice()
    evil.install(monkeypatch)
    return evil


def tile_selector(stream: dict, **attributes: str) -> str:
    return f'.tile[data-stream-id="{stream["id"]}"]' + "".join(f'[data-{k}="{v}"]' for k, v in attributes.items())


def watch(browser: Browser, site: tuple[ThreadedServer, SystemKeyPair, dict], link: str | None = None) -> Page:
    """A signed-in page with the link with key (and signing key), the stream's tile open
    and verified."""
    server, keys, stream = site
    _, page = open_console(browser, link or f"{keys.link(server.url)}&sig={server.signing_key}")
    open_tile(page, stream["id"])
    return page


def refused(page: Page, stream: dict, words: str, timeout_ms: int = 15_000) -> str:
    """The tile stops, not live, and says why; no frame is decoded any more."""
    page.wait_for_selector(tile_selector(stream, state="error", error="unverified", verified="failed"), timeout=timeout_ms)
    tile = page.locator(tile_selector(stream))
    message = tile.locator(".tile-message").inner_text()
    assert message.startswith("Not verified: ") and words in message, message
    decoded = "(v) => v.getVideoPlaybackQuality().totalVideoFrames"
    page.wait_for_timeout(300)  # a frame let through before the failure may still be in the decoder
    before = tile.locator("video").evaluate(decoded)
    page.wait_for_timeout(1000)
    assert tile.locator("video").evaluate(decoded) == before, "frames still decoded after the failure"
    return message


def verified(page: Page, stream: dict) -> None:
    page.wait_for_selector(tile_selector(stream, state="live", verified="yes"), timeout=15_000)


def test_a_signed_stream_plays_with_the_verified_mark_and_serial(site, browser: Browser) -> None:
    server, keys, stream = site
    page = watch(browser, site)
    try:
        verified(page, stream)
        tile = page.locator(tile_selector(stream))
        assert tile.locator(".tile-verified").inner_text() == f"✓ {SERIAL}"
        codes = frame_codes(page, stream["id"], 4)  # checked frames go on being shown, in order
        assert len(codes) >= 10 and codes[-1]["frame"] - codes[0]["frame"] >= 60
        page.wait_for_function("(s) => document.querySelector(s).innerText.includes('52.')",
                               arg=tile_selector(stream) + " .tile-position")
        assert tile.get_attribute("data-verified") == "yes"  # 4 s of frames, each in a signed checkpoint
        cost = page.evaluate("(id) => window.bwlive.tiles[id].verificationCost()", stream["id"])
        assert cost["frames"] > 100 and cost["verifyMs"] > 0
        print(f"verification per frame: {cost['verifyMs'] / cost['frames']:.3f} ms, "
              f"frame in the transform: {cost['holdMs'] / cost['frames']:.3f} ms ({cost['frames']} frames)")
    finally:
        page.context.close()


def test_a_link_without_signing_key_plays_and_asks_for_a_new_link(site, browser: Browser) -> None:
    server, keys, stream = site
    page = watch(browser, site, keys.link(server.url))
    try:
        page.wait_for_selector(tile_selector(stream, state="live", verified="no-signing-key"), timeout=15_000)
        text = page.locator(tile_selector(stream) + " .tile-verified").inner_text()
        assert "no signing key" in text and "new link" in text
    finally:
        page.context.close()


def test_a_server_forged_envelope_is_not_shown(site, browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    server, keys, stream = site
    producer = server.call(lambda: server.app[ROUTER].producers[stream["id"]])
    forged = KeyEnvelope.seal(StreamKey.new(), keys.public).to_json()  # a key of the server's choice
    monkeypatch.setattr(producer, "key_envelope", forged)
    page = watch(browser, site)
    try:
        assert refused(page, stream, f"the stream key was not made by camera {SERIAL}") == (
            f"Not verified: the stream key was not made by camera {SERIAL}.")
        assert page.locator(tile_selector(stream) + " video").evaluate("v => v.videoWidth") == 0
    finally:
        page.context.close()


@pytest.mark.parametrize("kind, ago, count, words", [
    ("video", 30, 1, "replayed video frame (video frame "),  # one frame, from 1 s ago, sent again
    ("audio", 50, 1, "replayed audio frame (audio frame "),
    ("video", 90, 60, "replayed video frame (video frame "),  # a looped 2 s segment
])
def test_a_replayed_frame_or_looped_segment_is_refused(
        site, browser: Browser, malice: Malice, kind: str, ago: int, count: int, words: str) -> None:
    server, _, stream = site
    page = watch(browser, site)
    try:
        verified(page, stream)
        page.wait_for_timeout(3500)  # more than 90 frames forwarded
        assert server.call(lambda: malice.resend(kind, ago, count)) == count
        refused(page, stream, words)
    finally:
        page.context.close()


def test_a_stale_position_is_refused(site, browser: Browser, malice: Malice) -> None:
    server, _, stream = site
    page = watch(browser, site)
    try:
        verified(page, stream)
        page.wait_for_timeout(7000)
        age = server.call(lambda: malice.resend_position(6.5))
        message = refused(page, stream, "is stale")
        assert age >= 6.5 and message.startswith("Not verified: position from ")
    finally:
        page.context.close()


def test_the_map_shows_signed_positions_and_drops_a_stream_whose_positions_are_not(
        site, browser: Browser, malice: Malice) -> None:
    server, _, stream = site
    page = watch(browser, site)
    try:
        page.click("button.nav-view[data-view=map]")
        marker = page.locator(f'.cam-marker[data-stream-id="{stream["id"]}"]')
        marker.wait_for(timeout=20_000)  # checked positions are shown
        page.wait_for_timeout(7000)  # past the first checkpoints: still there, each position signed
        assert marker.count() == 1
        server.call(lambda: malice.resend_position(6.5, map_viewer=True))  # the map's, sent again by the server
        marker.wait_for(state="detached", timeout=10_000)
        page.wait_for_timeout(2000)
        assert marker.count() == 0  # and it does not come back
    finally:
        page.context.close()


def test_the_map_does_not_show_a_stream_the_server_forged(
        site, browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    server, keys, stream = site
    producer = server.call(lambda: server.app[ROUTER].producers[stream["id"]])
    monkeypatch.setattr(producer, "key_envelope", KeyEnvelope.seal(StreamKey.new(), keys.public).to_json())
    warnings: list[str] = []
    _, page = open_console(browser, f"{keys.link(server.url)}&sig={server.signing_key}", warnings)
    try:
        page.click("button.nav-view[data-view=map]")
        page.wait_for_timeout(6000)  # the honest camera sends a position every second
        assert page.locator(f'.cam-marker[data-stream-id="{stream["id"]}"]').count() == 0
        assert any("not verified" in warning and "not made by camera" in warning for warning in warnings), warnings
    finally:
        page.context.close()
