"""`fabula stream`: the dataset as timeline-ordered micro-batches, one file per table and
batch, each committed atomically — what Auto Loader and Structured Streaming tests read.

The dataset's window (from the earliest timeline start to the latest end) is cut into windows
of `window_days` days, one micro-batch each. A table whose rows arrive on a timeline (its
timestamp column drawn from it, in order) puts in batch i the rows whose arrival falls in
window i; any other table is cut into as many equal slices of rows, in row order (without a
timeline, 10 batches). Every batch is a slice of exactly the rows `generate` writes, so all
the batches together are the `generate` output, row for row.

A spec with `defects:` streams its dirty rows. The cut is made on the clean rows (by their
clean arrival times, or in equal slices), and each batch writes the rows those clean rows
became: a duplicate goes with its original, a deleted row leaves its batch, a late or future
timestamp stays in the batch its clean row arrived in (late data, as a stream sees it). Each
batch also writes its labels as a `_defects` file: those of the rows it wrote (`row` numbered
as `generate` numbers the table's rows) and of the rows deleted from its slice. All batches
together are the dirty `generate` output and its `_defects` labels. A schema drift is a change
between append batches, and is refused in a stream.

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
import pyarrow.compute as pc

from fabula.defects import LABEL_SCHEMA, LABELS_TABLE, TableDefects, compile_defects, has_defects, inject_block
from fabula.defects.inject import written_order
from fabula.engine.append import spec_identity
from fabula.errors import OutputError, UsageError
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
    written: dict[str, np.ndarray]
    """The same boundaries in the written (dirty) rows: the rows the clean rows before each cut
    became. Equal to `rows` for a table without defects."""


def arrival_column(plan: Plan, table: TablePlan) -> str | None:
    """The timestamp column that carries a timeline table's arrivals (in order), if any."""
    spec = plan.spec.tables.get(table.name)  # the events table is the plan's own
    if spec is None or not isinstance(spec.rows, TimelineRows):
        return None
    for name, column in spec.columns.items():
        if getattr(column, "kind", None) == "timestamp" and getattr(column, "timeline", None) == spec.rows.timeline:
            return name
    return None


def cut(plan: Plan, window_days: int = 1, defects: dict[str, TableDefects] | None = None) -> Cuts:
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
    defects = defects or {}
    written = {name: written_cuts(plan, defects[name], bounds) if name in defects else bounds
               for name, bounds in rows.items()}
    return Cuts(windows, rows, written)


def written_cuts(plan: Plan, defects: TableDefects, bounds: np.ndarray) -> np.ndarray:
    """Each clean row boundary as the number of rows the clean rows before it became: the
    block's first written row, plus the written rows of the block's clean rows before it."""
    table = defects.table
    orders: dict[int, np.ndarray] = {}
    written = []
    for bound in bounds.tolist():
        if bound >= table.rows:
            written.append(defects.written_rows)
            continue
        block = bound // table.block_rows
        start, _ = table.block_span(block)
        if block not in orders:
            orders[block] = written_order(plan, defects, block)
        before = int(np.searchsorted(orders[block], bound - start, side="left"))
        written.append(start + int(defects.added_before[block]) + before)
    return np.array(written, dtype=np.int64)


def rows_between(plan: Plan, table: TablePlan, first: int, end: int) -> pa.Table:
    """Rows [first, end) of a table, generated from the blocks that hold them."""
    if end <= first:
        return table.schema.empty_table()
    size = table.block_rows
    blocks = [generate_block(plan, table, block) for block in range(first // size, (end - 1) // size + 1)]
    whole = pa.Table.from_batches(blocks, schema=table.schema)
    return whole.slice(first - (first // size) * size, end - first).unify_dictionaries().combine_chunks()


def dirty_between(plan: Plan, defects: TableDefects, clean: tuple[int, int],
                  written: tuple[int, int]) -> tuple[pa.Table, pa.Table]:
    """The written rows [first, end) that the clean rows [clean_first, clean_end) became, and
    their labels: those of the written rows, and those of the clean rows deleted among them."""
    table = defects.table
    (clean_first, clean_end), (first, end) = clean, written
    if clean_end <= clean_first:
        return table.schema.empty_table(), LABEL_SCHEMA.empty_table()
    size = table.block_rows
    blocks, labels = [], []
    first_block = clean_first // size
    for block in range(first_block, (clean_end - 1) // size + 1):
        dirty, block_labels = inject_block(plan, defects, block, generate_block(plan, table, block))
        blocks.append(dirty)
        labels.append(_labels_within(defects, block, block_labels, clean, written))
    offset = first - (first_block * size + int(defects.added_before[first_block]))
    whole = pa.Table.from_batches(blocks, schema=table.schema)
    rows = whole.slice(offset, end - first).unify_dictionaries().combine_chunks()
    return rows, pa.concat_tables(labels)


def _labels_within(defects: TableDefects, block: int, labels: pa.Table, clean: tuple[int, int],
                   written: tuple[int, int]) -> pa.Table:
    """A block's labels of a batch: a written row's by its row number, a deleted row's by its
    clean row (its `row` — the written rows before it — may equal the next batch's first row)."""
    rows = labels.column("row").to_numpy(zero_copy_only=False)
    is_deleted = np.asarray(pc.equal(labels.column("kind"), "deleted").fill_null(False), dtype=bool)
    keep = ~is_deleted & (rows >= written[0]) & (rows < written[1])
    if is_deleted.any():  # in clean order, as `inject_block` labels them (sorted stably by row)
        start, _ = defects.table.block_span(block)
        deleted = defects.deleted_in(block)
        assert deleted is not None, "a deleted label comes from the table's `deleted`"
        positions = start + np.flatnonzero(deleted)
        keep[is_deleted] = (positions >= clean[0]) & (positions < clean[1])
    return labels.filter(pa.array(keep))


def refuse_drift(plan: Plan) -> None:
    """UsageError (exit 2) for a schema drift: it changes the schema from one append batch on,
    and a stream is one dataset cut in time, written with one schema."""
    for name, table in plan.spec.tables.items():
        for index, defect in enumerate(getattr(table, "defects", ()) or ()):
            if defect.is_drift:
                raise UsageError(f"fabula stream writes one schema, and tables.{name}.defects.{index} "
                                 f"is a schema drift (`kind: drift`)",
                                 hint="write drift with append batches (fabula generate --mode append), "
                                      "or remove it from the spec to stream it")


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
    refuse_drift(plan)
    defects = compile_defects(plan) if has_defects(plan) else {}  # a defect that cannot fit: SpecError here
    out = Path(out)
    cuts = cut(plan, window_days, defects)
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
        written = _write_batch(plan, out, fmt, output_format, cuts, number, defects)
        record = {"batch": number, "window": [cuts.windows[number].isoformat(), cuts.windows[number + 1].isoformat()],
                  "files": written}
        state = {**state, "next_batch": number + 1, "batches": [*state["batches"], record]}
        _save(out, state)
        if on_batch is not None:
            on_batch(number, {table: entry["rows"] for table, entry in written.items()})
    return state


def _write_batch(plan: Plan, out: Path, fmt, output_format: str, cuts: Cuts, number: int,
                 defects: dict[str, TableDefects]) -> dict[str, Any]:
    written = {}
    labels = []
    name = f"batch-{number:06d}.{fmt.extension}"
    for table in plan.tables:
        first, end = (int(value) for value in cuts.written[table.name][number:number + 2])
        if table.name in defects:
            clean = int(cuts.rows[table.name][number]), int(cuts.rows[table.name][number + 1])
            rows, table_labels = dirty_between(plan, defects[table.name], clean, (first, end))
            labels.append(table_labels)
        else:
            rows = rows_between(plan, table, first, end)
        if end <= first:
            continue
        spec = plan.spec.tables.get(table.name)
        written[table.name] = _write_table(out, table.name, table.schema, table.partition_by, rows, name, fmt,
                                           output_format, spec.description if spec else None, first)
    batch_labels = pa.concat_tables(labels) if labels else LABEL_SCHEMA.empty_table()
    if batch_labels.num_rows:  # committed with the batch: the state names it only once both are written
        written[LABELS_TABLE] = _write_table(out, LABELS_TABLE, LABEL_SCHEMA, (), batch_labels, name, fmt,
                                             output_format, "one row per injected defect (docs/defects.md)", None)
    return written


def _write_table(out: Path, table: str, schema: pa.Schema, partition_by: tuple[str, ...], rows: pa.Table, name: str,
                 fmt, output_format: str, description: str | None, first: int | None) -> dict[str, Any]:
    """One table's file of a batch (a Delta table: and its commit), and the state's entry for it."""
    folder = out / table
    folder.mkdir(parents=True, exist_ok=True)
    files = _write_files(out, table, schema, partition_by, rows, name, fmt)
    if output_format == "delta":
        from fabula.sinks.formats.delta import commit_table, data_file

        commit_table(folder, schema, [data_file(path.split("/", 1)[1], count, size) for path, count, size in files],
                     name=table, description=description, descriptions={}, partition_by=partition_by,
                     append=(folder / "_delta_log").is_dir())
    entry: dict[str, Any] = {"rows": sum(file[1] for file in files)}
    if first is not None:
        entry["first_row"] = first
    entry["bytes"] = sum(file[2] for file in files)
    if partition_by:  # formats (issue 13): the batch's file in each partition folder it has rows in
        return {"files": [path for path, _, _ in files], **entry}
    return {"path": files[0][0], **entry}


def _write_files(out: Path, table: str, schema: pa.Schema, partition_by: tuple[str, ...], rows: pa.Table, name: str,
                 fmt) -> list[tuple[str, int, int]]:
    """(path, rows, bytes) of the batch's file of one table (one per partition folder for a
    table with `partition_by:`), each written under a hidden name and renamed into place."""
    if partition_by:
        from fabula.sinks.formats.partitions import write_partitioned

        written = write_partitioned(out, out, table, name, 0, schema, partition_by, [rows], fmt)
        return [(file.path, file.rows, file.bytes) for file in written]
    folder = out / table
    temporary = folder / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
    file_schema = fmt.file_schema(schema)
    try:
        count = fmt.write(str(temporary), file_schema, [rows.cast(file_schema)])
        os.replace(temporary, folder / name)
    finally:
        if temporary.exists():
            temporary.unlink()
    return [(f"{table}/{name}", count, (folder / name).stat().st_size)]


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
