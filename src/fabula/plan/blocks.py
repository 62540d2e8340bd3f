"""The plan makes its own blocks: every engine (and validation) calls `Plan.block` /
`Plan.columns`, which are these functions, and nothing else to make data.

`PlanReader` answers what generators ask about other tables (the `Relations` protocol of
`generators.base`) by reading the plan and, where it must, regenerating other tables' blocks.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from fabula.errors import Issue, SpecError
from fabula.generators.base import BlockContext, LevelIndex
from fabula.generators.relations import count_column
from fabula.plan.relations import concat, group_rows, ranks_of

if TYPE_CHECKING:  # the plan model imports this module to offer `plan.block(...)`
    from fabula.plan.model import Plan, TablePlan


def generate_block(plan: Plan, table: TablePlan, block: int) -> pa.RecordBatch:
    """Rows of one block of one table: a pure function of (plan, table, block index).

    >>> from fabula.spec import load_text
    >>> from fabula.plan import compile_plan
    >>> plan = compile_plan(load_text("name: d\\nseed: 7\\ntables:\\n  t:\\n    rows: 3\\n"
    ...                               "    columns:\\n      id: {kind: id, format: 'T-{:03d}'}"))
    >>> generate_block(plan, plan.table("t"), 0).column(0).to_pylist()
    ['T-000', 'T-001', 'T-002']
    """
    outputs = table.outputs
    _recent.block = None  # the block before is done with: never two kept at once
    computed = generate_columns(plan, table, block, [column.name for column in outputs])
    if getattr(_recent, "keep", False):  # only in threads whose blocks validation or defects read
        _recent.block = (weakref.ref(plan), table.name, block, computed)  # never keeps a plan alive
    return pa.RecordBatch.from_arrays([computed[column.name] for column in outputs], schema=table.schema)


_recent = threading.local()
"""Per thread, the columns of the block `generate_block` made last, hidden ones included, kept
until the thread makes its next block."""


def recent_columns(plan: Plan, table: str, block: int) -> dict[str, pa.Array] | None:
    """Every column `generate_block` computed for this block in this thread, if it was the last
    block made here: validation and the defects read hidden columns (a parent's tier or time
    through a reference) from it instead of generating them again. None otherwise. The first
    call in a thread finds nothing: it asks this thread to keep its blocks from then on."""
    _recent.keep = True
    recent = getattr(_recent, "block", None)
    if recent is None or recent[0]() is not plan or recent[1:3] != (table, block):
        return None
    return recent[3]


def generate_columns(plan: Plan, table: TablePlan, block: int, names: Iterable[str]) -> dict[str, pa.Array]:
    """Some columns of a block, and whatever they read: the same values as the full block
    (every stream is named), at the cost of only what is asked for."""
    by_name = {column.name: column for column in table.columns}
    needed = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending.extend(by_name[name].depends_on)
    start, n = table.block_span(block)
    computed: dict[str, pa.Array] = {}
    base = BlockContext(seed=plan.seed, table=table.name, column="", block=block, start=start, n=n,
                        columns=computed, relations=PlanReader(plan))
    for name in table.order:
        if name in needed:
            computed[name] = by_name[name].generator.generate(base.for_column(name))
    return computed


@dataclass(frozen=True)
class PlanReader:
    """The `Relations` a block's generators see: a pure function of the plan. Answers that
    cost memory are kept in the plan's `relations.materialised` memo, computed once.

    **Rows a reference can name.** In a batch appended to an output (formats, issue 13), the
    parents written by earlier batches still exist, so a reference picks among them too: its
    row numbers run over this batch's rows first (0 … n−1, the numbers its own table's rows
    have, so a table sized per parent is unchanged), then over each earlier batch's rows,
    oldest first. A key or value at such a row comes from that batch's plan (`plan.earlier`),
    which regenerates it, so the new children of an old parent read exactly its written key
    and values. Only parents that exist are ever named: batches later than this one do not."""

    plan: Plan

    def table_rows(self, table: str) -> int:
        """The rows a reference to `table` picks among: this batch's, and the earlier batches'."""
        return self.plan.table(table).rows + sum(rows for _, rows in self._earlier(table))

    def keys(self, table: str, column: str, rows: np.ndarray) -> pa.Array:
        rows = np.asarray(rows, dtype=np.int64)
        own = self.plan.table(table).rows
        if not self.plan.earlier or not len(rows) or int(rows.max()) < own:
            return self._own_keys(table, column, rows)
        # rows of earlier batches: each batch's keys from its own plan, put back in place
        starts = np.cumsum([own] + [count for _, count in self._earlier(table)])
        batch = np.searchsorted(starts, rows, side="right")  # 0: this batch; i: the i-th earlier one
        order = np.argsort(batch, kind="stable")
        pieces = []
        for index in np.unique(batch).tolist():
            chosen = rows[batch == index]
            if index == 0:
                pieces.append(self._own_keys(table, column, chosen))
            else:
                plan, _ = self._earlier(table)[index - 1]
                pieces.append(PlanReader(plan)._own_keys(table, column, chosen - starts[index - 1]))
        back = np.empty_like(order)
        back[order] = np.arange(len(order))
        return concat(pieces).take(pa.array(back))

    def _own_keys(self, table: str, column: str, rows: np.ndarray) -> pa.Array:
        generator = self.plan.table(table).column(column).generator
        context = BlockContext(seed=self.plan.seed, table=table, column=column, block=-1, start=0,
                               n=len(rows), rows=rows, relations=self)
        return generator.generate(context)

    def values(self, table: str, column: str) -> pa.Array:
        """A whole column at the rows a reference can name (this batch's, then earlier ones')."""
        memo = self.plan.relations.materialised
        if not self._earlier(table):
            return self.own_values(table, column)
        return memo.once(memo.union, (table, column), lambda: concat(
            [self.own_values(table, column)] + [PlanReader(plan).own_values(table, column)
                                                for plan, _ in self._earlier(table)]))

    def own_values(self, table: str, column: str) -> pa.Array:
        """A whole column of this batch's rows (materialised once)."""
        memo = self.plan.relations.materialised
        return memo.once(memo.values, (table, column), lambda: self._materialise(table, column))

    def ranks(self, table: str, column: str) -> np.ndarray:
        """Each row's rank in the order of one of its table's columns (chronological ids): the
        column is regenerated once, over every block, and only the ranks are kept."""
        memo = self.plan.relations.materialised
        return memo.once(memo.ranks, (table, column), lambda: ranks_of(self._materialise(table, column)))

    def levels(self, table: str, column: str) -> LevelIndex:
        memo = self.plan.relations.materialised
        return memo.once(memo.levels, (table, column), lambda: group_rows(self.values(table, column)))

    def _earlier(self, table: str) -> list[tuple[Plan, int]]:
        """(plan, rows) of the earlier batches that wrote rows of `table`, oldest first."""
        return [(plan, plan.table(table).rows) for plan in self.plan.earlier
                if any(t.name == table for t in plan.tables) and plan.table(table).rows]

    def parent_rows(self, table: str, block: int) -> np.ndarray:
        index = self.plan.relations.per_parent[table]
        parent = self.plan.table(index.parent)
        start, n = self.plan.table(table).block_span(block)
        first = int(np.searchsorted(index.prefix, start, side="right")) - 1
        last = int(np.searchsorted(index.prefix, start + n - 1, side="right")) - 1
        pieces = []
        for parent_block in range(first, last + 1):
            counts = self._child_counts(table, parent, parent_block)
            ends = np.cumsum(counts.to_numpy()) + index.prefix[parent_block]  # last child row + 1, per parent
            low = max(start, int(index.prefix[parent_block]))
            high = min(start + n, int(index.prefix[parent_block + 1]))
            parent_start, _ = parent.block_span(parent_block)
            # only this block's child rows are placed: O(rows log parents), whatever the fan-out
            pieces.append(parent_start + np.searchsorted(ends, np.arange(low, high), side="right"))
        return np.concatenate(pieces).astype(np.int64) if pieces else np.zeros(0, dtype=np.int64)

    def _child_counts(self, table: str, parent, parent_block: int) -> pa.Array:
        """How many rows of `table` each row of a parent block has: regenerated once per parent
        block and kept (8 bytes a parent row), since every column of a child block that places its
        rows asks again."""
        memo = self.plan.relations.materialised
        name = count_column(table)
        return memo.once(memo.counts, (table, parent_block),
                         lambda: generate_columns(self.plan, parent, parent_block, [name])[name])

    def parent_table(self, table: str) -> str:
        """The parent of a table sized per parent."""
        return self.plan.relations.per_parent[table].parent

    def first_child_rows(self, table: str, block: int) -> np.ndarray:
        """For each row of a block of a table sized per parent, the first row of its parent's
        children (so `row − first` is the row's position within its parent)."""
        index = self.plan.relations.per_parent[table]
        parent = self.plan.table(index.parent)
        start, n = self.plan.table(table).block_span(block)
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        first = int(np.searchsorted(index.prefix, start, side="right")) - 1
        last = int(np.searchsorted(index.prefix, start + n - 1, side="right")) - 1
        pieces = []
        for parent_block in range(first, last + 1):
            counts = self._child_counts(table, parent, parent_block)
            ends = np.cumsum(counts.to_numpy()) + index.prefix[parent_block]
            begins = ends - counts.to_numpy()
            low = max(start, int(index.prefix[parent_block]))
            high = min(start + n, int(index.prefix[parent_block + 1]))
            pieces.append(begins[np.searchsorted(ends, np.arange(low, high), side="right")])
        return np.concatenate(pieces).astype(np.int64)

    def column_rows(self, table: str, column: str, start: int, stop: int) -> pa.Array:
        """A column's values at rows [start, stop) of a table (regenerated from their blocks)."""
        plan_table = self.plan.table(table)
        pieces = []
        for block in range(start // plan_table.block_rows, (stop - 1) // plan_table.block_rows + 1):
            block_start, _ = plan_table.block_span(block)
            values = generate_columns(self.plan, plan_table, block, [column])[column]
            low, high = max(start, block_start) - block_start, min(stop, block_start + len(values)) - block_start
            pieces.append(values.slice(low, high - low))
        return concat(pieces) if pieces else pa.array([], type=plan_table.column(column).arrow_type)

    def children(self, child: str, parent_block: int, column: str) -> pa.Array:
        """A column of all children of one parent block, in order (regenerated from their blocks)."""
        index = self.plan.relations.per_parent[child]
        table = self.plan.table(child)
        if parent_block + 1 >= len(index.prefix):  # past the parent's last block (e.g. 0 rows): none
            return pa.array([], type=table.column(column).arrow_type)
        start, stop = int(index.prefix[parent_block]), int(index.prefix[parent_block + 1])
        if stop == start:
            return pa.array([], type=table.column(column).arrow_type)
        pieces = []
        for block in range(start // table.block_rows, (stop - 1) // table.block_rows + 1):
            block_start, _ = table.block_span(block)
            values = generate_columns(self.plan, table, block, [column])[column]
            low, high = max(start, block_start) - block_start, min(stop, block_start + len(values)) - block_start
            pieces.append(values.slice(low, high - low))
        return concat(pieces)

    def _materialise(self, table: str, column: str) -> pa.Array:
        in_progress = self.plan.relations.materialised.in_progress
        key = (table, column)
        if key in in_progress:
            raise SpecError([Issue("cycle", f"tables.{table}.columns.{column}",
                                   f"{table}.{column} depends on itself through other tables",
                                   hint="a parent column that children read cannot depend on those children")])
        in_progress.add(key)
        try:
            plan_table = self.plan.table(table)
            pieces = [generate_columns(self.plan, plan_table, block, [column])[column]
                      for block in range(plan_table.n_blocks)]
        finally:
            in_progress.discard(key)
        if not pieces:
            return pa.array([], type=plan_table.column(column).arrow_type)
        return concat(pieces)
