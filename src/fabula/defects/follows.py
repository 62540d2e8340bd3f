"""Times before the time they follow (`before_parent`): what a column's `after:` names, read
for a block or for any rows, and values moved to before it.

A column with `after: ordered_at` or `after: customer_id.created_at` is never earlier than that
time in clean data. The followed time is a column of the plan (the parent's, looked up through
the reference, is a hidden column of the child), so it is read from the clean block when
written there, or computed for the block (`Plan.columns`: only it and what it reads); validation
reads it the same way at the labelled rows, to check each label against the clean time.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from fabula.plan.blocks import recent_columns
from fabula.plan.model import Plan, TablePlan

_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}


def followed_name(plan: Plan, table: str, column: str) -> str:
    """The plan column `column` follows (its `after:`; loading refuses `before_parent` without one)."""
    after = getattr(plan.spec.tables[table].columns[column], "after", None)
    assert after is not None, f"{table}.{column} has no after:"  # refused when the spec loads
    return after


def followed_times(plan: Plan, table: TablePlan, block: int, clean: pa.RecordBatch, after: str) -> pa.Array:
    """The followed time of every row of one block (clean values; null where there is none)."""
    if after in clean.schema.names:
        values = clean.column(after)
    else:  # a hidden column (a parent's time through the reference): as the block made it, or computed alone
        recent = recent_columns(plan, table.name, block) or {}
        values = recent[after] if after in recent else plan.columns(table, block, [after])[after]
    return values.dictionary_decode() if pa.types.is_dictionary(values.type) else values


def followed_at(plan: Plan, table: TablePlan, after: str, rows: np.ndarray) -> pa.Array:
    """The followed time at clean row ids `rows` (any order), a block at a time."""
    rows = np.asarray(rows, dtype=np.int64)
    if not len(rows):
        return pa.array([], table.column(after).arrow_type)
    blocks = rows // table.block_rows
    order = np.argsort(rows, kind="stable")
    pieces = []
    for block in np.unique(blocks).tolist():
        start, _ = table.block_span(block)
        values = plan.columns(table, block, [after])[after]
        if pa.types.is_dictionary(values.type):
            values = values.dictionary_decode()
        pieces.append(values.take(pa.array(np.sort(rows[blocks == block]) - start, pa.int64())))
    sorted_values = pa.concat_arrays(pieces)
    back = np.empty_like(order)
    back[order] = np.arange(len(order))
    return sorted_values.take(pa.array(back, pa.int64()))


def moved_before(followed: pa.Array, days: np.ndarray, target: pa.DataType) -> pa.Array:
    """Times `days` (fractions allowed) before `followed`, in `target`'s type (a date or a
    timestamp of any unit and zone), each strictly earlier: at least a tick (a day for a date)
    before the followed time, whatever the two types' units."""
    per_day = 1 if pa.types.is_date(target) else 86_400 * _PER_SECOND[target.unit]
    ticks = _ticks(followed, per_day)
    offsets = np.maximum(np.floor(days * per_day), 1).astype(np.int64)
    moved = ticks - offsets
    if pa.types.is_date(target):
        return pa.array(moved, pa.int32()).cast(pa.date32()).cast(target)
    return pa.array(moved, pa.int64()).cast(pa.timestamp(target.unit)).cast(target)


def _ticks(values: pa.Array, per_day: int) -> np.ndarray:
    """`values` (dates or timestamps) in ticks of `per_day` a day, rounded down: never later."""
    if pa.types.is_date(values.type):
        days = values.cast(pa.date32()).cast(pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)
        return days * per_day
    source_per_day = 86_400 * _PER_SECOND[values.type.unit]
    raw = values.cast(pa.int64()).to_numpy(zero_copy_only=False).astype(np.int64)
    if per_day >= source_per_day:
        return raw * (per_day // source_per_day)
    return raw // (source_per_day // per_day)  # floor division: the tick the instant falls in
