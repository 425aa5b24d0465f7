"""Medians per configuration (and recording on/off) over repeated loadgen.py runs (its
--json lines), and what recording costs per recorded packet where both were run.

    python bench/summarize.py /tmp/bwlive-bench/loadgen.jsonl
"""
from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from typing import Any

COLUMNS = [  # (heading, key, digits)
    ("fwd pkt/s", "forwarded_pps", 0),
    ("lost pkts", "lost_pkts", 0),
    ("server % core", "server_cpu_pct_core", 1),
    ("server CPU s / 1000 fwd pkt", "server_cpu_s_per_1000_pkts", 4),
    ("µs / fwd pkt", "server_us_per_pkt", 1),
    ("µs / ingested pkt", "server_us_per_ingested_pkt", 1),
    ("via SFU p50 ms", "sfu_p50_ms", 2),
    ("via SFU p99 ms", "sfu_p99_ms", 2),
    ("direct p50 ms", "direct_p50_ms", 2),
    ("direct p99 ms", "direct_p99_ms", 2),
    ("SFU-added p50 ms", "added_p50_ms", 2),
    ("SFU-added p99 ms", "added_p99_ms", 2),
    ("SFU-added p99 ms, delta-frame pkts", "added_delta_p99_ms", 2),
    ("machine busy %", "machine_busy_pct", 0),
]


def cell(rows: list[dict[str, Any]], key: str, digits: int) -> str:
    values = [r[key] for r in rows if r.get(key) is not None]
    if not values:
        return "n/a"
    spread = f" ({min(values):.{digits}f}–{max(values):.{digits}f})" if len(values) > 1 else ""
    return f"{statistics.median(values):.{digits}f}{spread}"


def main() -> None:
    runs: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    with open(sys.argv[1]) as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                runs[row["config"], "on" if row.get("recording", True) else "off"].append(row)
    print("| N x M | recording | runs | " + " | ".join(h for h, _, _ in COLUMNS) + " |")
    print("|" + "---|" * (len(COLUMNS) + 3))
    for (config, recording), rows in runs.items():
        print(f"| {config} | {recording} | {len(rows)} | " + " | ".join(cell(rows, k, d) for _, k, d in COLUMNS) + " |")
    print("\nmedian (min–max) over the runs")
    for config in dict.fromkeys(config for config, _ in runs):
        on, off = (median(runs.get((config, state), []), "server_us_per_ingested_pkt") for state in ("on", "off"))
        if on is not None and off is not None:  # every ingested packet is recorded
            print(f"{config}: recording costs {on - off:.1f} µs of server CPU per recorded packet "
                  f"({on:.1f} - {off:.1f} µs per ingested packet, medians)")


def median(rows: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else None


if __name__ == "__main__":
    main()
