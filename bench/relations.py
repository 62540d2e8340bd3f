"""Memory and speed of relations at scale: a parent of 20M rows with a child of 100M rows.

Each scenario runs in its own child process (this script with --scenario), which reports wall
time and its peak RSS (VmHWM), so peaks are per scenario:

  parent-only     the 20M-row parent alone: the baseline memory of a plain table
  per-parent      + orders sized per customer (Poisson 5 per customer ≈ 100M rows), reading
                  the customer's tier (amount by tier) and created_at (order_date after it),
                  with an aggregate count on the parent
  weighted        + tickets (100M rows) referencing customers weighted by tier (two-stage draw)

What a child block needs from its parents: for `per`, only a prefix sum of child counts per
parent *block* (306 numbers here) plus the parent block's counts, regenerated on demand; for a
read through a reference (`customer_id.tier`), the whole parent column, materialised once
(4 bytes a row for a dictionary-encoded tier or a date); for a weighted pick, the parents
grouped by tier (4 bytes a row). So memory grows with parent rows × columns read, never with
child rows. The plan prints what it keeps ("parent values kept for references").

  .venv/bin/python bench/relations.py [--parents 20M] [--per-parent 5] [--workers 2] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def spec(scenario: str, parents: int, per_parent: float) -> dict:
    tables = {
        "customers": {"rows": parents, "columns": {
            "customer_id": {"kind": "id", "format": "C-{:09d}"},
            "tier": {"kind": "categorical", "values": {"Free": 60, "Pro": 30, "Enterprise": 10}},
            "created_at": {"kind": "date", "start": "-3y", "end": "-6mo"},
        }},
    }
    if scenario == "per-parent":
        tables["customers"]["columns"]["n_orders"] = {"kind": "aggregate", "fn": "count", "of": "orders"}
        tables["orders"] = {"rows": {"per": "customers", "count": {"kind": "poisson", "lam": per_parent}},
                            "columns": {
                                "order_id": {"kind": "sequence"},
                                "customer_id": {"kind": "reference", "to": "customers.customer_id"},
                                "amount": {"kind": "lognormal", "by": "customer_id.tier", "round": 2, "cases": {
                                    "Enterprise": {"mean": 7, "sigma": 0.8}, "Pro": {"mean": 5, "sigma": 0.7},
                                    "Free": {"mean": 3.5, "sigma": 0.6}}},
                                "order_date": {"kind": "date", "start": "-1y", "end": "today",
                                               "after": "customer_id.created_at"},
                            }}
    if scenario == "weighted":
        tables["tickets"] = {"rows": int(parents * per_parent), "columns": {
            "ticket_id": {"kind": "sequence"},
            "customer_id": {"kind": "reference", "to": "customers.customer_id", "pick": "weighted",
                            "weight_by": "tier", "weights": {"Enterprise": 5, "Pro": 2, "Free": 1}},
            "category": {"kind": "categorical", "values": {"Auth": 25, "Network": 30, "Billing": 25, "Account": 20}},
        }}
    return {"name": f"bench-{scenario}", "seed": 1, "as_of": "2024-12-31", "tables": tables}


def run_child(args) -> None:
    import fabula

    started = time.perf_counter()
    plan = fabula.compile_plan(spec(args.scenario, args.parents, args.per_parent))
    compiled = time.perf_counter()
    manifest = fabula.generate(plan, args.out, workers=args.workers, mode="overwrite").manifest
    elapsed = time.perf_counter() - started
    peak = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                if line.startswith("VmHWM"))
    print(json.dumps({"rows": {name: t.rows for name, t in manifest.tables.items()},
                      "seconds": elapsed, "plan_seconds": compiled - started, "peak_mb": peak / 1024,
                      "kept_mb": plan.relations.memory_bytes() / 2**20}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parents", type=lambda s: int(float(s.replace("M", "e6").replace("_", ""))), default=20_000_000)
    parser.add_argument("--per-parent", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--scenarios", default="parent-only,per-parent,weighted")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--scenario", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.parents <= 0 or args.per_parent <= 0 or args.workers <= 0:
        parser.error("--parents, --per-parent and --workers must be positive")
    if args.scenario:
        run_child(args)
        return
    root = HERE / "out" / "relations"
    print(f"relations benchmark: {args.parents:,} parents, ~{args.per_parent:g} children each, "
          f"{args.workers} workers, {os.cpu_count()} cores")
    print(f"{'scenario':<12} {'rows':>14} {'seconds':>8} {'plan s':>7} {'rows/s':>12} {'peak RSS MB':>12} {'kept MB':>8}")
    for scenario in args.scenarios.split(","):
        out = root / scenario
        result = subprocess.run(
            [sys.executable, __file__, "--scenario", scenario, "--out", str(out), "--parents", str(args.parents),
             "--per-parent", str(args.per_parent), "--workers", str(args.workers)],
            capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"{scenario} failed:\n{result.stderr}")
        report = json.loads(result.stdout.strip().splitlines()[-1])
        rows = sum(report["rows"].values())
        print(f"{scenario:<12} {rows:>14,} {report['seconds']:>8.1f} {report['plan_seconds']:>7.1f} "
              f"{rows / report['seconds']:>12,.0f} {report['peak_mb']:>12,.0f} {report['kept_mb']:>8,.1f}")
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
