"""Glass-to-glass latency: real camera agent -> bwlive server -> headless viewer.

    python bench/glass_to_glass.py [--seconds 20] [--viewer python chromium chromium-verified]

Starts bench/serve_for_bench.py (fresh key pair, ICE on 127.0.0.1) and the real camera
agent (``bwlive camera stream``, synthetic test pattern, via bench/ice_wrap.py). The
viewer subscribes over WHEP (bwlive_rtc.viewer.client.HeadlessViewer), opens the stream's
key envelope with the system private key, decrypts each frame (SFrame), decodes it
(PyAV/libvpx), reads the frame number and capture time burned into the picture
(bwlive_rtc.camera.framecode) and takes now - capture time. Both processes share this
machine's clock. The capture time is taken when the pattern is drawn, before encoding,
so the figure includes encode, encrypt, packetize, the SFU, depacketize, decrypt, decode.

The Chromium viewer is Debian's headless Chromium under Playwright with bench/g2g_page.html
(served on the server's origin through a Playwright route): the web client's WhepSession
and e2ee worker (RTCRtpScriptTransform) decrypt, the video element plays, and on every
requestVideoFrameCallback the page draws the frame to a canvas and samples the block
centres; delay = Date.now() - capture time. Chromium runs with mDNS candidate hiding off
(its host candidate is then this machine's own address; media stays on this host).
``chromium-verified`` is the same page verifying the signed stream as a tile does
(web/stream-verifier.js: manifest, checkpoints, every frame's hash and counter); it also
reports what verifying cost the worker per frame.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import force_ice_host, percentile  # noqa: E402


def start(cmd: list[str], banner: str, timeout: float = 30) -> tuple[subprocess.Popen[str], str]:
    """Start a process and wait for a stdout line containing ``banner``."""
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.stdout:
        line = process.stdout.readline()
        if banner in line:
            return process, line
        if not line and process.poll() is not None:
            break
    process.terminate()
    raise RuntimeError(f"{cmd[1]} did not print {banner!r}")


def wait_for_stream(server: str, timeout: float = 20) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{server}/api/streams") as response:
            streams = json.load(response)["streams"]
        if streams:
            return streams[0]
        time.sleep(0.3)
    raise RuntimeError("the camera did not start a stream")


async def view(server: str, stream: dict[str, object], keys_dir: Path, seconds: float) -> tuple[list[float], int]:
    """Watch ``stream`` for ``seconds``; returns the glass-to-glass delays (ms) and bad frames."""
    import av

    from bwlive_rtc.camera.framecode import read_code
    from bwlive_rtc.crypto.content_key import KeyEnvelope
    from bwlive_rtc.crypto.rfc9605 import DecryptError
    from bwlive_rtc.crypto.sframe import FrameDecryptor, Kind
    from bwlive_rtc.crypto.system_key import SystemKeyPair
    from bwlive_rtc.viewer.client import HeadlessViewer
    from bwlive_rtc.viewer.session import ApiClient

    stream_key = KeyEnvelope.from_json(stream["key_envelope"]).open(SystemKeyPair.load(keys_dir))  # type: ignore[arg-type]
    decryptor = FrameDecryptor(stream_key)
    decoder = av.CodecContext.create("vp8", "r")
    delays: list[float] = []
    unreadable = 0
    recording = False

    def on_frame(frame) -> None:  # type: ignore[no-untyped-def]
        nonlocal unreadable
        try:
            plain = decryptor.decrypt(Kind.VIDEO, frame.data)
            pictures = decoder.decode(av.Packet(plain))
        except (DecryptError, av.FFmpegError):
            unreadable += 1
            return
        for picture in pictures:
            code = read_code(picture.to_ndarray(format="gray"))
            now_ms = time.time_ns() // 1_000_000
            if code is None:
                unreadable += 1
            elif recording:
                delays.append((now_ms - code[1]) & 0xFFFFFFFF)

    viewer = HeadlessViewer(ApiClient(server), str(stream["id"]), on_video_frame=on_frame)  # open viewing
    await viewer.start()
    try:
        await asyncio.sleep(3)  # connect, first key frame
        recording = True
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            await asyncio.sleep(min(5.0, end - time.monotonic()))
            await viewer.keepalive()
    finally:
        await viewer.stop()
        await viewer.client.close()
    return delays, unreadable


async def view_in_chromium(server: str, stream: dict[str, object], keys_dir: Path, seconds: float,
                           verify: bool = False) -> tuple[list[float], int]:
    """The same measurement in headless Chromium with bench/g2g_page.html (``verify``: the
    page verifies the stream with the system signing key, as a tile does)."""
    from urllib.parse import quote

    from playwright.async_api import TimeoutError as PlaywrightTimeout
    from playwright.async_api import async_playwright

    from bwlive_rtc.crypto.b64 import b64url_encode
    from bwlive_rtc.crypto.system_key import SystemKeyPair

    sys.path.insert(0, str(HERE.parent))
    from tests.chromium import CHROMIUM_FLAGS, chromium_path

    secrets = json.dumps({"pkcs8": b64url_encode(SystemKeyPair.load(keys_dir).pkcs8_der()), "stream": stream,
                          "signingKey": signing_key(keys_dir) if verify else None})
    page_url = f"{server}/bench-g2g.html"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), headless=True,
            args=[*CHROMIUM_FLAGS, "--disable-features=WebRtcHideLocalIpsWithMdns"],
        )
        try:
            page = await browser.new_page()
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))
            body = (HERE / "g2g_page.html").read_text()
            await page.route(page_url, lambda route: route.fulfill(body=body, content_type="text/html"))
            await page.goto(f"{page_url}#{quote(secrets)}")
            try:
                await page.wait_for_function("window.g2g?.state === 'playing' || window.g2g?.error", timeout=30000)
            except PlaywrightTimeout:
                state = await page.evaluate("JSON.stringify(window.g2g)")
                raise RuntimeError(f"Chromium showed no frame in 30 s: {state}; console: {console[-5:]}") from None
            await asyncio.sleep(3)
            await page.evaluate("window.g2g.recording = true")
            await asyncio.sleep(seconds)
            result = await page.evaluate("window.g2g")
        finally:
            await browser.close()
    if result["error"]:
        raise RuntimeError(f"the bench page failed: {result['error']}")
    if verify and result["verification"].get("state") != "verified":
        raise RuntimeError(f"the stream did not verify: {result['verification']}")
    cost = result["cost"]
    print(f"  chromium{'-verified' if verify else ''} worker: {cost['frames']} frames, per frame "
          f"{cost['verifyMs'] / cost['frames']:.3f} ms verifying, {cost['holdMs'] / cost['frames']:.3f} ms in the transform")
    return result["delays"], result["unreadable"]


def signing_key(keys_dir: Path) -> str:
    """The system signing public key (b64u raw) of the bench's keys directory, as links carry it."""
    from bwlive_rtc.crypto.system_signing import SigningPublicKey

    return SigningPublicKey.load(keys_dir).b64u()


async def view_verified(server: str, stream: dict[str, object], keys_dir: Path, seconds: float) -> tuple[list[float], int]:
    return await view_in_chromium(server, stream, keys_dir, seconds, verify=True)


VIEWERS = {"python": view, "chromium": view_in_chromium, "chromium-verified": view_verified}


def start_camera(kind: str, server: str, tmp: Path, keys: Path) -> subprocess.Popen[str]:
    """The camera agent (docked as G2G-1) or the phone page, streaming to ``server``."""
    if kind == "phone":
        phone, _ = start([sys.executable, str(HERE / "phone_camera.py"), "--server", server, "--data-dir",
                          str(tmp / "data"), "--keys-dir", str(keys)], "phone streaming", timeout=120)
        return phone
    bwlive = [sys.executable, "-m", "bwlive_rtc"]
    subprocess.run([*bwlive, "fleet", "add-camera", "--data-dir", f"{tmp}/data", "--serial", "G2G-1",
                    "--user", "glass"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*bwlive, "camera", "dock", "--data-dir", f"{tmp}/data", "--keys-dir", str(keys), "--serial", "G2G-1",
                    "--out", f"{tmp}/dock.json"], check=True, stdout=subprocess.DEVNULL)
    return subprocess.Popen([sys.executable, str(HERE / "ice_wrap.py"), "127.0.0.1", "camera", "stream", "--server",
                             server, "--dock-file", f"{tmp}/dock.json", "--no-gps"], stdout=subprocess.DEVNULL, text=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="measurement time per viewer")
    parser.add_argument("--viewer", nargs="+", choices=sorted(VIEWERS), default=["python", "chromium"])
    parser.add_argument("--camera", choices=["agent", "phone"], default="agent",
                        help="the camera agent's test pattern, or the phone page in Chromium (bench/phone_camera.py)")
    args = parser.parse_args()
    force_ice_host("127.0.0.1")
    from bwlive_rtc.crypto.system_key import SystemKeyPair

    with tempfile.TemporaryDirectory(prefix="bwlive-g2g-") as tmp:
        keys = Path(tmp) / "keys"
        SystemKeyPair.generate().save(keys)
        server_process, line = start(
            [sys.executable, str(HERE / "serve_for_bench.py"), "--keys-dir", str(keys), "--data-dir", f"{tmp}/data",
             "--open-viewing"],
            "listening on",
        )
        server = line.rsplit(" ", 1)[1].strip()
        camera = start_camera(args.camera, server, Path(tmp), keys)
        results = {}
        try:
            stream = wait_for_stream(server)
            for name in args.viewer:
                results[name] = asyncio.run(VIEWERS[name](server, stream, keys, args.seconds))
        finally:
            camera.terminate()
            camera.wait(10)
            server_process.terminate()
            server_process.wait(10)
    source = "phone page in Chromium (canvas frame code)" if args.camera == "phone" else "camera agent (test pattern)"
    print(f"glass-to-glass, real {source} -> bwlive server -> viewer:")
    for name, (delays, unreadable) in results.items():
        if not delays:
            print(f"  {name}: no frame code read ({unreadable} unreadable frames)")
            continue
        print(f"  {name}: frames {len(delays)} in {args.seconds:.0f} s, unreadable {unreadable}; "
              f"p50 {percentile(delays, 50):.0f} ms, p90 {percentile(delays, 90):.0f} ms, "
              f"p99 {percentile(delays, 99):.0f} ms, max {max(delays):.0f} ms")


if __name__ == "__main__":
    main()
