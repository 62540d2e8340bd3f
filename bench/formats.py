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

With `--partition-by orders.status` (several: `orders.status,tickets.category`), each format is
also written with those tables in Hive-style partition folders (`partition_by:`), and the
partitioned run's throughput is shown as a ratio to the same format unpartitioned: what the
split by partition (a spool file per part, then one file per partition) costs.

Usage
    .venv/bin/python bench/formats.py [--scale 1] [--workers N] [--repeat 3] [--out DIR]
                                      [--partition-by TABLE.COLUMN,...]
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


def partitioned_spec(partition_by: str):
    """saas_support with `partition_by:` on the tables named in `table.column,…` (loaded, so the
    bound on partition folders holds here too)."""
    import yaml

    from fabula.scenarios import builtin_text

    data = yaml.safe_load(builtin_text("saas_support"))
    for target in partition_by.split(","):
        table, column = target.strip().split(".")
        data["tables"][table].setdefault("partition_by", []).append(column)
    return fabula.load_spec(data)


def best_of(plan, output_format: str, workers: int | None, repeat: int, out: Path) -> tuple[float, int]:
    best, size = None, 0
    for attempt in range(repeat):
        target = out / f"{output_format}-{attempt}"
        started = time.perf_counter()
        fabula.generate(plan, target, output_format=output_format, workers=workers, validate=False)
        elapsed = time.perf_counter() - started
        size = folder_bytes(target)
        shutil.rmtree(target)
        best = elapsed if best is None else min(best, elapsed)
    return best, size


def run(scale: float, workers: int | None, repeat: int, out: Path, partition_by: str | None = None) -> list[dict]:
    plan = fabula.compile_plan("saas_support", scale=scale)
    partitioned = fabula.compile_plan(partitioned_spec(partition_by), scale=scale) if partition_by else None
    rows = plan.total_rows
    results = []
    for output_format in FORMATS:
        seconds, size = best_of(plan, output_format, workers, repeat, out)
        result = {"format": output_format, "rows": rows, "seconds": seconds, "bytes": size}
        if partitioned is not None:
            result["partitioned_seconds"], result["partitioned_bytes"] = best_of(
                partitioned, output_format, workers, repeat, out)
        results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--partition-by", help="also write these tables partitioned: orders.status,…")
    options = parser.parse_args()
    out = options.out or Path(tempfile.mkdtemp(prefix="fabula-bench-formats-"))
    out.mkdir(parents=True, exist_ok=True)
    try:
        results = run(options.scale, options.workers, options.repeat, out, options.partition_by)
    finally:
        if options.out is None:
            shutil.rmtree(out, ignore_errors=True)
    parquet = results[0]
    print(f"{parquet['rows']:,} rows, best of {options.repeat}")
    print(f"{'format':<8} {'rows/s':>12} {'ratio':>7} {'size':>10} {'size ratio':>11}"
          + (f" {'partitioned rows/s':>19} {'vs flat':>8}" if options.partition_by else ""))
    for result in results:
        rate = result["rows"] / result["seconds"]
        ratio = parquet["seconds"] / result["seconds"]
        line = (f"{result['format']:<8} {rate:>12,.0f} {ratio:>6.2f}x {result['bytes'] / 2**20:>8.1f} MB "
                f"{result['bytes'] / parquet['bytes']:>10.2f}x")
        if "partitioned_seconds" in result:
            line += (f" {result['rows'] / result['partitioned_seconds']:>19,.0f} "
                     f"{result['seconds'] / result['partitioned_seconds']:>7.2f}x")
        print(line)


if __name__ == "__main__":
    main()
