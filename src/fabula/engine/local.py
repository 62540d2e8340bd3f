"""The local engine: part files generated and written in parallel threads.

Threads, not processes: NumPy's draws, Arrow compute and the Parquet writer release the GIL,
so threads use every core without pickling the plan or copying blocks between processes, and
Python callables in a spec work as they are. Each task is one part file: it generates its
blocks one row group at a time and writes them itself, so memory is bounded by
workers × one row group, whatever the row count.
"""

from __future__ import annotations

import os
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Callable, Iterator

import pyarrow as pa

from fabula.engine.block import generate_block
from fabula.engine.manifest import build_manifest
from fabula.plan.model import Plan, TablePlan
from fabula.sinks.base import PartWritten, Sink

Progress = Callable[[int], None]
"""Called with a number of rows just written (from worker threads)."""


def run_local(plan: Plan, sink: Sink, *, workers: int | None = None, output_format: str = "parquet",
              progress: Progress | None = None) -> dict:
    """Generate every table of the plan into the sink; return the manifest it committed."""
    workers = max(1, workers or os.cpu_count() or 1)
    tasks = [(table, index, blocks) for table in plan.tables
             for index, blocks in enumerate(plan.layout.parts(table))]
    sink.open(plan)
    try:
        parts = _run_tasks(plan, sink, tasks, workers, progress)
        manifest = build_manifest(plan, parts, output_format=output_format)
        sink.commit(manifest)
        return manifest
    except BaseException:
        sink.abort()
        raise


def _run_tasks(plan: Plan, sink: Sink, tasks, workers: int, progress: Progress | None) -> list[PartWritten]:
    def write(table: TablePlan, index: int, blocks: range) -> PartWritten:
        return sink.write_part(table, index, row_groups(plan, table, blocks, progress))

    if workers == 1 or len(tasks) == 1:
        return [write(*task) for task in tasks]
    pool = ThreadPoolExecutor(max_workers=min(workers, len(tasks)), thread_name_prefix="fabula")
    try:
        futures = [pool.submit(write, *task) for task in tasks]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in done:
            future.result()  # raise the first failure, if any
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def row_groups(plan: Plan, table: TablePlan, blocks: range, progress: Progress | None = None) -> Iterator[pa.Table]:
    """The part's blocks, a row group at a time (a fixed number of blocks each)."""
    step = plan.layout.blocks_per_row_group
    for first in range(blocks.start, blocks.stop, step):
        batches = [generate_block(plan, table, block) for block in range(first, min(first + step, blocks.stop))]
        group = pa.Table.from_batches(batches, schema=table.schema).unify_dictionaries()
        yield group
        if progress is not None:
            progress(len(group))
