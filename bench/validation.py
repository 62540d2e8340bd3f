"""Validation overhead: the same generation with and without the validation report, in one run.

What is measured
    `fabula.generate(plan, out)` of the built-in `retail` spec scaled to about `--rows` rows in
    total (default 10M: customers, products, orders per customer, order lines; keys, references,
    aggregates, conditional columns), once with `validate=False` ("plain") and once with the
    default validation ("validated": per-block summaries while generating, then the checks on
    the staged files — DuckDB for what needs several tables — and report.json / report.html).
    `products.name` loses `unique` so the spec can scale past its 5,000-name Faker pool.

How
    Each variant runs in its own child process (this script with the hidden `--variant` flag),
    variants interleaved `--repeat` times, the fastest kept. Imports and compiling the plan happen
    before the clock; the clock covers generating, writing, and (validated) every check and
    both reports. The validated child also reports how long the checks after the last block
    took ("checks s": DuckDB and the report files), the rest of its extra time being the block
    summaries computed alongside generation.

How to read the result
    time ratio = validated seconds / plain seconds: the price of the report, in wall time on this
    machine. CPU ratio = validated CPU / plain CPU: the extra work, insensitive to other load.
    The goal is "little": a ratio under 1.2.

Usage
    .venv/bin/python bench/validation.py [--rows 10M] [--workers N] [--repeat K] [--spec retail] [--keep]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "out"
RUN_FOLDER = "validation-run"
REPORT_MARK = "VALIDATION_BENCH "
GOAL = 1.2


def scaled_spec(name: str, rows: int) -> tuple[dict, float]:
    """The spec as a mapping and the --scale that gives about `rows` rows in total."""
    import yaml

    import fabula
    from fabula.scenarios import builtin_names, builtin_text

    text = builtin_text(name) if name in builtin_names() else Path(name).read_text(encoding="utf-8")
    spec = yaml.safe_load(text)
    for table in spec["tables"].values():  # Faker pools are finite: uniqueness would cap the scale
        for column in table["columns"].values():
            if isinstance(column, dict) and column.get("kind") == "faker":
                column.pop("unique", None)
    at_one = fabula.compile_plan(spec).total_rows
    return spec, rows / at_one


def cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child(args: argparse.Namespace) -> int:
    import pyarrow as pa

    import fabula

    pa.array([0])  # pyarrow's lazy imports, before the clock
    spec, scale = scaled_spec(args.spec, args.rows)
    plan = fabula.compile_plan(spec, scale=scale)
    importlib.import_module("duckdb")  # imported before the clock in both variants

    cpu0, t0 = cpu_seconds(), time.perf_counter()
    result = fabula.generate(plan, Path(args.out), mode="overwrite", workers=args.workers,
                             validate=args.variant == "validated", strict=False)
    seconds, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    report = {"variant": args.variant, "rows": plan.total_rows, "seconds": seconds, "cpu_seconds": cpu,
              "checks_seconds": result.timings.validate, "peak_rss_mb": peak_rss_mb(),
              "verdict": result.report.verdict if result.report is not None else "-"}
    print(REPORT_MARK + json.dumps(report), flush=True)
    return 0


def measure(variant: str, args: argparse.Namespace, run_dir: Path) -> dict:
    out = run_dir / variant
    command = [sys.executable, str(Path(__file__).resolve()), "--variant", variant, "--rows", str(args.rows),
               "--workers", str(args.workers), "--spec", args.spec, "--out", str(out)]
    load = os.getloadavg()[0]
    done = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith(REPORT_MARK)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the {variant} child failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)
    return {**json.loads(lines[-1][len(REPORT_MARK):]), "load": load}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/validation.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=lambda text: int(float(text.lower().replace("_", "").replace("m", "e6")
                                                              .replace("k", "e3"))),
                        default=10_000_000, help="rows in total, about (default 10M)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=1, help="runs per variant; the fastest is kept")
    parser.add_argument("--spec", default="retail", help="a built-in name or a spec file (default retail)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--keep", action="store_true", help="keep the outputs")
    parser.add_argument("--variant", choices=("plain", "validated"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.variant:
        return child(args)
    created_out = not args.out.exists()
    run_dir = args.out / RUN_FOLDER
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        runs: dict[str, list[dict]] = {"plain": [], "validated": []}
        for _ in range(args.repeat):  # interleaved, so a burst of other load hits both alike
            for variant in runs:
                runs[variant].append(measure(variant, args, run_dir))
    finally:
        if not args.keep:
            shutil.rmtree(run_dir, ignore_errors=True)
            if created_out and not any(args.out.iterdir()):
                args.out.rmdir()  # only a folder this run created, and only if empty
    best = {variant: min(reports, key=lambda report: report["seconds"]) for variant, reports in runs.items()}
    plain, validated = best["plain"], best["validated"]
    print(f"fabula validation overhead: {args.spec}, {plain['rows']:,} rows, {args.workers} workers, "
          f"best of {args.repeat} (machine: {os.cpu_count()} cores)")
    print(f"{'variant':<10} {'seconds':>8} {'rows/s':>11} {'CPU s':>7} {'checks s':>9} {'peak MB':>8} {'load':>5}  verdict")
    for report in (plain, validated):
        print(f"{report['variant']:<10} {report['seconds']:>8.2f} {report['rows'] / report['seconds']:>11,.0f} "
              f"{report['cpu_seconds']:>7.2f} {report['checks_seconds']:>9.2f} {report['peak_rss_mb']:>8,.0f} "
              f"{report['load']:>5.1f}  {report['verdict']}")
    ratio = validated["seconds"] / plain["seconds"]
    cpu_ratio = validated["cpu_seconds"] / plain["cpu_seconds"]
    print(f"\ntime ratio validated / plain: {ratio:.2f}x   (goal < {GOAL}x: {'MET' if ratio < GOAL else 'NOT MET'})")
    print(f"CPU ratio validated / plain:  {cpu_ratio:.2f}x   (extra work, insensitive to other load)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
