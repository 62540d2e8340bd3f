"""Change data: a table's rows changing after they are first written, as a change feed (Delta
Change Data Feed columns, or Debezium-style) and as SCD type-2 history.

The table as generated is the initial snapshot (version 0, every row inserted). Each of the
`commits` that follow, at `every` days apart with the last one at `as_of` (midnight), deletes a
share `deletes` of the live rows and updates a share `updates` of the others. An update gives a
row the values of the changing columns taken together from another row of the initial snapshot
drawn at random — so new values follow the columns' declared distributions and stay coherent
with each other (a tier and the revenue that goes with it) — and never touches a key.

Every draw comes from streams named (table, "changes", purpose, commit): turning changes on
never moves a value of any table, and the same spec gives the same changes. Everything is
derived from one sequence of states, so applying the feed (or the history) to the initial
snapshot gives the final one; the tests check that on every case. The states are held in
memory: change data is meant for dimensions and tables up to a few million rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fabula.plan.blocks import generate_block
from fabula.plan.model import Plan, TablePlan
from fabula.spec.changes import KEY_KINDS, ChangeSpec, emitted_tables
from fabula.streams import rng_for

CDF_COLUMNS = ("_change_type", "_commit_version", "_commit_timestamp")
SCD2_COLUMNS = ("valid_from", "valid_to", "is_current")


@dataclass(frozen=True)
class Commit:
    version: int
    timestamp: datetime
    deleted: np.ndarray
    """Row indices deleted in this commit (ascending)."""
    updated: np.ndarray
    """Row indices updated in this commit (ascending)."""
    before: pa.Table
    """The updated and deleted rows before the commit (updated first, then deleted)."""
    after: pa.Table
    """The updated rows after it."""


@dataclass(frozen=True)
class History:
    """A table's states: the initial snapshot, every commit, and the final snapshot."""

    initial: pa.Table
    commits: tuple[Commit, ...]
    final: pa.Table
    final_rows: np.ndarray
    """Row indices (into the initial snapshot) of the final snapshot's rows."""
    start: datetime
    """The initial snapshot's commit time (version 0)."""


def plain(table: pa.Table) -> pa.Table:
    """Dictionary columns decoded: a changing table's values are plain."""
    return pa.table([pc.cast(column, column.type.value_type) if pa.types.is_dictionary(column.type) else column
                     for column in table.columns], names=table.column_names)


def initial_snapshot(plan: Plan, table: TablePlan) -> pa.Table:
    """The table as `generate` writes it (same blocks), dictionaries decoded."""
    batches = [generate_block(plan, table, block) for block in range(table.n_blocks)]
    return plain(pa.Table.from_batches(batches, schema=table.schema) if batches else table.schema.empty_table())


def changing_columns(plan: Plan, table: TablePlan, changes: ChangeSpec) -> tuple[str, ...]:
    if changes.columns:
        return changes.columns
    spec = plan.spec.tables[table.name]
    return tuple(name for name in spec.columns
                 if getattr(spec.columns[name], "kind", None) not in (*KEY_KINDS, "reference"))


def build_history(plan: Plan, table: TablePlan, changes: ChangeSpec) -> History:
    """Apply `changes` commit by commit to the initial snapshot."""
    initial = initial_snapshot(plan, table)
    n = initial.num_rows
    columns = [name for name in changing_columns(plan, table, changes) if name in initial.column_names]
    end = datetime.combine(plan.as_of, datetime.min.time())
    start = end - timedelta(days=changes.every * changes.commits)
    state = initial
    live = np.ones(n, dtype=bool)
    commits = []
    for version in range(1, changes.commits + 1):
        alive = np.flatnonzero(live)
        draws = rng_for(plan.seed, table.name, "changes", "rows", version).random(len(alive))
        deleted = alive[draws < changes.deletes]
        updated = alive[(draws >= changes.deletes)
                        & (draws < changes.deletes + changes.updates * (1 - changes.deletes))]
        donors = rng_for(plan.seed, table.name, "changes", "donors", version).integers(0, max(n, 1), len(updated))
        before = state.take(pa.array(np.concatenate([updated, deleted]), pa.int64()))
        if len(updated) and columns:
            mask = np.zeros(n, dtype=bool)
            mask[updated] = True
            replaced = {name: pc.replace_with_mask(state.column(name).combine_chunks(), pa.array(mask),
                                                   initial.column(name).take(pa.array(donors)).combine_chunks())
                        for name in columns}
            state = pa.table([replaced.get(name, state.column(name)) for name in state.column_names],
                             names=state.column_names)
        after = state.take(pa.array(updated, pa.int64()))
        live[deleted] = False
        commits.append(Commit(version, start + timedelta(days=changes.every * version), deleted, updated,
                              before, after))
    final_rows = np.flatnonzero(live)
    return History(initial, tuple(commits), state.take(pa.array(final_rows, pa.int64())), final_rows, start)


def _stamped(rows: pa.Table, change_type: str, version: int, timestamp: datetime) -> pa.Table:
    n = rows.num_rows
    return (rows.append_column("_change_type", pa.array([change_type] * n, pa.string()))
                .append_column("_commit_version", pa.array([version] * n, pa.int64()))
                .append_column("_commit_timestamp", pa.array([timestamp] * n, pa.timestamp("us"))))


def change_feed(history: History) -> pa.Table:
    """Delta Change Data Feed rows: version 0 inserts every row; each commit then has, row by
    row, an `update_preimage` and `update_postimage` per update and a `delete` per delete."""
    pieces = [_stamped(history.initial, "insert", 0, history.start)]
    for commit in history.commits:
        updates = len(commit.updated)
        order = np.argsort(np.concatenate([commit.updated, commit.updated, commit.deleted]), kind="stable")
        rows = pa.concat_tables([
            _stamped(commit.before.slice(0, updates), "update_preimage", commit.version, commit.timestamp),
            _stamped(commit.after, "update_postimage", commit.version, commit.timestamp),
            _stamped(commit.before.slice(updates), "delete", commit.version, commit.timestamp)])
        pieces.append(rows.take(pa.array(order, pa.int64())))
    return pa.concat_tables(pieces).combine_chunks()


def debezium_feed(history: History) -> pa.Table:
    """Debezium-style envelopes: `op` (c, u, d), `before` and `after` as structs of the row
    (null where there is none), `ts_ms` (the commit time) and `version`."""
    cdf = change_feed(history)
    kinds = cdf.column("_change_type").to_pylist()
    values = cdf.drop_columns(list(CDF_COLUMNS))
    rows = pa.StructArray.from_arrays([column.combine_chunks() for column in values.columns], names=values.column_names)
    ops: list[str] = []
    befores: list[int | None] = []  # None: an insert has no row before, a delete none after
    afters: list[int | None] = []
    stamps: list[int] = []
    versions: list[int] = []
    timestamps = cdf.column("_commit_timestamp").cast(pa.int64()).to_numpy() // 1000
    version_numbers = cdf.column("_commit_version").to_numpy()
    index = 0
    while index < len(kinds):
        kind = kinds[index]
        if kind == "update_preimage":
            ops.append("u")
            befores.append(index)
            afters.append(index + 1)
            step = 2
        else:
            ops.append("c" if kind == "insert" else "d")
            befores.append(index if kind == "delete" else None)
            afters.append(index if kind == "insert" else None)
            step = 1
        stamps.append(int(timestamps[index]))
        versions.append(int(version_numbers[index]))
        index += step
    before = _take_or_null(rows, befores)
    after = _take_or_null(rows, afters)
    return pa.table({"op": pa.array(ops, pa.string()), "before": before, "after": after,
                     "ts_ms": pa.array(stamps, pa.int64()), "version": pa.array(versions, pa.int64())})


def _take_or_null(rows: pa.StructArray, positions: list[int | None]) -> pa.Array:
    return rows.take(pa.array(positions, pa.int64()))  # a null position takes a null row


def scd2_history(history: History) -> pa.Table:
    """SCD type-2: one row per version of each row, `valid_from` to `valid_to` (exclusive; null
    while current), `is_current`; a deleted row's last version ends at its delete. Versions of
    one row follow each other without gaps or overlaps. Ordered by row, then `valid_from`."""
    n = history.initial.num_rows
    opened = np.full(n, history.start, dtype="datetime64[us]")
    pieces, rows_of, starts = [], [], []
    for commit in history.commits:
        changed = np.concatenate([commit.updated, commit.deleted])
        stamp = np.datetime64(commit.timestamp, "us")
        pieces.append(_versions(commit.before, opened[changed], np.full(len(changed), stamp), False))
        rows_of.append(changed)
        starts.append(opened[changed])
        opened[commit.updated] = stamp
    pieces.append(_versions(history.final, opened[history.final_rows], None, True))
    rows_of.append(history.final_rows)
    starts.append(opened[history.final_rows])
    table = pa.concat_tables(pieces)
    order = np.lexsort((np.concatenate(starts).astype(np.int64), np.concatenate(rows_of)))
    return table.take(pa.array(order, pa.int64())).combine_chunks()


def _versions(rows: pa.Table, valid_from: np.ndarray, valid_to: np.ndarray | None, current: bool) -> pa.Table:
    n = rows.num_rows
    to = pa.nulls(n, pa.timestamp("us")) if valid_to is None else pa.array(valid_to, pa.timestamp("us"))
    return (rows.append_column("valid_from", pa.array(valid_from, pa.timestamp("us")))
                .append_column("valid_to", to)
                .append_column("is_current", pa.array([current] * n, pa.bool_())))


def change_tables(plan: Plan) -> dict[str, tuple[pa.Table, str]]:
    """{output table: (rows, what it holds)} for every table of the plan with `changes:`."""
    found = {}
    for table in plan.tables:
        spec = plan.spec.tables.get(table.name)
        changes = getattr(spec, "changes", None) if spec is not None else None
        if changes is None:
            continue
        history = build_history(plan, table, changes)
        for name, emit in emitted_tables(table.name, changes).items():
            rows = {"cdf": change_feed, "debezium": debezium_feed, "scd2": scd2_history}[emit](history)
            found[name] = (rows, emit)
    return found


def write_change_tables(plan: Plan, sink) -> None:
    """Write every change table through the sink (one part file each, in the output's format);
    the sink lists them in the manifest beside the plan's tables."""
    for name, (rows, emit) in change_tables(plan).items():
        sink.write_table(name, rows, description=_DESCRIPTIONS[emit])


_DESCRIPTIONS = {
    "cdf": "change feed (Delta Change Data Feed columns: _change_type, _commit_version, _commit_timestamp)",
    "debezium": "change feed, Debezium-style envelopes (op, before, after, ts_ms)",
    "scd2": "SCD type-2 history (valid_from, valid_to exclusive, is_current)",
}
