"""The recordings player's memory playing a 1-hour recording in real Chromium.

Makes the recording synthetically but really (tests/synthetic_recording.py: the camera's
test pattern encoded by its VP8/Opus encoders, encrypted with SFrame, muxed by the
recorder's segment writer into 1800 two-second segments, stored and catalogued in a real
server's data directory), starts the server, signs a Chromium page in, opens the
recording and then: plays 20 s at 1x, seeks to 30 places across the hour (each until its
picture is shown), and plays 60 s at 8x (8 minutes of media). Every 2 s it samples the
page's memory with CDP ``Runtime.getHeapUsage``: the JS heap (objects) and, apart, the
ArrayBuffers' backing stores, where the fetched ciphertext lives (``performance.memory``
and ``Performance.getMetrics`` leave those out); at the end of each phase also after a
forced GC. And the player's cached segments, and Chromium's resident memory (/proc, all
its processes summed, shared pages counted in each).

    python3 bench/player_memory.py --runs 3
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.console_memory import chromium_rss_mb  # noqa: E402
from bwlive_rtc.crypto.system_key import SystemKeyPair  # noqa: E402
from tests.chromium import launch  # noqa: E402
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Server  # noqa: E402
from tests.synthetic_recording import SyntheticRecording, organisation_of, write_recording  # noqa: E402

MB = 2**20


class Sampler:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.cdp = page.context.new_cdp_session(page)
        self.heap: list[float] = []
        self.buffers: list[float] = []
        self.cached: list[int] = []
        self.rss: list[float] = []
        self.last = 0.0

    def sample(self, every: float = 2.0) -> None:
        if time.monotonic() - self.last < every:
            return
        self.last = time.monotonic()
        heap, buffers = self.usage()
        self.heap.append(heap)
        self.buffers.append(buffers)
        self.cached.append(int(self.page.get_attribute("#player", "data-cached") or 0))
        self.rss.append(chromium_rss_mb())

    def usage(self) -> tuple[float, float]:
        """(JS heap incl. the embedder's, ArrayBuffer backing stores) in MB."""
        usage = self.cdp.send("Runtime.getHeapUsage")
        return (usage["usedSize"] + usage["embedderHeapUsedSize"]) / MB, usage["backingStorageSize"] / MB

    def after_gc(self) -> float:
        """JS heap and backing stores after a forced GC, MB."""
        self.cdp.send("HeapProfiler.collectGarbage")
        return sum(self.usage())


def wait(page: Page, sampler: Sampler, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sampler.sample()
        page.wait_for_timeout(200)


def one_run(page: Page, recording_id: str, duration_ms: int, seed: int) -> dict[str, float]:
    page.reload()
    page.evaluate("window.bwlive.ready")
    page.click(f'button.recording[data-recording-id="{recording_id}"]')
    page.wait_for_selector('#player[data-state="playing"]', timeout=20_000)
    sampler = Sampler(page)
    wait(page, sampler, 20)  # 1x
    after_play = sampler.after_gc()
    page.click("#play-pause")
    page.wait_for_selector('#player[data-state="paused"]')
    rng = random.Random(seed)
    started = time.monotonic()
    for _ in range(30):
        target = rng.randrange(0, duration_ms)
        page.locator("#seek").fill(str(target))
        page.wait_for_selector('#player[data-state="paused"]', timeout=20_000)
        page.wait_for_function("() => Number(document.querySelector('#player').dataset.pictureMs) >= 0", timeout=20_000)
        sampler.sample(every=0)
    seek_s = (time.monotonic() - started) / 30
    after_seeks = sampler.after_gc()
    page.select_option("#speed", "8")
    page.click("#play-pause")
    position = int(page.get_attribute("#player", "data-position") or 0)
    wait(page, sampler, 60)  # 8 minutes of media
    played_ms = int(page.get_attribute("#player", "data-position") or 0) - position
    after_8x = sampler.after_gc()
    return {
        "heap_max": max(sampler.heap), "buffers_max": max(sampler.buffers),
        "total_max": max(h + b for h, b in zip(sampler.heap, sampler.buffers, strict=True)),
        "gc_after_1x": after_play, "gc_after_seeks": after_seeks, "gc_after_8x": after_8x,
        "cached_max": max(sampler.cached), "cached_most": int(page.get_attribute("#player", "data-cached-most") or 0),
        "rss_max": max(sampler.rss), "seek_s": seek_s, "media_s_at_8x": played_ms / 1000,
    }


def recorded(server: Server, keys: SystemKeyPair, minutes: float) -> SyntheticRecording:
    """A recording of ``minutes`` at 30 fps in the server's data directory."""
    made = time.monotonic()
    recording = write_recording(server.data_dir, keys.public, "Hour Hana", minutes * 60,
                                organisation_id=organisation_of(server.data_dir), fps=30, gop=90, loop_s=6)
    size = sum(p.stat().st_size for p in (server.data_dir / "recordings" / recording.id).iterdir())
    print(f"recording: {minutes:g} min, {size / MB:.0f} MB in {time.monotonic() - made:.0f} s", flush=True)
    return recording


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the recording")
    args = parser.parse_args()
    keys, work = SystemKeyPair.generate(), Path(tempfile.mkdtemp(prefix="bwlive-player-memory-"))
    keys.save(work / "keys")
    server = Server(work, work / "keys")
    try:
        recording = recorded(server, keys, args.minutes)
        runs = []
        with sync_playwright() as playwright:
            browser = launch(playwright)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            assert context.request.post(f"{server.url}/api/session",
                                        data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).ok
            page = context.new_page()
            page.goto(keys.link(server.url))
            page.evaluate("window.bwlive.ready")
            page.goto(f"{server.url}/web/recordings.html")
            for run in range(args.runs):
                runs.append(one_run(page, recording.id, recording.duration_ms, seed=run))
                print(f"run {run + 1}: " + ", ".join(f"{k} {v:.1f}" for k, v in runs[-1].items()), flush=True)
            browser.close()
    finally:
        server.stop()
    print("\nMarkdown (median of the runs):\n")
    print("| measured | median | runs |")
    print("|---|---|---|")
    for key, label in [("total_max", "JS heap + ArrayBuffers, highest sample (MB)"),
                       ("heap_max", "JS heap, highest sample (MB)"),
                       ("buffers_max", "ArrayBuffer backing stores, highest sample (MB)"),
                       ("gc_after_1x", "heap + buffers after GC, after 20 s at 1x (MB)"),
                       ("gc_after_seeks", "heap + buffers after GC, after 30 seeks (MB)"),
                       ("gc_after_8x", "heap + buffers after GC, after 60 s at 8x (MB)"),
                       ("cached_most", "segments held at once, most (bound 12)"),
                       ("rss_max", "Chromium resident memory, highest (MB)"),
                       ("seek_s", "seek into an unfetched part, mean (s)"),
                       ("media_s_at_8x", "media played in 60 s at 8x (s)")]:
        values = [run[key] for run in runs]
        print(f"| {label} | {statistics.median(values):.1f} | {' / '.join(f'{v:.1f}' for v in values)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
