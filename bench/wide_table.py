"""Wide-table benchmark: fabula against a plain NumPy + PyArrow script writing the same table.

What is measured
    Writing one 8-column table as snappy Parquet, `--rows` rows (default 10M):

        event_id       id           EVT-{:09d}                         string
        amount         lognormal    mean 3.0, sigma 1.0 (of the log)   float64
        channel        categorical  5 strings, weights 55/25/12/5/3     dictionary<int32, string>
        event_time     timestamp    2024-01-01 .. 2024-12-31, us       timestamp[us]
        customer_name  faker        provider `name`, pool of 5,000     dictionary<int32, string>
        items          poisson      lam 3                              int64
        is_member      boolean      p 0.3                              bool
        ship_date      date         2024-01-01 .. 2024-12-31           date32

    * fabula: `fabula.compile_plan(spec)` + `fabula.generate(plan, out, workers=N)`
      (threads; N defaults to the machine's core count).
    * baseline: one `np.random.default_rng(seed)`, single process, no fabula import. Ids via
      pyarrow.compute cast + utf8_lpad + binary_join_element_wise (the fastest plain way);
      categorical codes via `rng.choice(5, n, p=weights)`; names by sampling a list of 5,000
      distinct Faker names built in the same run; everything written with
      `pyarrow.parquet.ParquetWriter` one 262,144-row chunk at a time (streaming, so its
      memory is as bounded as fabula's). It writes the same schema as fabula (the two string
      categoricals dictionary-encoded, the same writer options: snappy, dictionary pages only
      for those two columns, 262,144-row row groups); the parent checks the schemas match.

How
    Each variant runs in its own child process (this script with the hidden `--variant` flag),
    so peak memory is per variant. Imports (numpy, pyarrow, faker, fabula, and the pandas import
    pyarrow makes lazily on its first conversion when pandas is installed) happen before the
    clock starts. The clock covers everything after: in fabula, compiling the plan (which
    builds the Faker pool) and generating; in the baseline, building the Faker name list,
    drawing and writing. The Faker pool build is COUNTED in both by default (fabula runs with
    an empty FABULA_CACHE_DIR, so its on-disk pool cache is cold); `--warm-pool` builds the
    pool/list before the clock in both instead. Each child reports wall seconds, CPU seconds
    (user + sys), the pool build seconds, its output size, and its peak RSS (`VmHWM` from
    /proc/self/status at the end; this includes the interpreter and imported libraries,
    shown separately as "RSS at start").

    `--memory-sweep` runs fabula alone at 1M, 10M and 50M rows (`--sweep-rows` to change) and
    compares peak RSS of the largest and smallest runs.

How to read the result
    rows/s ratio = fabula rows/s / baseline rows/s. Goal: >= 0.5x. On a machine with several
    cores fabula uses threads and the baseline one core, so compare "CPU s" too: a ratio above
    1 with more CPU seconds means parallelism, not less work per row.
    Memory sweep: goal is peak RSS at the largest size within ~20% of the smallest
    (ratio <= 1.2x), i.e. memory bounded by workers x one row group, not by row count.
    Work is split into part files of 16 blocks (about 1M rows), so a run with fewer parts than
    workers has idle threads and a lower peak: the "parts" column shows this, and the sweep
    prints a note when its smallest size is affected (start at >= workers million rows, or use
    --workers 1, to isolate the effect of row count).
    Speed figures are for this machine only; compare ratios, not seconds, across machines.

Usage
    .venv/bin/python bench/wide_table.py [--rows 10_000_000] [--workers N] [--out DIR]
                                         [--repeat K] [--warm-pool] [--keep]
    .venv/bin/python bench/wide_table.py --memory-sweep [--sweep-rows 1M,10M,50M] [--workers N]

    Outputs go under bench/out/ (gitignored) by default and are removed at the end unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "out"
RUN_FOLDER = "wide_table-run"
REPORT_MARK = "WIDE_TABLE_REPORT "

SEED = 20240101
TABLE = "events"
CHUNK_ROWS = 262_144
"""Baseline chunk = fabula's row group (4 blocks of 65,536 rows), so both write alike."""
ID_PREFIX, ID_WIDTH = "EVT-", 9
LOG_MEAN, LOG_SIGMA = 3.0, 1.0
CHANNELS = {"web": 55.0, "app": 25.0, "store": 12.0, "phone": 5.0, "partner": 3.0}
YEAR_START, YEAR_END = "2024-01-01", "2024-12-31"
NAME_POOL = 5_000
ITEMS_LAM = 3.0
MEMBER_P = 0.3
DICTIONARY_COLUMNS = ["channel", "customer_name"]

SPEED_GOAL = 0.5
MEMORY_GOAL = 1.2


def spec(rows: int) -> dict:
    """The fabula spec for the table (a plain mapping; the YAML would say the same)."""
    return {
        "name": "wide_table",
        "seed": SEED,
        "as_of": YEAR_END,
        "tables": {TABLE: {"rows": rows, "columns": {
            "event_id": {"kind": "id", "format": ID_PREFIX + "{:0%dd}" % ID_WIDTH},
            "amount": {"kind": "lognormal", "mean": LOG_MEAN, "sigma": LOG_SIGMA},
            "channel": {"kind": "categorical", "values": dict(CHANNELS)},
            "event_time": {"kind": "timestamp", "start": YEAR_START, "end": YEAR_END, "unit": "us"},
            "customer_name": {"kind": "faker", "provider": "name", "pool": NAME_POOL},
            "items": {"kind": "poisson", "lam": ITEMS_LAM},
            "is_member": {"kind": "boolean", "p": MEMBER_P},
            "ship_date": {"kind": "date", "start": YEAR_START, "end": YEAR_END},
        }}},
    }


# -- children: one variant each, reporting one JSON line --------------------------------------


def proc_status_mb(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"{field} not in /proc/self/status (Linux only)")


def cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def folder_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def run_fabula(rows: int, workers: int, out: Path, warm_pool: bool) -> dict:
    import faker  # noqa: F401  (imported before the clock, as in the baseline)
    import pyarrow as pa

    import fabula

    warm_lazy_imports(pa)
    table_spec = spec(rows)
    if warm_pool:
        fabula.compile_plan(table_spec)  # builds the pool; the timed compile reuses it
    start_rss = proc_status_mb("VmRSS")
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    plan = fabula.compile_plan(table_spec)
    t1 = time.perf_counter()
    manifest = fabula.generate(plan, out, workers=workers, mode="overwrite", compression="snappy").manifest
    t2 = time.perf_counter()
    return {"seconds": t2 - t0, "pool_seconds": t1 - t0, "cpu_seconds": cpu_seconds() - cpu0,
            "start_rss_mb": start_rss, "output_bytes": folder_bytes(out), "workers": workers,
            "parts": len(manifest.tables[TABLE].files)}


def warm_lazy_imports(pa) -> None:
    """pyarrow imports pandas (when installed) on its first conversion, about 0.3 s: an import,
    so it happens before the clock in both variants."""
    pa.array([0])


def faker_names(size: int) -> list[str]:
    """`size` distinct Faker names (stops early if Faker runs out, as fabula's pool does)."""
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(SEED)
    seen: dict[str, None] = {}
    stale = 0
    while len(seen) < size and stale < 2_000:
        name = fake.name()
        if name in seen:
            stale += 1
        else:
            seen[name] = None
            stale = 0
    return list(seen)


def run_baseline(rows: int, out: Path, warm_pool: bool) -> dict:
    from datetime import date

    import faker  # noqa: F401
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    warm_lazy_imports(pa)
    if warm_pool:
        names = pa.array(faker_names(NAME_POOL), type=pa.string())
    start_rss = proc_status_mb("VmRSS")
    cpu0, t0 = cpu_seconds(), time.perf_counter()

    if not warm_pool:
        names = pa.array(faker_names(NAME_POOL), type=pa.string())
    t1 = time.perf_counter()
    rng = np.random.default_rng(SEED)
    channels = pa.array(list(CHANNELS), type=pa.string())
    weights = np.array(list(CHANNELS.values())) / sum(CHANNELS.values())
    first_day = (date.fromisoformat(YEAR_START) - date(1970, 1, 1)).days
    last_day = (date.fromisoformat(YEAR_END) - date(1970, 1, 1)).days
    day_us = 86_400 * 1_000_000
    schema = pa.schema([
        ("event_id", pa.string()), ("amount", pa.float64()),
        ("channel", pa.dictionary(pa.int32(), pa.string())), ("event_time", pa.timestamp("us")),
        ("customer_name", pa.dictionary(pa.int32(), pa.string())), ("items", pa.int64()),
        ("is_member", pa.bool_()), ("ship_date", pa.date32()),
    ])
    with pq.ParquetWriter(out, schema, compression="snappy", use_dictionary=DICTIONARY_COLUMNS) as writer:
        for first in range(0, rows, CHUNK_ROWS):
            n = min(CHUNK_ROWS, rows - first)
            digits = pc.utf8_lpad(pc.cast(pa.array(np.arange(first, first + n)), pa.string()),
                                  width=ID_WIDTH, padding="0")
            ids = pc.binary_join_element_wise(ID_PREFIX, digits, "")
            codes = rng.choice(len(channels), n, p=weights).astype(np.int32)
            stamps = rng.integers(first_day * day_us, (last_day + 1) * day_us, n, dtype=np.int64)
            name_codes = rng.integers(0, len(names), n, dtype=np.int32)
            days = rng.integers(first_day, last_day, n, endpoint=True, dtype=np.int64).astype(np.int32)
            chunk = pa.Table.from_arrays([
                ids,
                pa.array(rng.lognormal(LOG_MEAN, LOG_SIGMA, n)),
                pa.DictionaryArray.from_arrays(pa.array(codes), channels),
                pa.array(stamps).view(pa.timestamp("us")),
                pa.DictionaryArray.from_arrays(pa.array(name_codes), names),
                pa.array(rng.poisson(ITEMS_LAM, n).astype(np.int64)),
                pa.array(rng.random(n) < MEMBER_P),
                pa.array(days).view(pa.date32()),
            ], schema=schema)
            writer.write_table(chunk, row_group_size=n)
    t2 = time.perf_counter()
    if "fabula" in sys.modules:
        raise RuntimeError("the baseline imported fabula")
    return {"seconds": t2 - t0, "pool_seconds": t1 - t0, "cpu_seconds": cpu_seconds() - cpu0,
            "start_rss_mb": start_rss, "output_bytes": folder_bytes(out), "workers": 1, "parts": 1}


def child(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if args.variant == "fabula":
        report = run_fabula(args.rows, args.workers, out, args.warm_pool)
    else:
        report = run_baseline(args.rows, out, args.warm_pool)
    report.update(variant=args.variant, rows=args.rows, peak_rss_mb=proc_status_mb("VmHWM"))
    print(REPORT_MARK + json.dumps(report), flush=True)
    return 0


# -- parent: run children, print tables ----------------------------------------------------------


class ChildFailed(RuntimeError):
    pass


def measure(variant: str, rows: int, workers: int, run_dir: Path, warm_pool: bool) -> dict:
    out = run_dir / (f"{variant}-{rows}" + (".parquet" if variant == "baseline" else ""))
    remove(out)
    env = dict(os.environ)
    if variant == "fabula" and not warm_pool:
        cache = run_dir / "empty-faker-cache"
        remove(cache)
        env["FABULA_CACHE_DIR"] = str(cache)  # cold pool cache: the pool build is counted
    command = [sys.executable, str(Path(__file__).resolve()), "--variant", variant,
               "--rows", str(rows), "--workers", str(workers), "--out", str(out)]
    if warm_pool:
        command.append("--warm-pool")
    load = os.getloadavg()[0]  # other work on the machine skews wall time: shown with the result
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    lines = [line for line in result.stdout.splitlines() if line.startswith(REPORT_MARK)]
    if result.returncode != 0 or not lines:
        raise ChildFailed(f"the {variant} child failed (exit {result.returncode}):\n"
                          f"{result.stdout}{result.stderr}")
    report = json.loads(lines[-1][len(REPORT_MARK):])
    report["path"] = str(out)
    report["load"] = load
    return report


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = [f"python {sys.version.split()[0]}"]
    for package in ("fabula", "numpy", "pyarrow", "faker"):
        try:
            parts.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package} ?")
    return ", ".join(parts)


def same_schema(fabula_out: str, baseline_out: str) -> str:
    import pyarrow.parquet as pq

    first_part = sorted(Path(fabula_out, TABLE).glob("*.parquet"))[0]
    a, b = pq.read_schema(first_part), pq.read_schema(baseline_out)
    if a.remove_metadata().equals(b.remove_metadata()):
        return "identical"
    return f"DIFFERENT\n  fabula:   {a}\n  baseline: {b}"


def verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def print_header(args: argparse.Namespace, title: str) -> None:
    print(title)
    print(f"machine: {os.cpu_count()} cores (os.cpu_count); fabula workers={args.workers} "
          f"(threads); baseline: 1 process, 1 thread of Python")
    print(f"versions: {versions()}")
    if args.warm_pool:
        print(f"Faker pool: {NAME_POOL:,} distinct `name` values built BEFORE the clock in both "
              "variants (--warm-pool): not counted.")
    else:
        print(f"Faker pool: {NAME_POOL:,} distinct `name` values built INSIDE the timed region in "
              "both variants (fabula with an empty FABULA_CACHE_DIR): counted; see 'pool s'.")
    print("time: wall clock after imports (incl. pyarrow's lazy pandas import); CPU s: user+sys of the child; peak RSS: VmHWM of the "
          "child (includes interpreter + libraries, see 'RSS at start'); load: 1-min load average "
          "just before the child started (other work on the machine inflates wall time)\n")


def print_rows(reports: list[dict], first_column: str) -> None:
    header = (f"{first_column:<10} {'rows':>12} {'seconds':>9} {'rows/s':>12} {'peak RSS MB':>12} "
              f"{'output MB':>10} {'CPU s':>8} {'pool s':>7} {'RSS at start':>13} {'parts':>6} {'load':>5}")
    print(header)
    print("-" * len(header))
    for r in reports:
        print(f"{r['label']:<10} {r['rows']:>12,} {r['seconds']:>9.2f} {r['rows'] / r['seconds']:>12,.0f} "
              f"{r['peak_rss_mb']:>12,.0f} {r['output_bytes'] / 1e6:>10,.0f} {r['cpu_seconds']:>8.2f} "
              f"{r['pool_seconds']:>7.2f} {r['start_rss_mb']:>13,.0f} {r['parts']:>6} {r['load']:>5.1f}")


def best(runs: list[dict], label: str) -> dict:
    """The fastest of several runs (peak RSS: the highest seen)."""
    fastest = dict(min(runs, key=lambda r: r["seconds"]))
    fastest["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    fastest["label"] = label
    return fastest


def compare(args: argparse.Namespace, run_dir: Path) -> int:
    print_header(args, f"fabula wide-table benchmark: {args.rows:,} rows x 8 columns -> snappy Parquet"
                       + (f" (best of {args.repeat}, variants interleaved)" if args.repeat > 1 else ""))
    runs: dict[str, list[dict]] = {"fabula": [], "baseline": []}
    for _ in range(args.repeat):  # interleaved, so a burst of other load hits both alike
        for variant in runs:
            runs[variant].append(measure(variant, args.rows, args.workers, run_dir, args.warm_pool))
    fab, base = best(runs["fabula"], "fabula"), best(runs["baseline"], "baseline")
    print_rows([fab, base], "variant")
    ratio = (args.rows / fab["seconds"]) / (args.rows / base["seconds"])
    print(f"\nrows/s ratio fabula / baseline: {ratio:.2f}x   (goal >= {SPEED_GOAL}x: {verdict(ratio >= SPEED_GOAL)})")
    print(f"CPU-time ratio baseline / fabula: {base['cpu_seconds'] / fab['cpu_seconds']:.2f}x "
          "(work per row, insensitive to load and cores; > 1 means fabula does less work)")
    print(f"peak RSS ratio fabula / baseline: {fab['peak_rss_mb'] / base['peak_rss_mb']:.2f}x")
    print(f"output schemas: {same_schema(fab['path'], base['path'])}")
    if args.keep:
        print(f"outputs kept: {fab['path']}  {base['path']}")
    return 0


def sweep(args: argparse.Namespace, run_dir: Path) -> int:
    sizes = sorted(args.sweep_rows)
    print_header(args, "fabula memory sweep: peak RSS by row count (fabula alone)")
    reports = []
    for rows in sizes:
        report = best([measure("fabula", rows, args.workers, run_dir, args.warm_pool)
                       for _ in range(args.repeat)], "fabula")
        reports.append(report)
        if not args.keep:
            remove(Path(report["path"]))  # keep the disk footprint to one size at a time
    print_rows(reports, "variant")
    small, large = reports[0], reports[-1]
    ratio = large["peak_rss_mb"] / small["peak_rss_mb"]
    print(f"\npeak RSS {large['rows']:,} rows / {small['rows']:,} rows: {ratio:.2f}x   "
          f"(goal <= {MEMORY_GOAL}x, i.e. flat within ~20%: {verdict(ratio <= MEMORY_GOAL)})")
    growth = large["peak_rss_mb"] - small["peak_rss_mb"]
    extra = (large["rows"] - small["rows"]) / 1e6
    print(f"growth: {growth:+,.0f} MB for {extra:,.0f}M more rows ({growth / extra:+.2f} MB per million rows)")
    busy = min(args.workers, small["parts"])
    if busy < args.workers:
        print(f"note: {small['rows']:,} rows is only {small['parts']} part file(s), so only {busy} of "
              f"{args.workers} worker threads had work; memory scales with busy workers (one row group "
              f"each), so this ratio mixes row count with concurrency. For row count alone, start the "
              f"sweep at >= {args.workers} parts (about {args.workers}M rows) or pass --workers 1.")
    return 0


# -- arguments ------------------------------------------------------------------------------------

_COUNT = re.compile(r"^\s*(\d[\d_]*(?:\.\d+)?)\s*([kKmM]?)\s*$")


def row_count(text: str) -> int:
    """'10_000_000', '10000000', '10M', '2.5M' or '500k' -> a positive int."""
    match = _COUNT.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a row count (write 10_000_000, 10M or 500k)")
    number = float(match[1].replace("_", "")) * {"": 1, "k": 1e3, "m": 1e6}[match[2].lower()]
    if number < 1 or number != int(number):
        raise argparse.ArgumentTypeError(f"{text!r}: the row count must be a whole number >= 1")
    return int(number)


def row_counts(text: str) -> list[int]:
    counts = [row_count(part) for part in text.split(",") if part.strip()]
    if len(counts) < 2 or len(set(counts)) != len(counts):
        raise argparse.ArgumentTypeError(f"{text!r}: give at least two different row counts, e.g. 1M,10M,50M")
    return counts


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be 1 or more")
    return value


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/wide_table.py", description="fabula vs plain numpy+pyarrow on a wide table (see the module docstring).")
    parser.add_argument("--rows", type=row_count, default=10_000_000, help="rows to write (default 10M)")
    parser.add_argument("--workers", type=positive, default=os.cpu_count() or 1,
                        help="fabula worker threads (default: core count)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write (default bench/out/)")
    parser.add_argument("--repeat", type=positive, default=1, help="runs per variant; report the fastest")
    parser.add_argument("--memory-sweep", action="store_true", help="run fabula alone at several sizes")
    parser.add_argument("--sweep-rows", type=row_counts, default=[1_000_000, 10_000_000, 50_000_000],
                        help="sizes for --memory-sweep (default 1M,10M,50M)")
    parser.add_argument("--warm-pool", action="store_true",
                        help="build the Faker name pool before the clock in both variants")
    parser.add_argument("--keep", action="store_true", help="keep the Parquet outputs")
    parser.add_argument("--variant", choices=("fabula", "baseline"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out} is a file; give a folder")
    if args.variant and args.memory_sweep:
        parser.error("--variant is internal and cannot be combined with --memory-sweep")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.variant:
        return child(args)
    created_out = not args.out.exists()
    run_dir = args.out / RUN_FOLDER
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        return sweep(args, run_dir) if args.memory_sweep else compare(args, run_dir)
    except ChildFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(run_dir, ignore_errors=True)
            if created_out and not any(args.out.iterdir()):
                args.out.rmdir()  # only a folder this run created, and only if empty


if __name__ == "__main__":
    sys.exit(main())
