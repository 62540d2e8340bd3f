"""The cost of defects: saas_support against saas_support_dirty, in one invocation.

Both specs generate the same clean rows; the dirty one also injects its defects, writes the
`_defects` labels and validates the clean rows behind the damaged tables (the clean blocks
spooled as Arrow IPC in a temporary folder, and every label checked against the files). Each variant is generated
--repeat times alternately (validation on, as `fabula generate` does by default), the best
time kept; the ratio is dirty over clean. The goal (issue 14) is at most 1.10. Beside wall time
it reports CPU time (every thread of the process): on a machine shared with other work, wall
time swings with the load, while CPU time counts only what this process did.

With --blocks it times the injection alone instead, in one process: every damaged block of
saas_support_dirty is made once, then damaged --repeat times, the best time per block kept (the
followed times `before_parent` reads are computed once, as a run reads them from the block it
made). With --against REV it also loads `fabula/defects/inject.py` as it was at git revision REV
and alternates the two block by block, so a change is measured against its parent in one
sitting, the load of the machine shared between them, and checks both give the same labels and
values.

Usage
    .venv/bin/python bench/defects.py [--scale 10] [--repeat 3] [--workers N] [--no-validate]
    .venv/bin/python bench/defects.py --blocks [--against HEAD~1] [--scale 100] [--repeat 9]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import fabula

HERE = Path(__file__).resolve().parent


def run(name: str, scale: float, workers: int | None, validate: bool, root: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and rows of one generation."""
    plan = fabula.compile_plan(name, scale=scale)
    out = root / name
    shutil.rmtree(out, ignore_errors=True)
    started, cpu = time.perf_counter(), time.process_time()
    manifest = fabula.generate(plan, out, workers=workers, validate=validate).manifest
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return seconds, cpu, sum(entry.rows for entry in manifest.tables.values())


def inject_at(revision: str) -> types.ModuleType:
    """`fabula.defects.inject` as it was at a git revision, loaded beside today's."""
    source = subprocess.check_output(["git", "show", f"{revision}:src/fabula/defects/inject.py"], text=True,
                                     cwd=HERE.parent)
    module = types.ModuleType(f"fabula.defects.inject_at_{revision.replace('~', '_').replace('^', '_')}")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"inject.py@{revision}", "exec"), module.__dict__)
    return module


def blocks(scale: float, repeat: int, against: str | None) -> None:
    """Injection alone, block by block, best of `repeat` (and against `against`'s, alternately)."""
    from fabula.defects import compile_defects
    from fabula.defects import inject as today
    from fabula.defects.follows import followed_times
    from fabula.plan.blocks import generate_block

    plan = fabula.compile_plan("saas_support_dirty", scale=scale)
    made, followed = [], {}
    for name, defects in compile_defects(plan).items():
        table = plan.table(name)
        for block in range(table.n_blocks):
            clean = generate_block(plan, table, block)
            made.append((name, defects, block, clean))
            for defect in defects.defects:
                if defect.follows is not None:
                    followed[(name, block, defect.follows)] = followed_times(plan, table, block, clean, defect.follows)
    versions = {"today": today}
    if against:
        versions[against] = inject_at(against)
    for module in versions.values():  # as a run reads them: from the block it just made
        module.followed_times = lambda plan, table, block, clean, after: followed[(table.name, block, after)]
    best: dict[str, dict[tuple[str, int], float]] = {label: {} for label in versions}
    for round_ in range(repeat):
        for name, defects, block, clean in made:
            for label in (list(versions) if round_ % 2 else list(versions)[::-1]):
                started = time.perf_counter()
                versions[label].inject_block(plan, defects, block, clean)
                seconds = time.perf_counter() - started
                best[label][(name, block)] = min(best[label].get((name, block), seconds), seconds)
    for label in versions:
        print(f"{label:<12} injection {sum(best[label].values()):.4f} s  ({len(made)} blocks, best of {repeat})")
    if against:
        ratio = sum(best["today"].values()) / sum(best[against].values())
        for name, defects, block, clean in made:
            (dirty, labels), (then, then_labels) = (module.inject_block(plan, defects, block, clean)
                                                    for module in versions.values())
            same = labels.equals(then_labels) and all(_plain(a).equals(_plain(b))
                                                      for a, b in zip(dirty.columns, then.columns))
            assert same, f"{name} block {block}: {against} and today differ"
        print(f"today / {against}: {ratio:.3f}; the same labels and values")


def _plain(array):
    import pyarrow as pa

    return array.dictionary_decode() if pa.types.is_dictionary(array.type) else array


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--no-validate", action="store_true")
    parser.add_argument("--blocks", action="store_true", help="time the injection alone, block by block")
    parser.add_argument("--against", help="with --blocks: also inject.py at this git revision, alternately")
    options = parser.parse_args()
    if options.blocks:
        blocks(options.scale, options.repeat, options.against)
        return
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
