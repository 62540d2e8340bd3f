"""CPU profile of `fabula.generate` on the built-in `saas_support` story, one worker.

With one worker every block runs in the calling thread, so cProfile sees all of it and CPU
seconds are comparable between runs even on a loaded machine (wall time is not):

    .venv/bin/python bench/profile_story.py --scale 30                 # with validation
    .venv/bin/python bench/profile_story.py --scale 30 --no-validate --top 30
    .venv/bin/python bench/profile_story.py --scale 30 --save bench/out/before.pstats

It prints the process CPU seconds of the run, then the top functions by own time and by
cumulative time (both in seconds of CPU, as cProfile measures with `time.process_time`).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import tempfile
import time
from pathlib import Path

import fabula


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=30)
    parser.add_argument("--no-validate", action="store_true")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--save", help="also write the raw pstats here")
    parser.add_argument("--spec", default="saas_support")
    args = parser.parse_args()

    plan = fabula.compile_plan(args.spec, scale=args.scale)
    rows = sum(table.rows for table in plan.tables)
    out = Path(tempfile.mkdtemp(prefix="fabula-profile-")) / "out"
    profiler = cProfile.Profile(time.process_time)  # CPU, not wall: the machine may be loaded
    cpu0 = time.process_time()
    profiler.enable()
    fabula.generate(plan, out, workers=1, validate=not args.no_validate)
    profiler.disable()
    cpu = time.process_time() - cpu0
    shutil.rmtree(out.parent, ignore_errors=True)
    print(f"{args.spec} scale {args.scale:g}: {rows:,} rows, validate={not args.no_validate}, "
          f"{cpu:.2f} CPU-s, {rows / cpu / 1e6:.2f} M rows per CPU-s")
    stats = pstats.Stats(profiler)
    if args.save:
        Path(args.save).parent.mkdir(parents=True, exist_ok=True)
        stats.dump_stats(args.save)
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
