"""Loss resilience measured in the lab (issue 12, part 3): 5 % random loss both ways on the
camera's link, a Chromium viewer watching for 30 s; a viewer on a bad link beside one on
a clean link."""
from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page

from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.sfu.consumer import KEYFRAME_BURST, KEYFRAMES_PER_S, RESEND_BURST, RESENDS_PER_S
from tests.lab_console import collect, open_lab_console, playback, start_playback, watch
from tests.netlab import Lab
from tests.processes import Camera, Server

WATCH_S = 30


def figures(samples: list[dict]) -> dict[str, float]:
    """What a viewer saw in ``samples`` (tests/lab_console.py's ``playback``): freezes
    (getStats), the longest time the burned-in frame number stood still, frames per second
    shown, NACKs sent and retransmissions received, and audio concealed; from the first
    sample with both tracks playing (a loaded machine may take a moment to start)."""
    samples = [sample for sample in samples if sample["video"] and sample["audio"]]
    assert len(samples) >= 2, "the viewer never played video and audio"
    first, last = samples[0], samples[-1]
    seconds = (last["t"] - first["t"]) / 1000
    video = {key: last["video"][key] - first["video"].get(key, 0) for key in
             ("freezeCount", "totalFreezesDuration", "framesDecoded", "keyFramesDecoded", "nackCount", "pliCount", "packetsLost",
              "retransmittedPacketsReceived", "packetsReceived") if key in last["video"]}
    audio_samples = last["audio"]["totalSamplesReceived"] - first["audio"]["totalSamplesReceived"]
    concealed = last["audio"]["concealedSamples"] - first["audio"]["concealedSamples"]
    longest_still, since = 0.0, first["t"]
    previous = first["frame"]
    for sample in samples[1:]:
        if sample["frame"] is not None and sample["frame"] != previous:
            longest_still = max(longest_still, sample["t"] - since)
            since, previous = sample["t"], sample["frame"]
    longest_still = max(longest_still, last["t"] - since)
    frames = [s["frame"] for s in samples if s["frame"] is not None]
    return {
        "seconds": round(seconds, 1),
        "freezes": video.get("freezeCount", 0),
        "frozen_s": round(video.get("totalFreezesDuration", 0), 2),
        "decoded_fps": round(video["framesDecoded"] / seconds, 1),
        "longest_still_ms": round(longest_still),
        "frames_advanced": frames[-1] - frames[0] if frames else 0,
        "nacks_sent": video.get("nackCount", 0),
        "plis_sent": video.get("pliCount", 0),
        "key_frames": video.get("keyFramesDecoded", 0),
        "video_lost": video.get("packetsLost", 0),
        "retransmissions_received": video.get("retransmittedPacketsReceived", 0),
        "audio_samples_per_s": round(audio_samples / seconds),
        "audio_concealed_pct": round(100 * concealed / max(1, audio_samples), 1),
    }


def _counts(line: str) -> dict[str, int]:
    """The counts of a server's "viewer … left: 3 retransmissions, …" line."""
    return {name: int(count) for count, name in re.findall(r"(\d+) ([a-z ]+)", line.split(" left: ", 1)[1])}


def report(name: str, measured: dict[str, float]) -> None:
    """Print the figures (bench/RESULTS.md collects them from ``pytest -s``)."""
    print(f"\nLAB-FIGURES {name} {json.dumps(measured)}", flush=True)


def _watch_for(page: Page, stream_id: str, seconds: float) -> dict[str, float]:
    watch(page, stream_id)
    page.wait_for_timeout(2000)  # past the first key frame and the jitter buffer's start
    return figures(playback(page, seconds))


def test_video_keeps_playing_and_audio_keeps_going_through_5_percent_loss(
        lab: Lab, lab_server: Server, lab_browser: Browser, system_keys: SystemKeyPair, workdir: Path) -> None:
    camera = Camera(workdir, lab_server.url, workdir / "keys", "Lossy Camera", prefix=lab.prefix("camera"))
    try:
        camera.wait_for("streaming", timeout=45)
        stream = lab_server.wait_for_stream("Lossy Camera")
        lab.loss("wifi", 5)
        context, page = open_lab_console(lab_browser, lab_server, system_keys.link(lab_server.url))
        try:
            measured = _watch_for(page, stream["id"], WATCH_S)
        finally:
            context.close()
        report("loss5", measured)
        assert measured["nacks_sent"] > 0 or measured["retransmissions_received"] > 0, measured
        # Bounds over 30 s: (nearly) every frame the camera made is shown, at most one freeze
        # per 2 s and no stall over 3 s. Quiet runs freeze 1-8 times with 0.3-2.2 s frozen; at
        # load average 25+ on this shared 2-core machine the camera process itself stalls and
        # the counts double (bench/RESULTS.md §8).
        assert measured["decoded_fps"] * measured["seconds"] >= 0.9 * measured["frames_advanced"] >= 9 * WATCH_S, measured
        assert measured["freezes"] <= WATCH_S / 2 and measured["longest_still_ms"] <= 3000, measured
        assert measured["audio_samples_per_s"] >= 40_000 and measured["audio_concealed_pct"] <= 15, measured
    finally:
        lab.loss("wifi", 0)
        camera.stop()


def test_a_viewer_on_a_bad_link_costs_the_others_nothing(
        lab: Lab, lab_server: Server, lab_chromium: Callable[[str], Browser], system_keys: SystemKeyPair,
        workdir: Path) -> None:
    """20 % loss both ways on one viewer's link: its retransmissions and keyframe requests
    stay within their budgets (sfu/consumer.py; the server logs them as it leaves), and the
    viewer on the clean link keeps its frame rate and sees no more key frames than the
    budget lets through."""
    camera = Camera(workdir, lab_server.url, workdir / "keys", "Shared Camera", prefix=lab.prefix("camera"))
    try:
        camera.wait_for("streaming", timeout=45)
        stream = lab_server.wait_for_stream("Shared Camera")
        lab.loss("view2", 20)
        viewers = [open_lab_console(lab_chromium(host), lab_server, system_keys.link(lab_server.url))
                   for host in ("viewer", "viewer2")]
        try:
            for _, page in viewers:
                watch(page, stream["id"])
            viewers[0][1].wait_for_timeout(2000)
            for _, page in viewers:
                start_playback(page, WATCH_S)
            clean, bad = (figures(collect(page)) for _, page in viewers)
        finally:
            for context, _ in viewers:
                context.close()
        report("clean-beside-bad", clean)
        report("bad-viewer-20pct", bad)
        left = re.compile(r"viewer \S+ of " + re.escape(stream["id"]) + " left: ")
        for _ in range(100):  # both viewers' lines
            if len([line for line in lab_server.lines if left.search(line)]) == 2:
                break
            time.sleep(0.1)
        budgets = max((_counts(line) for line in lab_server.lines if left.search(line)),
                      key=lambda counts: counts["retransmissions"] + counts["retransmissions refused"])
        report("budgets", budgets)
        assert budgets["retransmissions"] <= RESEND_BURST + RESENDS_PER_S * (WATCH_S + 15), budgets
        assert budgets["keyframe requests passed"] <= KEYFRAME_BURST + KEYFRAMES_PER_S * (WATCH_S + 15), budgets
        # the clean viewer shows (nearly) every frame the camera made: its rate is the camera's
        assert clean["decoded_fps"] * clean["seconds"] >= 0.9 * clean["frames_advanced"] >= 9 * WATCH_S, clean
        assert clean["longest_still_ms"] <= 3000, clean
        assert clean["key_frames"] <= 3 + 0.5 * (WATCH_S + 10) + 2, clean  # the bad viewer's PLIs are budgeted
        assert bad["frames_advanced"] > 0, bad  # it still plays, worse
    finally:
        lab.loss("view2", 0)
        camera.stop()
