"""The `saas_support` story benchmark: fabula against the ways people write this data today.

Variants (each run in its own child process, one after the other, at each scale):

    fabula-local   `fabula.compile_plan(spec, scale=S)` + `fabula.generate(plan, out, workers=N)`
                   (N = all cores), the same as `fabula generate saas_support --scale S`
    fabula-spark   the same plan through `fabula.engine.spark.write_spark(plan, spark, out,
                   mode="overwrite")` on a local[2] session; skipped with a note when that
                   module or function is not there
    pyspark-plain  bench/baselines/pyspark_saas_support.py: a plain PySpark job (Faker in pandas
                   UDFs, rand()-based categoricals, per-row log-normal UDF) on a local[2] session
    naive          bench/baselines/naive_saas_support.py: a Python loop per row with Faker and
                   np.random.choice, lists of dicts -> pandas -> Parquet

What is measured
    Each child imports its libraries before the clock. "seconds" is the wall time of the work
    after that: for fabula, compiling the plan (with a cold Faker pool cache, so the pool build
    is counted, as Faker is in the baselines) and writing; for Spark, everything after the
    session exists, whose start-up (JVM launch) is shown separately as "start s". Rows are
    counted from the written Parquet footers. Peak RSS is of the whole process tree (the child,
    and for Spark the JVM and its Python workers), sampled every 0.1 s from /proc, and never
    below the child's own VmHWM; CPU seconds are the tree's too, over the child's whole life.
    Ratios are fabula-local's rows/s over the variant's (how many
    times faster fabula-local is) and the variant's peak RSS over fabula-local's.
    Below the numbers, a realism line per variant read back from its Parquet
    (bench/story_realism.py): incident uplift, weekday/weekend, intraday and holiday shape,
    Authentication share and CSAT in the incident, orders before their customer.

Skipping
    A variant is skipped at a scale when its runs at smaller scales in this invocation predict
    more than --max-seconds (default 600): time fitted as a fixed cost plus a cost per row
    through the two largest runs (proportional to rows after one run); the row budget is printed. A child still
    running at twice --max-seconds is killed. --big adds scale 1000 when the machine has the
    memory and disk for it.

Usage
    .venv/bin/python bench/story.py [--scales 1,10,100] [--big] [--variants naive,pyspark-plain]
                                    [--spec saas_support] [--max-seconds 600] [--keep]

    Outputs go under bench/out/story-run/ (gitignored) and are removed after each variant's
    realism check unless --keep.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from wide_table import proc_status_mb, remove

HERE = Path(__file__).resolve().parent
BASELINE_SPEC = str(HERE / "specs" / "saas_support_baseline.yaml")
"""The story the baselines write (the built-in saas_support has since grown columns)."""
BASELINES = HERE / "baselines"
DEFAULT_OUT = HERE / "out"
RUN_FOLDER = "story-run"
REPORT_MARK = "STORY_REPORT "

VARIANTS = ("fabula-local", "fabula-spark", "pyspark-plain", "naive")
EXTRA_VARIANTS = ("fabula-novalidate", "handwritten")  # for bench/speed.py; not in story.py's default run
SPARK_VARIANTS = {"fabula-spark", "pyspark-plain"}
FABULA_VARIANTS = {"fabula-local", "fabula-spark", "fabula-novalidate"}
HANDWRITTEN = Path(os.environ.get("FABULA_HANDWRITTEN", HERE.parent.parent / "shared" / "bench" / "handwritten_saas.py"))
"""The hand-written numpy + polars script of issue 16, in `../shared` beside the repository
(override with FABULA_HANDWRITTEN)."""
REFERENCE = "fabula-local"
SAMPLE_SECONDS = 0.1

BIG_SCALE = 1000
BIG_MEMORY_GB, BIG_DISK_GB = 8, 20  # scale 1000 is 35.5M rows: a few GB of Parquet per variant
SPEED_GOAL = 20  # at scale 100: fabula-local >= 20x the plain PySpark job's rows/s


# -- children: one variant each, reporting one JSON line ------------------------------------------


def run_naive(args: argparse.Namespace, out: Path) -> dict:
    import naive_saas_support as naive
    import pyarrow.parquet  # noqa: F401  (pandas imports it on the first to_parquet: an import)

    t0 = time.perf_counter()
    naive.generate(args.scale, out)
    return {"seconds": time.perf_counter() - t0}


def run_fabula_local(args: argparse.Namespace, out: Path) -> dict:
    import faker  # noqa: F401  (imported before the clock, as in the baselines)

    import fabula
    import fabula.api  # noqa: F401  (fabula loads its modules on first use: before the clock too)
    import fabula.validate.run  # noqa: F401

    t0 = time.perf_counter()
    plan = fabula.compile_plan(args.spec, scale=args.scale)
    fabula.generate(plan, out, workers=args.workers, mode="overwrite", validate=args.variant != "fabula-novalidate")
    return {"seconds": time.perf_counter() - t0}


def run_handwritten(args: argparse.Namespace, out: Path) -> dict:
    """The hand-written script, run in this process after its imports (as the others are)."""
    import contextlib
    import io
    import runpy

    import faker  # noqa: F401
    import numpy  # noqa: F401
    import polars  # noqa: F401

    argv, captured = sys.argv, io.StringIO()
    sys.argv = [str(HANDWRITTEN), "--scale", f"{args.scale:g}", "--out", str(out)]
    try:
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(captured):
            runpy.run_path(str(HANDWRITTEN), run_name="__main__")
        seconds = time.perf_counter() - t0
    finally:
        sys.argv = argv
    result = next((json.loads(line[len("RESULT "):]) for line in captured.getvalue().splitlines()
                   if line.startswith("RESULT ")), {})
    timings = result.get("t", {})
    # its own split: the Faker pool build, and generation + writing without it
    return {"seconds": seconds, "faker_pool_seconds": timings.get("faker_pool"),
            "gen_write_seconds": (timings["gen_total"] + timings["write_total"] - timings["faker_pool"])
            if {"gen_total", "write_total", "faker_pool"} <= set(timings) else None}


def run_spark(args: argparse.Namespace, job) -> dict:
    """Start a local session (timed as start-up), then time `job(spark)` on its own; what the
    job returns (a dict) joins the report."""
    import pyspark.sql  # noqa: F401  (an import, before the clock)
    import pyspark_saas_support as plain

    t0 = time.perf_counter()
    spark = plain.local_session(args.master, app=f"saas_support-{args.variant}")
    t1 = time.perf_counter()
    try:
        extra = job(spark) or {}
        t2 = time.perf_counter()
    finally:
        spark.stop()
    return {"startup_seconds": t1 - t0, "seconds": t2 - t1, **extra}


def run_pyspark_plain(args: argparse.Namespace, out: Path) -> dict:
    import pyspark_saas_support as plain

    return run_spark(args, lambda spark: plain.write(spark, args.scale, out))


def run_fabula_spark(args: argparse.Namespace, out: Path) -> dict:
    import fabula

    def job(spark) -> dict:
        plan = fabula.compile_plan(args.spec, scale=args.scale)
        tasks = fabula.generate(plan, out, engine="spark", spark=spark, mode="overwrite").timings.spark_tasks
        # the engine's per-task overhead (issue 16): fabula unpacked and imported, the plan unpickled
        return {} if tasks is None else {"tasks": tasks.tasks, "task_setup_seconds": tasks.setup_seconds,
                                         "task_setup_max_seconds": tasks.setup_max_seconds,
                                         "task_work_seconds": tasks.work_seconds}

    return run_spark(args, job)


RUNNERS = {"naive": run_naive, "fabula-local": run_fabula_local, "fabula-novalidate": run_fabula_local,
           "pyspark-plain": run_pyspark_plain, "fabula-spark": run_fabula_spark, "handwritten": run_handwritten}


def child(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(BASELINES))
    report = RUNNERS[args.variant](args, Path(args.run_out))
    report.update(self_peak_rss_mb=proc_status_mb("VmHWM"))
    print(REPORT_MARK + json.dumps(report), flush=True)
    return 0


# -- parent: run children, measure the process tree ----------------------------------------------


class ChildFailed(RuntimeError):
    pass


def process_tree(root: int) -> dict[int, float]:
    """`root` and all its descendants (for Spark: the JVM and the Python workers it forks),
    each with the CPU seconds (user + sys) it has used so far."""
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue  # exited while we looked
            fields = stat.rsplit(")", 1)[1].split()  # the command name may hold spaces
            pid = int(entry.name)
            children.setdefault(int(fields[1]), []).append(pid)
            cpu[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in cpu:
            tree[pid] = cpu[pid]
        todo.extend(children.get(pid, []))
    return tree


def rss_mb(pids) -> float:
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
        except OSError:
            pass  # exited
    return total / 2**20


def child_env(variant: str, run_dir: Path, warm_cache: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if variant in FABULA_VARIANTS and warm_cache is not None:
        env["FABULA_CACHE_DIR"] = str(warm_cache)  # a pool cache filled before: what a second run sees
    elif variant in FABULA_VARIANTS:
        cache = run_dir / "empty-faker-cache"
        remove(cache)
        env["FABULA_CACHE_DIR"] = str(cache)  # cold pool cache: the pool build is counted
    if variant in SPARK_VARIANTS:
        env["PYSPARK_PYTHON"] = sys.executable  # Spark's Python workers need this venv
    return env


def run_child(command: list[str], env: dict[str, str], limit: float) -> tuple[int, str, float, float]:
    """Run a child, sampling its process tree; kill the tree after `limit` seconds.

    Returns the exit code, the output, the tree's peak RSS (MB) and the CPU seconds its
    processes used (as last seen: a Spark worker's final fraction of a sample may be missed).
    """
    with tempfile.TemporaryFile("w+") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True, text=True)
        peak, cpu, deadline = 0.0, {}, time.monotonic() + limit
        while process.poll() is None:
            tree = process_tree(process.pid)
            cpu.update(tree)
            peak = max(peak, rss_mb(tree))
            if time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGKILL)  # its own session: the JVM goes too
                process.wait()
                raise ChildFailed(f"killed after {limit:.0f} s (2 x --max-seconds)")
            time.sleep(SAMPLE_SECONDS)
        output.seek(0)
        return process.returncode, output.read(), peak, sum(cpu.values())


def measure(variant: str, scale: float, args: argparse.Namespace, run_dir: Path) -> dict:
    out = run_dir / f"{variant}-x{scale:g}"
    remove(out)
    command = [sys.executable, str(Path(__file__).resolve()), "--variant", variant, "--scale", f"{scale:g}",
               "--run-out", str(out), "--spec", args.spec, "--workers", str(args.workers),
               "--master", args.master]
    load = os.getloadavg()[0]  # other work on the machine skews wall time: shown with the result
    started = time.monotonic()
    code, output, peak, cpu = run_child(command, child_env(variant, run_dir, getattr(args, "warm_cache", None)),
                                        2 * args.max_seconds)
    process_seconds = time.monotonic() - started
    lines = [line for line in output.splitlines() if line.startswith(REPORT_MARK)]
    if code != 0 or not lines:
        raise ChildFailed(f"exit {code}:\n" + "\n".join(output.splitlines()[-25:]))
    report = json.loads(lines[-1][len(REPORT_MARK):])
    report.update(variant=variant, scale=scale, load=load, path=out, cpu_seconds=cpu, process_seconds=process_seconds,
                  peak_rss_mb=max(peak, report["self_peak_rss_mb"]), rows=parquet_rows(out))
    return report


def parquet_rows(out: Path) -> dict[str, int]:
    """Rows per table from the Parquet footers (`out/<table>/…` or `out/<table>.parquet`)."""
    import pyarrow.parquet as pq

    rows: dict[str, int] = {}
    for file in sorted(out.rglob("*.parquet")):
        relative = file.relative_to(out)
        if any(part.startswith((".", "_")) for part in relative.parts):
            continue
        table = relative.parts[0].removesuffix(".parquet")
        rows[table] = rows.get(table, 0) + pq.ParquetFile(file).metadata.num_rows
    return rows


# -- deciding what runs ----------------------------------------------------------------------------


def unavailable(variants: list[str], spec: str) -> dict[str, str]:
    """Why a variant cannot run here (variant -> note), checked once before any run."""
    notes: dict[str, str] = {}
    if FABULA_VARIANTS & set(variants):
        try:
            import fabula

            fabula.load_spec(spec)
        except Exception as error:  # noqa: BLE001  (any failure means: not runnable yet)
            for variant in FABULA_VARIANTS:
                notes[variant] = f"spec {spec!r} does not load ({str(error).splitlines()[0]})"
    if "fabula-spark" in variants and "fabula-spark" not in notes:
        try:
            engine = importlib.import_module("fabula.engine.spark")
            if not callable(getattr(engine, "write_spark", None)):
                notes["fabula-spark"] = "fabula.engine.spark has no write_spark function yet"
        except ImportError as error:
            notes["fabula-spark"] = f"fabula.engine.spark is not importable ({error})"
    if SPARK_VARIANTS & set(variants) and importlib.util.find_spec("pyspark") is None:
        for variant in SPARK_VARIANTS:
            notes.setdefault(variant, "pyspark is not installed (pip install 'pyspark>=4.0')")
    return notes


def prediction(history: list[dict], scale: float, budget: float) -> tuple[float, float, float] | None:
    """(seconds, rows/s, row budget) at `scale`, from this variant's earlier runs.

    Rows grow in proportion to the scale. With two earlier runs, time is fitted as a fixed cost
    plus a cost per row through the two largest (Spark's fixed cost would otherwise make a
    linear guess from a small run far too high); with one, time is taken as proportional.
    """
    if not history:
        return None
    runs = sorted(history, key=lambda r: r["scale"])[-2:]
    last = runs[-1]
    rows = total_rows(last) * scale / last["scale"]
    per_row = last["seconds"] / total_rows(last)
    fixed = 0.0
    if len(runs) == 2 and total_rows(runs[1]) > total_rows(runs[0]):
        slope = (runs[1]["seconds"] - runs[0]["seconds"]) / (total_rows(runs[1]) - total_rows(runs[0]))
        if slope > 0:
            per_row, fixed = slope, last["seconds"] - slope * total_rows(last)
    return fixed + per_row * rows, 1 / per_row, (budget - fixed) / per_row


def big_scale_allowed(out: Path) -> str | None:
    """None when scale 1000 fits this machine, else why not."""
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        available = next(int(line.split()[1]) for line in meminfo if line.startswith("MemAvailable:")) / 2**20
    free = shutil.disk_usage(out).free / 2**30
    if available < BIG_MEMORY_GB:
        return f"{available:.1f} GB of memory available, scale {BIG_SCALE} wants {BIG_MEMORY_GB} GB"
    if free < BIG_DISK_GB:
        return f"{free:.0f} GB free under {out}, scale {BIG_SCALE} wants {BIG_DISK_GB} GB"
    return None


# -- printing --------------------------------------------------------------------------------------


def total_rows(report: dict) -> int:
    return sum(report["rows"].values())


def rate(report: dict) -> float:
    return total_rows(report) / report["seconds"]


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = [f"python {sys.version.split()[0]}"]
    for package in ("fabula", "numpy", "pyarrow", "pandas", "faker", "pyspark"):
        try:
            parts.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package} -")
    return ", ".join(parts)


HEADER = (f"{'variant':<14} {'rows':>12} {'start s':>8} {'seconds':>9} {'rows/s':>11} {'CPU s':>8} "
          f"{'peak RSS MB':>12} {'fabula-local x':>15} {'RSS / fabula':>13} {'load':>5}")


def result_line(report: dict, reference: dict | None) -> str:
    start = f"{report['startup_seconds']:.1f}" if "startup_seconds" in report else "-"
    speed = f"{rate(reference) / rate(report):.1f}x" if reference else "n/a"
    memory = f"{report['peak_rss_mb'] / reference['peak_rss_mb']:.2f}x" if reference else "n/a"
    return (f"{report['variant']:<14} {total_rows(report):>12,} {start:>8} {report['seconds']:>9.2f} "
            f"{rate(report):>11,.0f} {report['cpu_seconds']:>8.1f} {report['peak_rss_mb']:>12,.0f} "
            f"{speed:>15} {memory:>13} {report['load']:>5.1f}")


def print_header(args: argparse.Namespace, scales: list[float]) -> None:
    print(f"saas_support story benchmark: scales {', '.join(f'{s:g}' for s in scales)}; "
          f"variants {', '.join(args.variants)}; spec {args.spec!r}")
    print(f"machine: {os.cpu_count()} cores; fabula-local workers={args.workers} (threads); "
          f"Spark master {args.master}; naive: 1 Python process")
    print(f"versions: {versions()}")
    print("seconds: wall time after imports (Spark: after the session started, see 'start s'); "
          "CPU s and peak RSS: the whole process tree (JVM and Spark's Python workers included; "
          f"CPU over the child's whole life, imports and start-up too), sampled every {SAMPLE_SECONDS} s; "
          "'fabula-local x': fabula-local rows/s / the variant's rows/s; load: 1-min load average "
          "before the child started\n")


def print_goals(results: list[dict]) -> None:
    at = {(r["variant"], r["scale"]): r for r in results}
    for scale in sorted({r["scale"] for r in results}, reverse=True):
        plain, local, spark = (at.get((v, scale)) for v in ("pyspark-plain", "fabula-local", "fabula-spark"))
        if plain and (local or spark):
            print(f"\ngoals at scale {scale:g} (the issue states them at scale 100):")
            if local:
                ratio = rate(local) / rate(plain)
                print(f"  fabula-local rows/s / pyspark-plain rows/s = {ratio:.1f}x "
                      f"(goal >= {SPEED_GOAL}x: {'MET' if ratio >= SPEED_GOAL else 'NOT MET'})")
            if spark:
                ratio = rate(spark) / rate(plain)
                print(f"  fabula-spark rows/s / pyspark-plain rows/s = {ratio:.2f}x "
                      f"(goal >= 1x on the same local cluster: {'MET' if ratio >= 1 else 'NOT MET'})")
            return


def run(args: argparse.Namespace, run_dir: Path) -> int:
    from story_realism import realism_line

    scales = list(args.scales)
    if args.big:
        reason = big_scale_allowed(run_dir)
        if reason:
            print(f"note: --big: scale {BIG_SCALE} skipped: {reason}")
        elif BIG_SCALE not in scales:
            scales.append(BIG_SCALE)
    print_header(args, scales)
    notes = unavailable(args.variants, args.spec)
    for variant, note in notes.items():
        if variant in args.variants:
            print(f"note: {variant} skipped: {note}")
    variants = [v for v in args.variants if v not in notes]
    results: list[dict] = []
    failed = False
    for scale in scales:
        print(f"\nscale {scale:g}\n{HEADER}\n{'-' * len(HEADER)}", flush=True)
        reference = None
        for variant in variants:
            guess = prediction([r for r in results if r["variant"] == variant], scale, args.max_seconds)
            if guess and guess[0] > args.max_seconds:
                print(f"{variant:<14} skipped: predicted {guess[0]:,.0f} s at {guess[1]:,.0f} rows/s > "
                      f"--max-seconds {args.max_seconds:g} (row budget about {max(guess[2], 0):,.0f} rows)")
                continue
            try:
                report = measure(variant, scale, args, run_dir)
            except ChildFailed as error:
                print(f"{variant:<14} FAILED: {error}")
                failed = True
                continue
            results.append(report)
            if variant == REFERENCE:
                reference = report
            print(result_line(report, reference), flush=True)
            print(f"{'':<14} tables: " + ", ".join(f"{t} {n:,}" for t, n in report["rows"].items()))
            print(f"{'':<14} realism: {realism_line(report['path'])}", flush=True)
            if not args.keep:
                remove(report["path"])
    if args.spec == BASELINE_SPEC:
        print_goals(results)
    if args.keep:
        print(f"\noutputs kept under {run_dir}")
    return 1 if failed else 0


# -- arguments ------------------------------------------------------------------------------------


def scale_list(text: str) -> list[float]:
    try:
        scales = sorted({float(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"--scales {text!r}: write numbers separated by commas, e.g. 1,10,100") from None
    if not scales or scales[0] <= 0:
        raise argparse.ArgumentTypeError(f"--scales {text!r}: give one or more scales greater than 0, e.g. 1,10,100")
    return scales


def variant_list(text: str) -> list[str]:
    variants = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown or not variants:
        raise argparse.ArgumentTypeError(f"--variants {text!r}: unknown {', '.join(unknown) or 'empty'}; "
                                         f"choose from {','.join(VARIANTS)}")
    return variants


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/story.py",
                                     description="The saas_support story: fabula vs plain PySpark vs a per-row script.")
    parser.add_argument("--scales", type=scale_list, default=[1.0, 10.0, 100.0], help="default 1,10,100")
    parser.add_argument("--big", action="store_true", help=f"add scale {BIG_SCALE} if the machine allows")
    parser.add_argument("--variants", type=variant_list, default=list(VARIANTS),
                        help=f"comma-separated, default {','.join(VARIANTS)}")
    parser.add_argument("--spec", default=BASELINE_SPEC,
                        help="spec for the fabula variants (default bench/specs/saas_support_baseline.yaml: "
                             "the story the baselines write)")
    parser.add_argument("--max-seconds", type=float, default=600.0,
                        help="skip a run predicted to take longer (default 600)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="fabula-local threads (default: cores)")
    parser.add_argument("--master", default="local[2]", help="Spark master for the Spark variants (default local[2])")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write (default bench/out/)")
    parser.add_argument("--keep", action="store_true", help="keep the Parquet outputs")
    parser.add_argument("--variant", choices=VARIANTS + EXTRA_VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--run-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.max_seconds <= 0:
        parser.error(f"--max-seconds {args.max_seconds:g}: must be greater than 0")
    if args.workers < 1:
        parser.error(f"--workers {args.workers}: must be 1 or more")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out} is a file; give a folder")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.variant:
        return child(args)
    created_out = not args.out.exists()
    run_dir = args.out / RUN_FOLDER
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        return run(args, run_dir)
    finally:
        if not args.keep:
            shutil.rmtree(run_dir, ignore_errors=True)
            if created_out and not any(args.out.iterdir()):
                args.out.rmdir()  # only a folder this run created, and only if empty


if __name__ == "__main__":
    sys.exit(main())
