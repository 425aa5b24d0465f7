"""Run the network lab's measuring tests N times and print the median of each figure.

    python3 bench/lab_figures.py [--runs 3] [--repo DIR] [TEST FILE ...]

Runs ``pytest -s`` on the lab tests of ``--repo`` (default: this checkout; another
checkout gives the "before" column), collects their ``LAB-FIGURES name {json}`` lines and
prints one Markdown table per measured case: each figure's median and the runs' values.
Needs root (the lab makes network namespaces), as .ci/run has.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

DEFAULT_TESTS = ("tests/test_lab_loss.py",)


def run_once(repo: Path, tests: list[str]) -> dict[str, dict[str, float]]:
    env = dict(os.environ, PYTHONPATH=str(repo))
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", *tests],
                          cwd=repo, env=env, capture_output=True, text=True)
    found = {}
    for line in done.stdout.splitlines():
        if line.startswith("LAB-FIGURES "):
            _, name, figures = line.split(" ", 2)
            found[name] = json.loads(figures)
    if not found:
        print(done.stdout[-3000:], file=sys.stderr)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("tests", nargs="*", default=list(DEFAULT_TESTS))
    args = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = defaultdict(list)
    for i in range(args.runs):
        for name, figures in run_once(args.repo.resolve(), args.tests).items():
            runs[name].append(figures)
        print(f"run {i + 1} of {args.runs} done", file=sys.stderr, flush=True)
    for name, measured in runs.items():
        print(f"\n{name} ({len(measured)} runs)\n\n| figure | median | runs |\n|---|---|---|")
        for key in measured[0]:
            values = [m[key] for m in measured if key in m]
            print(f"| {key} | {statistics.median(values):g} | {', '.join(f'{v:g}' for v in values)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
