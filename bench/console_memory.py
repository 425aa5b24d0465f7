"""The console page's memory over a long watch: four live tiles (a group) and the map.

Starts a server and four simulated 30 fps cameras (GPX replay, one losing GPS now and
then), signs a Chromium page in, shows the group of four, opens the map with trails, goes
back to the grid, and samples every 30 s for ``--minutes``: the page's JS heap and DOM
counters (Chrome DevTools Protocol) and the resident memory of this Chromium's processes
(/proc). Prints a table and a Markdown summary for bench/RESULTS.md.

    python3 bench/console_memory.py --minutes 10
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bwlive_rtc.crypto.system_key import SystemKeyPair  # noqa: E402
from tests.chromium import launch  # noqa: E402
from tests.processes import Camera, Server  # noqa: E402
from tests.test_console_browser import TILE_FPS_JS, Console  # noqa: E402

TRACKS = ROOT / "tests" / "data"
CAMERAS = [
    ("Alex Jansen", ["--gpx", str(TRACKS / "dam-square.gpx")]),
    ("Sam de Vries", ["--gpx", str(TRACKS / "canal-ring.gpx")]),
    ("Robin Bakker", ["--gpx", str(TRACKS / "central-station.gpx"), "--gps-lost-after", "60", "--gps-lost-for", "60"]),
    ("Kim Visser", []),
]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def chromium_rss_mb() -> float:
    """Resident memory of the Chromium processes this script started (its descendants)."""
    total, stack = 0, [os.getpid()]
    while stack:
        pid = stack.pop()
        for child in _children(pid):
            stack.append(child)
            try:
                cmdline = (Path("/proc") / str(child) / "cmdline").read_bytes()
                if b"chrom" in cmdline:
                    status = (Path("/proc") / str(child) / "status").read_text()
                    total += int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])
            except (OSError, StopIteration):
                continue
    return total / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between samples")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bwlive-console-memory-"))
    keys = SystemKeyPair.generate()
    keys.save(work / "keys")
    server = Server(work, work / "keys")
    cameras = [Camera(work, server.url, work / "keys", name, *extra) for name, extra in CAMERAS]
    samples = []
    try:
        for camera in cameras:
            camera.wait_for("streaming")
        with sync_playwright() as playwright:
            browser = launch(playwright)
            console = Console(browser, keys.link(server.url))
            page = console.page
            cdp = console.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            group = console.api("POST", "/api/groups", {"name": "Bench", "members": [n for n, _ in CAMERAS]})
            page.click(f'.group[data-group-id="{group["id"]}"] .group-name')
            page.wait_for_selector(".tile[data-state=live] >> nth=3", timeout=30_000)
            page.click("button.nav-view[data-view=map]")
            page.click(".map-trails")
            page.wait_for_timeout(5000)
            page.click("button.nav-view[data-view=live]")
            started = time.monotonic()
            print(f"{'min':>5} {'JS heap MB':>10} {'DOM nodes':>9} {'listeners':>9} {'Chromium RSS MB':>15} {'min fps':>7}",
                  flush=True)
            while True:
                elapsed = time.monotonic() - started
                cdp.send("HeapProfiler.collectGarbage")
                metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
                fps = min(rate["fps"] for rate in page.evaluate(TILE_FPS_JS, 2000))
                sample = {
                    "minute": elapsed / 60, "heap": metrics["JSHeapUsedSize"] / 2**20, "nodes": metrics["Nodes"],
                    "listeners": metrics["JSEventListeners"], "rss": chromium_rss_mb(), "fps": fps,
                }
                samples.append(sample)
                print(f"{sample['minute']:5.1f} {sample['heap']:10.1f} {sample['nodes']:9.0f} {sample['listeners']:9.0f} "
                      f"{sample['rss']:15.0f} {sample['fps']:7.1f}", flush=True)
                if elapsed >= args.minutes * 60:
                    break
                time.sleep(max(0.0, args.every - (time.monotonic() - started - elapsed)))
            browser.close()
    finally:
        for camera in cameras:
            camera.stop()
        server.stop()
    first = next(s for s in samples if s["minute"] >= 1.0) if samples[-1]["minute"] >= 1.0 else samples[0]
    last = samples[-1]
    print("\nMarkdown:\n")
    print(f"| measured | after 1 min | after {last['minute']:.0f} min | growth |")
    print("|---|---|---|---|")
    for key, label, unit in [("heap", "JS heap (after GC)", "MB"), ("nodes", "DOM nodes", ""),
                             ("listeners", "JS event listeners", ""), ("rss", "Chromium resident memory", "MB")]:
        print(f"| {label} | {first[key]:.1f} {unit} | {last[key]:.1f} {unit} | {last[key] - first[key]:+.1f} {unit} |")
    print(f"| lowest tile fps in a 2 s window | {first['fps']:.1f} | {last['fps']:.1f} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
