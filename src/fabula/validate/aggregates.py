"""Aggregates against their children while both stream by, without joining them.

A parent's `count` or `sum` of its children must equal, row by row, what its children add up
to. Comparing row by row needs both tables at once (DuckDB can, at the cost of a hash join).
Instead, each side keeps one number, a fingerprint: the sum over rows of w(parent row) × value,
modulo the prime p = 2^31 − 1, with w a fixed pseudo-random weight per parent row. The parent
side adds w(i) × aggregate(i) over its rows; the child side adds w(parent of j) × value(j) over
its rows (the parent of a child is its reference turned back into a row number, see `keys.py`).
If every aggregate is right the two are equal; if any row is wrong they differ except with
probability about 1/p (5 in 10 billion) — the check of Freivalds. Both are plain sums, so they
merge across blocks in any order.

Values are whole numbers: counts, integer sums, and sums of values on a decimal grid (a sum
with `round: 2` of amounts in cents, counted in cents). When the fingerprints differ, or the
values are not whole (no `round`, values off the grid, a reference that does not resolve), the
structure checks ask DuckDB, which also counts the rows that are wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from fabula.spec.columns import IdColumn, SequenceColumn
from fabula.spec.relations import AggregateColumn, ReferenceColumn
from fabula.streams import mix64
from fabula.validate.keys import reference_positions

PRIME = 2**31 - 1
_WEIGHT_KEY = 0x5DEECE66D


def weights(rows: np.ndarray) -> np.ndarray:
    """The fixed weight of each parent row, in 1..p-1."""
    return (mix64(rows.astype(np.uint64), _WEIGHT_KEY) % np.uint64(PRIME - 1)).astype(np.int64) + 1


def fingerprint(rows: np.ndarray, units: np.ndarray) -> int:
    """Σ w(row) × unit mod p (each product reduced first, so nothing overflows).

    >>> fingerprint(np.array([0, 1]), np.array([2, 3])) == (2 * int(weights(np.array([0]))[0])
    ...                                                    + 3 * int(weights(np.array([1]))[0])) % PRIME
    True
    """
    return weighted_sum(weights(rows), units)


def weighted_sum(row_weights: np.ndarray, units: np.ndarray) -> int:
    if not len(units):
        return 0
    return int(((row_weights * (units.astype(np.int64) % PRIME)) % PRIME).sum() % PRIME)


def grid_units(values: np.ndarray, decimals: int) -> tuple[np.ndarray, int]:
    """Values in units of 10^-decimals, and how many are not on that grid."""
    scaled = values * 10.0 ** decimals
    units = np.rint(scaled)
    off = int(np.count_nonzero(np.abs(scaled - units) > 1e-6 * np.maximum(1.0, np.abs(scaled))))
    return units.astype(np.int64), off


@dataclass(frozen=True)
class Totals:
    """How one aggregate column can be fingerprinted: the parent and child sides."""

    table: str
    column: str
    child: str
    reference: str
    """The child's reference to this table (each child row's own parent)."""
    parent_key: IdColumn | SequenceColumn
    child_column: str | None
    """The child column summed or counted; None to count the child rows."""
    decimals: int
    """The grid the values are whole numbers on: 0 for counts and integers, `round` for floats."""
    counts: bool
    """Count the child's non-null values (fn: count) rather than add them up."""


@dataclass(frozen=True)
class ParentTotals:
    """Σ w(row) × aggregate over a parent table's blocks."""

    totals: Totals

    @property
    def table(self) -> str:
        return self.totals.table

    @property
    def key(self) -> str:
        return f"structure:totals:{self.totals.table}.{self.totals.column}"

    def observe(self, view) -> dict:
        if not view.aligned:
            raise ValueError("the table does not have the planned rows")
        start, n = view.table.block_span(view.block)
        column = view.batch.column(self.totals.column)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        if column.null_count:
            return {"fingerprint": 0, "unusable": column.null_count}
        units, off = grid_units(column.to_numpy(zero_copy_only=False).astype(np.float64), self.totals.decimals)
        return {"fingerprint": fingerprint(np.arange(start, start + n), units), "unusable": off}


@dataclass(frozen=True)
class ChildTotals:
    """Σ w(parent row) × value over a child table's blocks (1 per row for a count)."""

    totals: Totals
    parent_rows: int

    @property
    def table(self) -> str:
        return self.totals.child

    @property
    def key(self) -> str:
        return f"structure:totals-of-children:{self.totals.table}.{self.totals.column}"

    def observe(self, view) -> dict:
        totals = self.totals
        present, rows, valid = reference_positions(view, totals.reference, totals.parent_key, self.parent_rows)
        weighted = view.shared(("weights", totals.reference), lambda: weights(rows[valid]))
        if totals.child_column is None:
            units, off = np.ones(int(valid.sum()), dtype=np.int64), 0
        else:
            values = _array(view.batch.column(totals.child_column))
            if not present.all():
                values = values.filter(pa.array(present))
            values = values.filter(pa.array(valid)) if not valid.all() else values
            if totals.counts:
                units, off = np.asarray(values.is_valid()).astype(np.int64), 0
            else:
                numbers = values.fill_null(0).to_numpy(zero_copy_only=False).astype(np.float64)
                units, off = grid_units(numbers, totals.decimals)
        return {"fingerprint": weighted_sum(weighted, units), "unusable": int((~valid).sum()) + off}


def totals_of(plan, table: str, column: str, spec: AggregateColumn) -> Totals | None:
    """How to fingerprint an aggregate, or None when only SQL can check it (mean, min, max,
    nulls or clip on the aggregate, a float sum without `round`, a parent without id/sequence key)."""
    child, child_column = spec.child
    child_spec = plan.spec.tables.get(child)
    if spec.fn not in ("count", "sum") or spec.clip is not None or spec.nulls or child_spec is None:
        return None
    reference = next((name for name, c in child_spec.columns.items()
                      if isinstance(c, ReferenceColumn) and c.parent[0] == table), None)
    if reference is None:
        return None
    parent_key = plan.spec.tables[table].columns[child_spec.columns[reference].parent[1]]
    if not isinstance(parent_key, (IdColumn, SequenceColumn)):
        return None
    if spec.fn == "count":
        return Totals(table, column, child, reference, parent_key, child_column, 0, counts=True)
    child_type = plan.table(child).column(child_column).arrow_type
    if pa.types.is_integer(child_type):
        decimals = 0
    elif spec.round is not None:
        decimals = spec.round
    else:
        return None
    return Totals(table, column, child, reference, parent_key, child_column, decimals, counts=False)


def statistics(plan) -> list:
    found: list = []
    for table in plan.tables:
        declared = plan.spec.tables.get(table.name)
        for name, spec in (declared.columns.items() if declared is not None else ()):
            if isinstance(spec, AggregateColumn):
                totals = totals_of(plan, table.name, name, spec)
                if totals is not None:
                    found += [ParentTotals(totals), ChildTotals(totals, plan.table(table.name).rows)]
    return found


def agree(evidence, table: str, column: str) -> bool | None:
    """True when both sides' fingerprints match, False when they differ, None when they cannot
    tell (no fingerprint, or values that are not whole numbers)."""
    parent = evidence.states.get(f"structure:totals:{table}.{column}")
    children = evidence.states.get(f"structure:totals-of-children:{table}.{column}")
    if not isinstance(parent, dict) or not isinstance(children, dict):
        return None
    if parent["unusable"] or children["unusable"]:
        return None
    return parent["fingerprint"] % PRIME == children["fingerprint"] % PRIME


def _array(column) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
