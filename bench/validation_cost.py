"""What validation costs on top of generation, at issue 16's scales, as medians of paired runs.

    .venv/bin/python bench/validation_cost.py                         # scales 100, 1000; 5 pairs each
    .venv/bin/python bench/validation_cost.py --scales 100 --pairs 7 --workers 1

Each pair is `fabula-novalidate` then `fabula` (validation on) of the built-in `saas_support`,
each in its own child process through bench/story.py's children, so they are measured the way
bench/speed.py measures them: wall after imports, CPU seconds of the child's whole life (imports
included), Faker pool cache warm. The two runs of a pair are back to back, so a burst of other
load on a shared machine hits both alike; the ratio of each pair is taken, and the median over
the pairs is reported (with the lowest and highest), for CPU and wall.

The goal (issue 16): validation costs at most 1.1x generation alone, in CPU. The CPU/wall column
is the parallel efficiency of the validated run (goal >= 1.8 on 2 cores at 1M+ rows).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
from pathlib import Path

import story
from story import measure, remove, total_rows

HERE = Path(__file__).resolve().parent
GOAL = 1.1


def pair(scale: float, args: argparse.Namespace, run_dir: Path) -> tuple[dict, dict]:
    reports = []
    for variant in ("fabula-novalidate", "fabula-local"):
        report = measure(variant, scale, args, run_dir)
        remove(report["path"])
        reports.append(report)
    return reports[0], reports[1]


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f}x (min {min(values):.3f}, max {max(values):.3f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/validation_cost.py", description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=story.scale_list, default=[100.0, 1000.0], help="default 100,1000")
    parser.add_argument("--pairs", type=int, default=5, help="paired runs per scale (default 5)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="fabula threads (default: cores)")
    parser.add_argument("--out", type=Path, default=HERE / "out", help="where to write (default bench/out/)")
    args = parser.parse_args(argv)
    args.spec, args.master, args.max_seconds = "saas_support", "local[2]", 900.0
    run_dir = args.out / "validation-cost-run"
    run_dir.mkdir(parents=True, exist_ok=True)
    args.warm_cache = run_dir / "warm-faker-cache"
    try:
        measure("fabula-novalidate", 1, args, run_dir)  # fills the Faker pool cache
        print(f"validation cost: saas_support, {os.cpu_count()} cores, workers={args.workers}, "
              f"{args.pairs} pairs per scale; versions: {story.versions()}")
        for scale in args.scales:
            cpu, wall, efficiency = [], [], []
            print(f"\nscale {scale:g}\n{'pair':>4} {'plain CPU s':>11} {'valid CPU s':>11} {'CPU x':>6} "
                  f"{'plain wall':>10} {'valid wall':>10} {'wall x':>6} {'CPU/wall':>8} {'load':>5}")
            for index in range(args.pairs):
                plain, validated = pair(scale, args, run_dir)
                cpu.append(validated["cpu_seconds"] / plain["cpu_seconds"])
                wall.append(validated["seconds"] / plain["seconds"])
                efficiency.append(validated["cpu_seconds"] / validated["seconds"])
                print(f"{index + 1:>4} {plain['cpu_seconds']:>11.2f} {validated['cpu_seconds']:>11.2f} {cpu[-1]:>6.3f} "
                      f"{plain['seconds']:>10.2f} {validated['seconds']:>10.2f} {wall[-1]:>6.3f} "
                      f"{efficiency[-1]:>8.2f} {validated['load']:>5.1f}", flush=True)
            rows = total_rows(validated)
            met = "MET" if statistics.median(cpu) <= GOAL else "NOT MET"
            print(f"scale {scale:g} ({rows:,} rows): validated / plain CPU {spread(cpu)}: {met} (goal <= {GOAL})")
            print(f"scale {scale:g}: validated / plain wall {spread(wall)}; "
                  f"CPU/wall of the validated run {statistics.median(efficiency):.2f}")
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
