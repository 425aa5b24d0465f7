"""Congestion control on the camera's uplink (issue 12, part 2): the Wi-Fi uplink capped at
400 kbit/s with tbf; the server's REMB (sfu/uplink.py) makes the camera (camera/congestion.py)
send under the cap within 5 s, with under 2 % dropped, frames still coming."""
from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import Browser

from bwlive_rtc.crypto.system_key import SystemKeyPair
from tests.lab_console import collect, open_lab_console, start_playback, watch
from tests.netlab import Lab
from tests.processes import Camera, Server
from tests.test_lab_loss import figures, report

CAP_KBIT = 400
SETTLE_S, MEASURE_S = 5, 15


def _qdisc(lab: Lab) -> tuple[int, int, int]:
    """Bytes sent, packets sent and packets dropped by the Wi-Fi link's tbf so far."""
    shown = lab.run("camera", "tc", "-s", "qdisc", "show", "dev", "wifi")
    sent, packets, dropped = re.search(r"Sent (\d+) bytes (\d+) pkt \(dropped (\d+)", shown).groups()
    return int(sent), int(packets), int(dropped)


def test_the_camera_follows_a_thin_uplink(
        lab: Lab, lab_server: Server, lab_browser: Browser, system_keys: SystemKeyPair, workdir: Path) -> None:
    camera = Camera(workdir, lab_server.url, workdir / "keys", "Thin Uplink", prefix=lab.prefix("camera"))
    try:
        camera.wait_for("streaming", timeout=45)
        stream = lab_server.wait_for_stream("Thin Uplink")
        context, page = open_lab_console(lab_browser, lab_server, system_keys.link(lab_server.url))
        try:
            watch(page, stream["id"])
            lab.thin("wifi", CAP_KBIT)
            start_playback(page, SETTLE_S + MEASURE_S)
            time.sleep(SETTLE_S)
            before, started = _qdisc(lab), time.monotonic()
            time.sleep(MEASURE_S)
            after, elapsed = _qdisc(lab), time.monotonic() - started
            played = figures(collect(page))
        finally:
            context.close()
        sent_packets, dropped = after[1] - before[1], after[2] - before[2]
        measured = {
            "sent_kbit_s": round((after[0] - before[0]) * 8 / elapsed / 1000),
            # what the camera offered: sent plus dropped (at the mean size of what went out)
            "offered_kbit_s": round((after[0] - before[0]) * (1 + dropped / max(1, sent_packets)) * 8 / elapsed / 1000),
            "drop_pct": round(100 * dropped / max(1, sent_packets + dropped), 2),
            "frames_advanced": played["frames_advanced"],
            "freezes": played["freezes"],
            "decoded_fps": played["decoded_fps"],
        }
        report("thin-400k", measured)
        assert measured["offered_kbit_s"] < CAP_KBIT and measured["drop_pct"] < 2, measured
        assert measured["frames_advanced"] >= 5 * (SETTLE_S + MEASURE_S), measured  # frames keep coming
        assert camera.wait_for("uplink estimate .* video at").group(0)  # the camera says what it follows
    finally:
        lab.thin("wifi", None)
        camera.stop()
