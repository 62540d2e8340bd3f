"""The cost of defects: saas_support against saas_support_dirty, in one invocation.

Both specs generate the same clean rows; the dirty one also injects its defects, writes the
`_defects` labels and validates the clean rows behind the damaged tables (the clean blocks
spooled as Arrow IPC in a temporary folder, and every label checked against the files). Each variant is generated
--repeat times alternately (validation on, as `fabula generate` does by default), the best
time kept; the ratio is dirty over clean. The goal (issue 14) is at most 1.10. Beside wall time
it reports CPU time (every thread of the process): on a machine shared with other work, wall
time swings with the load, while CPU time counts only what this process did.

Usage
    .venv/bin/python bench/defects.py [--scale 10] [--repeat 3] [--workers N] [--no-validate]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import fabula


def run(name: str, scale: float, workers: int | None, validate: bool, root: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and rows of one generation."""
    plan = fabula.compile_plan(name, scale=scale)
    out = root / name
    shutil.rmtree(out, ignore_errors=True)
    started, cpu = time.perf_counter(), time.process_time()
    manifest = fabula.generate(plan, out, workers=workers, validate=validate).manifest
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return seconds, cpu, sum(entry.rows for entry in manifest.tables.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--no-validate", action="store_true")
    options = parser.parse_args()
    best: dict[str, float] = {}
    best_cpu: dict[str, float] = {}
    rows: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="fabula-bench-defects-") as folder:
        for _ in range(options.repeat):
            for name in ("saas_support", "saas_support_dirty"):
                seconds, cpu, count = run(name, options.scale, options.workers, not options.no_validate, Path(folder))
                best[name] = min(best.get(name, seconds), seconds)
                best_cpu[name] = min(best_cpu.get(name, cpu), cpu)
                rows[name] = count
    for name in best:
        print(f"{name:<20} {rows[name]:>12,} rows  {best[name]:8.2f} s  {best_cpu[name]:8.2f} s CPU")
    ratio = best["saas_support_dirty"] / best["saas_support"]
    cpu_ratio = best_cpu["saas_support_dirty"] / best_cpu["saas_support"]
    print(f"dirty / clean: {ratio:.3f} wall, {cpu_ratio:.3f} CPU  (goal <= 1.10; scale {options.scale:g}, "
          f"validation {'off' if options.no_validate else 'on'})")


if __name__ == "__main__":
    main()
