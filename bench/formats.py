"""Formats benchmark: each output format's write throughput as a ratio to Parquet.

What is measured
    `fabula.generate(plan, out, output_format=F, validate=False)` for F in parquet, delta, csv
    and json (JSON Lines), on the same plan (the `saas_support` story at `--scale`, default 1:
    about 13K rows over three tables plus events; use --scale 40 for about half a million), the
    same workers. The plan is compiled once, before any clock, so only writing is compared:
    generating the blocks (the same for every format), encoding them and committing (for
    Delta, its `_delta_log` commit by deltalake). Each format runs `--repeat` times; the best
    time counts.

How to read the result
    ratio = format rows/s / Parquet rows/s (1.0: as fast as Parquet). Delta writes the same
    Parquet files plus a log, so expect about 1.0; CSV and JSON Lines encode every value as
    text, so expect below 1, JSON below CSV. Sizes are on disk, as a ratio to Parquet's too.
    Timings depend on the machine and its load: compare ratios run in the same process, never
    seconds across machines.

Usage
    .venv/bin/python bench/formats.py [--scale 1] [--workers N] [--repeat 3] [--out DIR]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import fabula

FORMATS = ("parquet", "delta", "csv", "json")


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def run(scale: float, workers: int | None, repeat: int, out: Path) -> list[dict]:
    plan = fabula.compile_plan("saas_support", scale=scale)
    rows = plan.total_rows
    results = []
    for output_format in FORMATS:
        best = None
        for attempt in range(repeat):
            target = out / f"{output_format}-{attempt}"
            started = time.perf_counter()
            fabula.generate(plan, target, output_format=output_format, workers=workers, validate=False)
            elapsed = time.perf_counter() - started
            size = folder_bytes(target)
            shutil.rmtree(target)
            best = elapsed if best is None else min(best, elapsed)
        results.append({"format": output_format, "rows": rows, "seconds": best, "bytes": size})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    options = parser.parse_args()
    out = options.out or Path(tempfile.mkdtemp(prefix="fabula-bench-formats-"))
    out.mkdir(parents=True, exist_ok=True)
    try:
        results = run(options.scale, options.workers, options.repeat, out)
    finally:
        if options.out is None:
            shutil.rmtree(out, ignore_errors=True)
    parquet = results[0]
    print(f"{parquet['rows']:,} rows, best of {options.repeat}")
    print(f"{'format':<8} {'rows/s':>12} {'ratio':>7} {'size':>10} {'size ratio':>11}")
    for result in results:
        rate = result["rows"] / result["seconds"]
        ratio = parquet["seconds"] / result["seconds"]
        print(f"{result['format']:<8} {rate:>12,.0f} {ratio:>6.2f}x {result['bytes'] / 2**20:>8.1f} MB "
              f"{result['bytes'] / parquet['bytes']:>10.2f}x")


if __name__ == "__main__":
    main()
