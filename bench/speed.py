"""Issue 16's speed goals, measured in one invocation: fabula against the hand-written script.

    .venv/bin/pip install -q polars                                  # for the hand-written script
    .venv/bin/python bench/speed.py                                  # scales 1, 100, 1000
    .venv/bin/python bench/speed.py --scales 1 --no-spark            # a quick check, ~30 s

At each scale, each in its own child process (bench/story.py's children, so the numbers are
measured the same way: wall after imports, CPU seconds and peak RSS of the whole process tree):

    handwritten        ../shared/bench/handwritten_saas.py (numpy + polars, one thread, a
                       Faker pool); its own split of Faker pool vs generation + writing is shown
    fabula             `fabula.generate(bench/specs/saas_support_baseline.yaml, scale=S)` (the
                       story the script writes) with validation, threads on all cores, Faker
                       pool cache warm (filled once before the runs)
    fabula-novalidate  the same without validation
    fabula-spark,      at --spark-scales (default 100) when pyspark is installed: fabula's Spark
    pyspark-plain      engine and a plain PySpark job on local[2]

Then the small-run checks: `fabula --help` (wall, and modules imported per `python -X
importtime`), and `fabula generate saas_support` at scale 1 with validation, warm and cold
(empty Faker pool cache), each as a user runs the command.

It prints a table per scale, then every goal of the issue with the measured ratio and MET /
NOT MET. Timings on a shared machine are noisy: the `load` column is the 1-minute load average
when each child started; run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import story
from story import HANDWRITTEN, ChildFailed, measure, remove, total_rows

HERE = Path(__file__).resolve().parent
LOCAL_VARIANTS = ("handwritten", "fabula", "fabula-novalidate")
SPARK_VARIANTS = ("fabula-spark", "pyspark-plain")
CHILD_VARIANT = {"fabula": "fabula-local"}  # story.py's name for the validated local run

GOALS_SCALE = 1000
WALL_GOAL, RATE_GOAL, PEAK_GOAL_MB = 12.0, 3e6, 1024
WALL_RATIO_GOAL, CPU_RATIO_GOAL = 0.5, 0.8
VALIDATION_GOAL, PARALLEL_GOAL, SPARK_GOAL = 1.1, 1.8, 5.0
HELP_GOAL, WARM_GOAL, COLD_GOAL = 0.3, 1.0, 3.0


def run_variant(variant: str, scale: float, args: argparse.Namespace, run_dir: Path) -> dict:
    report = measure(CHILD_VARIANT.get(variant, variant), scale, args, run_dir)
    report["variant"] = variant
    remove(report["path"])
    return report


def warm_pool_cache(args: argparse.Namespace, run_dir: Path) -> None:
    """Fill the Faker pool cache once (a scale-1 run), so the measured runs find it warm."""
    measure("fabula-novalidate", 1, args, run_dir)


# -- the command as a user runs it ------------------------------------------------------------------


def fabula_command() -> list[str]:
    script = Path(sys.executable).with_name("fabula")
    return [str(script)] if script.exists() else [sys.executable, "-m", "fabula"]


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise ChildFailed(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return seconds


def imported_modules(arguments: list[str]) -> int:
    """Modules `python -X importtime -m fabula ARGS` imports (a count, steadier than seconds)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "fabula", *arguments],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return sum(1 for line in done.stderr.splitlines() if line.startswith("import time:") and "|" in line
               and not line.rstrip().endswith("imported package"))


def small_runs(run_dir: Path, warm_cache: Path, repeats: int) -> dict:
    env = dict(os.environ, FABULA_CACHE_DIR=str(warm_cache))
    command = fabula_command()
    help_seconds = min(timed([*command, "--help"], env) for _ in range(repeats))
    out = run_dir / "cli-x1"
    generate = [*command, "generate", "saas_support", "--scale", "1", "--out", str(out), "--mode", "overwrite",
                "--quiet"]
    warm = min(timed(generate, env) for _ in range(repeats))
    colds = []
    for _ in range(repeats):
        cold_cache = Path(tempfile.mkdtemp(prefix="fabula-cold-cache-", dir=run_dir))
        colds.append(timed(generate, dict(env, FABULA_CACHE_DIR=str(cold_cache))))
        shutil.rmtree(cold_cache, ignore_errors=True)
    remove(out)
    return {"help": help_seconds, "help_imports": imported_modules(["--help"]), "warm": warm, "cold": min(colds)}


# -- printing --------------------------------------------------------------------------------------

HEADER = (f"{'variant':<18} {'rows':>11} {'wall s':>8} {'process s':>9} {'rows/s':>11} {'CPU s':>7} "
          f"{'CPU/wall':>8} {'peak MB':>8} {'wall/hw':>8} {'CPU/hw':>7} {'peak/hw':>8} {'load':>5}")


def line(report: dict, script: dict | None) -> str:
    def ratio(key: str) -> str:
        return f"{report[key] / script[key]:.2f}x" if script else "-"

    wall = report["seconds"]
    return (f"{report['variant']:<18} {total_rows(report):>11,} {wall:>8.2f} {report['process_seconds']:>9.2f} "
            f"{total_rows(report) / wall:>11,.0f} {report['cpu_seconds']:>7.1f} "
            f"{report['cpu_seconds'] / wall:>8.2f} {report['peak_rss_mb']:>8,.0f} {ratio('seconds'):>8} "
            f"{ratio('cpu_seconds'):>7} {ratio('peak_rss_mb'):>8} {report['load']:>5.1f}")


def verdict(value: float, goal: float, *, at_most: bool = True) -> str:
    met = value <= goal if at_most else value >= goal
    return f"{'MET' if met else 'NOT MET'} (goal {'<=' if at_most else '>='} {goal:g})"


def print_goals(results: dict, small: dict | None) -> None:
    print("\ngoals (issue 16):")
    for scale in sorted({scale for _, scale in results}):
        fabula, plain = results.get(("fabula", scale)), results.get(("fabula-novalidate", scale))
        script = results.get(("handwritten", scale))
        if fabula and plain:
            print(f"  scale {scale:g}: validation costs {fabula['seconds'] / plain['seconds']:.2f}x wall, "
                  f"{fabula['cpu_seconds'] / plain['cpu_seconds']:.2f}x CPU of generation alone: "
                  f"{verdict(fabula['cpu_seconds'] / plain['cpu_seconds'], VALIDATION_GOAL)} (CPU)")
        if fabula and total_rows(fabula) >= 1_000_000:
            print(f"  scale {scale:g}: parallel efficiency (CPU s / wall s) {fabula['cpu_seconds'] / fabula['seconds']:.2f}: "
                  f"{verdict(fabula['cpu_seconds'] / fabula['seconds'], PARALLEL_GOAL, at_most=False)}")
        if fabula and script:
            print(f"  scale {scale:g}: fabula / hand-written script: wall {fabula['seconds'] / script['seconds']:.2f}x, "
                  f"CPU {fabula['cpu_seconds'] / script['cpu_seconds']:.2f}x, peak {fabula['peak_rss_mb'] / script['peak_rss_mb']:.2f}x"
                  + (f"; the script's generation + writing alone (no Faker pool): {script['gen_write_seconds']:.2f} s"
                     if script.get("gen_write_seconds") is not None else ""))
        if fabula and scale == GOALS_SCALE:
            print(f"  scale {scale:g}: wall {fabula['seconds']:.2f} s: {verdict(fabula['seconds'], WALL_GOAL)}; "
                  f"{total_rows(fabula) / fabula['seconds'] / 1e6:.2f}M rows/s: "
                  f"{verdict(total_rows(fabula) / fabula['seconds'], RATE_GOAL, at_most=False)}; "
                  f"peak {fabula['peak_rss_mb']:,.0f} MB: {verdict(fabula['peak_rss_mb'], PEAK_GOAL_MB)}")
            if script:
                print(f"  scale {scale:g}: wall / script's {verdict(fabula['seconds'] / script['seconds'], WALL_RATIO_GOAL)}; "
                      f"CPU / script's {verdict(fabula['cpu_seconds'] / script['cpu_seconds'], CPU_RATIO_GOAL)}")
        spark, pyspark = results.get(("fabula-spark", scale)), results.get(("pyspark-plain", scale))
        if spark and pyspark:
            speedup = (total_rows(spark) / spark["seconds"]) / (total_rows(pyspark) / pyspark["seconds"])
            print(f"  scale {scale:g}: fabula-spark rows/s / pyspark-plain rows/s {speedup:.1f}x: "
                  f"{verdict(speedup, SPARK_GOAL, at_most=False)}")
        if spark and spark.get("tasks"):
            setup, work = spark["task_setup_seconds"], spark["task_work_seconds"]
            print(f"  scale {scale:g}: fabula-spark per-task overhead (unpack, import, unpickle the plan): "
                  f"{setup / spark['tasks']:.3f} s a task on average, {spark['task_setup_max_seconds']:.2f} s at most, "
                  f"{setup / (setup + work):.1%} of {spark['tasks']} tasks' time")
    if small:
        print(f"  fabula --help: {small['help']:.2f} s, {small['help_imports']} modules imported: "
              f"{verdict(small['help'], HELP_GOAL)}")
        print(f"  fabula generate saas_support --scale 1 (validation included): warm pool cache {small['warm']:.2f} s: "
              f"{verdict(small['warm'], WARM_GOAL)}; cold {small['cold']:.2f} s: {verdict(small['cold'], COLD_GOAL)}")


# -- main ------------------------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/speed.py", description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=story.scale_list, default=[1.0, 100.0, 1000.0], help="default 1,100,1000")
    parser.add_argument("--spark-scales", type=story.scale_list, default=[100.0],
                        help="scales for the Spark variants (default 100)")
    parser.add_argument("--no-spark", action="store_true", help="skip the Spark variants")
    parser.add_argument("--no-cli", action="store_true", help="skip the small-run checks of the command")
    parser.add_argument("--repeats", type=int, default=3, help="small-run checks: best of N (default 3)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="fabula threads (default: cores)")
    parser.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="kill a child after twice this")
    parser.add_argument("--out", type=Path, default=HERE / "out", help="where to write (default bench/out/)")
    args = parser.parse_args(argv)
    args.spec = story.BASELINE_SPEC
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if not HANDWRITTEN.exists():
        print(f"note: the hand-written script is not at {HANDWRITTEN} (set FABULA_HANDWRITTEN): ratios skipped")
    if importlib.util.find_spec("polars") is None:
        print("note: polars is not installed (.venv/bin/pip install polars): the hand-written script cannot run")
    spark = not args.no_spark and importlib.util.find_spec("pyspark") is not None
    run_dir = args.out / "speed-run"
    run_dir.mkdir(parents=True, exist_ok=True)
    args.warm_cache = run_dir / "warm-faker-cache"
    failed = False
    try:
        print(f"issue 16 speed benchmark: scales {', '.join(f'{s:g}' for s in args.scales)}; "
              f"{os.cpu_count()} cores; fabula workers={args.workers}; versions: {story.versions()}")
        print("wall s: after imports; process s: the child's whole life; CPU s and peak MB: the process tree; "
              "/hw: against the hand-written script at the same scale\n")
        warm_pool_cache(args, run_dir)
        results: dict[tuple[str, float], dict] = {}
        for scale in args.scales:
            print(f"scale {scale:g}\n{HEADER}\n{'-' * len(HEADER)}", flush=True)
            variants = [v for v in LOCAL_VARIANTS if v != "handwritten" or HANDWRITTEN.exists()]
            if spark and scale in args.spark_scales:
                variants += SPARK_VARIANTS
            for variant in variants:
                try:
                    report = run_variant(variant, scale, args, run_dir)
                except ChildFailed as error:
                    print(f"{variant:<18} FAILED: {error}", flush=True)
                    failed = True
                    continue
                results[(variant, scale)] = report
                print(line(report, results.get(("handwritten", scale)) if variant != "handwritten" else None),
                      flush=True)
            print()
        small = None if args.no_cli else small_runs(run_dir, args.warm_cache, args.repeats)
        print_goals(results, small)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
