"""`fabula stream`: the dataset as timeline-ordered micro-batches, one file per table and
batch, each committed atomically — what Auto Loader and Structured Streaming tests read.

The dataset's window (from the earliest timeline start to the latest end) is cut into windows
of `window_days` days, one micro-batch each. A table whose rows arrive on a timeline (its
timestamp column drawn from it, in order) puts in batch i the rows whose arrival falls in
window i; any other table is cut into as many equal slices of rows, in row order (without a
timeline, 10 batches). Every batch is a slice of exactly the rows `generate` writes, so all
the batches together are the `generate` output, row for row.

Each file is written under a hidden name (`.batch-000003.parquet.tmp`; Spark and Auto Loader
skip names starting with `.` or `_`) and renamed into place, so a reader never lists half a
file; a Delta table gets one commit per batch. After each batch, the state file
`_fabula_stream.json` records what was written, so a later run with the same spec resumes at
the next batch.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from fabula.engine.append import spec_identity
from fabula.errors import OutputError
from fabula.plan.blocks import generate_block, generate_columns
from fabula.plan.model import Plan, TablePlan
from fabula.sinks.formats.registry import part_format
from fabula.spec.dates import resolve_bound
from fabula.spec.story import TimelineRows

STATE = "_fabula_stream.json"
DEFAULT_BATCHES = 10


@dataclass(frozen=True)
class Cuts:
    """Row boundaries of every micro-batch, per table: batch i is rows [cuts[i], cuts[i+1])."""

    windows: tuple[datetime, ...]
    """Start of each batch's window, and the end of the last (len = batches + 1)."""
    rows: dict[str, np.ndarray]


def arrival_column(plan: Plan, table: TablePlan) -> str | None:
    """The timestamp column that carries a timeline table's arrivals (in order), if any."""
    spec = plan.spec.tables.get(table.name)  # the events table is the plan's own
    if spec is None or not isinstance(spec.rows, TimelineRows):
        return None
    for name, column in spec.columns.items():
        if getattr(column, "kind", None) == "timestamp" and getattr(column, "timeline", None) == spec.rows.timeline:
            return name
    return None


def cut(plan: Plan, window_days: int = 1) -> Cuts:
    """Where each micro-batch starts and ends, in every table."""
    timelines = plan.spec.timelines.values()
    if timelines:
        first = min(resolve_bound(timeline.start, plan.as_of) for timeline in timelines)
        last = max(resolve_bound(timeline.end, plan.as_of) for timeline in timelines) + timedelta(days=1)
        count = max(1, -(-(last - first).days // window_days))
        windows = tuple(datetime.combine(first, datetime.min.time()) + timedelta(days=window_days * i)
                        for i in range(count + 1))
    else:
        count = DEFAULT_BATCHES
        start = datetime.combine(plan.as_of, datetime.min.time())
        windows = tuple(start for _ in range(count + 1))
    rows = {}
    for table in plan.tables:
        column = arrival_column(plan, table)
        if column is None:
            rows[table.name] = np.linspace(0, table.rows, count + 1).round().astype(np.int64)
            continue
        stamps = np.concatenate([generate_columns(plan, table, block, [column])[column]
                                 .cast(pa.timestamp("us")).to_numpy(zero_copy_only=False)
                                 for block in range(table.n_blocks)] or [np.array([], "datetime64[us]")])
        edges = np.array(windows, dtype="datetime64[us]")
        bounds = np.searchsorted(stamps.astype("datetime64[us]"), edges, side="left")
        bounds[0], bounds[-1] = 0, table.rows
        rows[table.name] = bounds.astype(np.int64)
    return Cuts(windows, rows)


def rows_between(plan: Plan, table: TablePlan, first: int, end: int) -> pa.Table:
    """Rows [first, end) of a table, generated from the blocks that hold them."""
    if end <= first:
        return table.schema.empty_table()
    size = table.block_rows
    blocks = [generate_block(plan, table, block) for block in range(first // size, (end - 1) // size + 1)]
    whole = pa.Table.from_batches(blocks, schema=table.schema)
    return whole.slice(first - (first // size) * size, end - first).unify_dictionaries().combine_chunks()


def read_state(out: Path) -> dict[str, Any] | None:
    path = out / STATE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise OutputError(f"{path} is not a fabula stream state", hint="choose a new --out for the stream") from None


def stream(plan: Plan, out: str | Path, *, every: float = 0.0, batches: int | None = None,
           output_format: str = "parquet", window_days: int = 1, sleep: Callable[[float], None] = time.sleep,
           on_batch: Callable[[int, dict[str, int]], None] | None = None) -> dict[str, Any]:
    """Write the next `batches` micro-batches (default: all that remain) into `out`, `every`
    seconds apart (0: as fast as possible); resume from `out`'s state. Returns the state."""
    from fabula.defects import refuse_defects

    refuse_defects(plan.spec, "fabula stream")
    out = Path(out)
    cuts = cut(plan, window_days)
    total = len(cuts.windows) - 1
    identity = {"spec": spec_identity(plan.spec.canonical()), "seed": plan.seed, "as_of": plan.as_of.isoformat(),
                "scale": plan.scale, "format": output_format, "window_days": window_days}
    state = read_state(out)
    if state is None:
        if out.exists() and any(out.iterdir()):
            raise OutputError(f"{out} is not empty and holds no {STATE}",
                              hint="stream into a new folder, or into one a stream wrote to resume it")
        state = {"stream": identity, "batches_total": total, "next_batch": 0, "batches": []}
    elif state.get("stream") != identity:
        raise OutputError(f"{out} holds a stream of another spec, seed, as_of, scale or format",
                          hint="resume with the same options, or stream into a new folder")
    fmt = part_format(output_format)
    stop = total if batches is None else min(total, state["next_batch"] + batches)
    for number in range(state["next_batch"], stop):
        if number > state["next_batch"] or state["batches"]:
            if every > 0:
                sleep(every)
        written = _write_batch(plan, out, fmt, output_format, cuts, number)
        record = {"batch": number, "window": [cuts.windows[number].isoformat(), cuts.windows[number + 1].isoformat()],
                  "files": written}
        state = {**state, "next_batch": number + 1, "batches": [*state["batches"], record]}
        _save(out, state)
        if on_batch is not None:
            on_batch(number, {table: entry["rows"] for table, entry in written.items()})
    return state


def _write_batch(plan: Plan, out: Path, fmt, output_format: str, cuts: Cuts, number: int) -> dict[str, Any]:
    written = {}
    for table in plan.tables:
        first, end = (int(value) for value in cuts.rows[table.name][number:number + 2])
        if end <= first:
            continue
        folder = out / table.name
        folder.mkdir(parents=True, exist_ok=True)
        name = f"batch-{number:06d}.{fmt.extension}"
        files = _write_files(plan, table, out, name, fmt, first, end)
        if output_format == "delta":
            from fabula.sinks.formats.delta import commit_table, data_file

            spec = plan.spec.tables.get(table.name)
            commit_table(folder, table.schema, [data_file(path.split("/", 1)[1], rows, size)
                                                for path, rows, size in files],
                         name=table.name, description=spec.description if spec else None, descriptions={},
                         partition_by=table.partition_by, append=(folder / "_delta_log").is_dir())
        rows, size = sum(file[1] for file in files), sum(file[2] for file in files)
        if table.partition_by:  # formats (issue 13): the batch's file in each partition folder it has rows in
            written[table.name] = {"files": [path for path, _, _ in files], "rows": rows, "first_row": first,
                                   "bytes": size}
        else:
            written[table.name] = {"path": files[0][0], "rows": rows, "first_row": first, "bytes": size}
    return written


def _write_files(plan: Plan, table: TablePlan, out: Path, name: str, fmt, first: int,
                 end: int) -> list[tuple[str, int, int]]:
    """(path, rows, bytes) of the batch's file of one table (one per partition folder for a
    table with `partition_by:`), each written under a hidden name and renamed into place."""
    rows = rows_between(plan, table, first, end)
    if table.partition_by:
        from fabula.sinks.formats.partitions import write_partitioned

        written = write_partitioned(out, out, table.name, name, 0, table.schema, table.partition_by, [rows], fmt)
        return [(file.path, file.rows, file.bytes) for file in written]
    folder = out / table.name
    temporary = folder / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
    schema = fmt.file_schema(table.schema)
    try:
        count = fmt.write(str(temporary), schema, [rows.cast(schema)])
        os.replace(temporary, folder / name)
    finally:
        if temporary.exists():
            temporary.unlink()
    return [(f"{table.name}/{name}", count, (folder / name).stat().st_size)]


def _save(out: Path, state: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    temporary = out / f".{STATE}.{uuid.uuid4().hex[:8]}.tmp"
    temporary.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, out / STATE)


def parse_every(text: str) -> float:
    """`--every` as seconds: 10s, 500ms, 2m, 1h, or a plain number of seconds.

    >>> parse_every("10s"), parse_every("500ms"), parse_every("2m"), parse_every("0")
    (10.0, 0.5, 120.0, 0.0)
    """
    text = text.strip().lower()
    for suffix, factor in (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):  # noqa: B007 - read after `break`
        if text.endswith(suffix):
            number = text[: -len(suffix)]
            break
    else:
        number, factor = text, 1.0
    try:
        value = float(number) * factor
    except ValueError:
        raise ValueError(f"{text!r} is not a duration; write it as 10s, 500ms, 2m or 0") from None
    if value < 0:
        raise ValueError("the interval cannot be negative")
    return value
