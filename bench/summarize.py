"""Medians per configuration over repeated loadgen.py runs (its --json lines).

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
    runs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with open(sys.argv[1]) as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                runs[row["config"]].append(row)
    print("| N x M | runs | " + " | ".join(h for h, _, _ in COLUMNS) + " |")
    print("|" + "---|" * (len(COLUMNS) + 2))
    for config, rows in runs.items():
        print(f"| {config} | {len(rows)} | " + " | ".join(cell(rows, k, d) for _, k, d in COLUMNS) + " |")
    print("\nmedian (min–max) over the runs")


if __name__ == "__main__":
    main()
