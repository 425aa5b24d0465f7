"""What SFrame costs per video frame, cipher suite 4 (AES-128-GCM) against 5 (AES-256-GCM):
the camera's encryption (Python, ``FrameEncryptor``) and a browser tile's decryption
(``FrameCipher.decryptFrame`` of web/e2ee.js in headless Chromium), on the bench's VP8
clip (640x360, 1 Mbit/s, 30 fps; media.py). Each figure is the median of ``--runs`` runs,
each over ``--passes`` passes of the clip, the suites taking turns; CPU time for Python, wall
time in the page (WebCrypto is asynchronous: each frame waits its turn on the crypto thread).

    python3 bench/frame_crypto.py [--runs 3] [--passes 10]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import machine_facts  # noqa: E402
from bench.media import load_clip  # noqa: E402
from bwlive_rtc.crypto.b64 import b64url_encode  # noqa: E402
from bwlive_rtc.crypto.rfc9605 import AES_128_GCM_SHA256_128, AES_256_GCM_SHA512_128, CipherSuite  # noqa: E402
from bwlive_rtc.crypto.sframe import FrameDecryptor, FrameEncryptor, Kind, StreamKey  # noqa: E402
from tests.chromium import launch  # noqa: E402

ORIGIN = "http://localhost:9"  # never contacted: page.route answers; localhost is a secure context (WebCrypto)
DECRYPT_JS = """async ([secret, suite, frames, passes]) => {
    const e2ee = await import('/web/e2ee.js');
    const cipher = new e2ee.FrameCipher(await e2ee.importStreamKey(e2ee.b64uDecode(secret), {suite}));
    const sealed = frames.map((f) => e2ee.b64uDecode(f));
    await cipher.decryptFrame('video', sealed[0]);  // keys derived before the clock starts
    const start = performance.now();
    for (let pass = 0; pass < passes; pass++) {
        for (const frame of sealed) await cipher.decryptFrame('video', frame);
    }
    return (performance.now() - start) * 1000 / (passes * sealed.length);
}"""


def python_us_per_frame(suite: CipherSuite, frames: list[bytes], passes: int) -> tuple[float, float]:
    """Camera encryption and Python decryption, CPU microseconds per frame."""
    key = StreamKey.new(suite)
    encryptor, decryptor = FrameEncryptor(key, Kind.VIDEO), FrameDecryptor(key)
    start = time.process_time()
    sealed = [encryptor.encrypt(frame) for _ in range(passes) for frame in frames]
    encrypt = time.process_time() - start
    start = time.process_time()
    for frame in sealed:
        decryptor.decrypt(Kind.VIDEO, frame)
    decrypt = time.process_time() - start
    return encrypt * 1e6 / len(sealed), decrypt * 1e6 / len(sealed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--passes", type=int, default=10)
    args = parser.parse_args()
    frames = load_clip()
    print(f"{len(frames)} frames, {sum(map(len, frames)) / len(frames):.0f} bytes on average; {machine_facts()}")
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page()
        page.route(f"{ORIGIN}/web/**", lambda route: route.fulfill(
            path=str(ROOT / "web" / route.request.url.removeprefix(f"{ORIGIN}/web/")), content_type="text/javascript"))
        page.route(f"{ORIGIN}/", lambda route: route.fulfill(body="<!doctype html><title>bench</title>",
                                                             content_type="text/html"))
        page.goto(f"{ORIGIN}/")
        runs: dict[CipherSuite, list[tuple[float, float, float]]] = {AES_128_GCM_SHA256_128: [], AES_256_GCM_SHA512_128: []}
        for _ in range(args.runs):  # the suites alternate, so both see the same machine
            for suite, results in runs.items():
                key = StreamKey.new(suite)
                sealed = [b64url_encode(FrameEncryptor(key, Kind.VIDEO).encrypt(frame)) for frame in frames]
                chromium = page.evaluate(DECRYPT_JS, [b64url_encode(key.secret), suite.id, sealed, args.passes])
                results.append((*python_us_per_frame(suite, frames, args.passes), chromium))
        browser.close()
    rows = [(suite, *(statistics.median(r[i] for r in results) for i in range(3))) for suite, results in runs.items()]
    print("| suite | camera encrypt (Python) µs/frame | Python decrypt µs/frame | Chromium decrypt µs/frame |")
    print("|---|---|---|---|")
    for suite, encrypt, decrypt, chromium in rows:
        print(f"| {suite.id} {suite.name} | {encrypt:.1f} | {decrypt:.1f} | {chromium:.1f} |")


if __name__ == "__main__":
    main()
