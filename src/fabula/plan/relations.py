"""Answers to what generators ask about other tables (see `generators.base.Relations`).

Everything is a pure function of the plan. Two kinds of answers:

- recomputed on demand from blocks, costing no memory: a parent's key at a row number (keys
  are functions of the row), the parent of each row in a table sized per parent (from the
  parent block's counts, regenerated; only a prefix sum per parent *block* is kept), the
  children's values for an aggregate (the child blocks under one parent block, regenerated);
- materialised once, when the plan is compiled, and only for what references need: a parent
  column that children read (`lookup`, `by: fk.column`, `after: fk.column`) and the grouping of
  parents by the column a weighted reference draws by. These cost memory per *parent* row
  (e.g. 4 bytes a row for a dictionary-encoded tier), never per child row.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fabula.generators.base import BlockContext, LevelIndex
from fabula.generators.relations import count_column

if TYPE_CHECKING:
    from fabula.plan.model import Plan


@dataclass(frozen=True)
class PerParentIndex:
    """Where a per-parent table's rows start for each parent block: child rows of parent
    block b are `prefix[b]:prefix[b+1]`."""

    parent: str
    prefix: np.ndarray


class PlanRelations:
    """The plan's relations resolver. Materialised values are filled while the plan compiles
    and never change afterwards; a lock keeps a late first request from being computed twice."""

    def __init__(self):
        self.plan: Plan | None = None
        self.per_parent: dict[str, PerParentIndex] = {}
        self._values: dict[tuple[str, str], pa.Array] = {}
        self._levels: dict[tuple[str, str], LevelIndex] = {}
        self._in_progress: set[tuple[str, str]] = set()
        self._lock = threading.RLock()

    def __getstate__(self):
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def without_materialised(self) -> PlanRelations:
        """A copy keeping only the per-parent prefix sums: materialised values and groupings
        are recomputed on first use (the Spark engine ships this when they are big). Set its
        `plan` to the plan that holds it."""
        lean = PlanRelations()
        lean.plan = self.plan
        lean.per_parent = dict(self.per_parent)
        return lean

    # -- the Relations protocol ------------------------------------------------------------------

    def table_rows(self, table: str) -> int:
        return self.plan.table(table).rows

    def keys(self, table: str, column: str, rows: np.ndarray) -> pa.Array:
        generator = self.plan.table(table).column(column).generator
        context = BlockContext(seed=self.plan.seed, table=table, column=column, block=-1, start=0,
                               n=len(rows), rows=np.asarray(rows, dtype=np.int64), relations=self)
        return generator.generate(context)

    def values(self, table: str, column: str) -> pa.Array:
        return self._once(self._values, (table, column), lambda: self._materialise(table, column))

    def levels(self, table: str, column: str) -> LevelIndex:
        return self._once(self._levels, (table, column), lambda: group_rows(self.values(table, column)))

    def _once(self, store: dict, key: tuple[str, str], compute):
        """A stored answer, computed the first time under the lock (never twice)."""
        found = store.get(key)
        if found is not None:
            return found
        with self._lock:
            if key not in store:
                store[key] = compute()
            return store[key]

    def parent_rows(self, table: str, block: int) -> np.ndarray:
        from fabula.engine.block import generate_columns

        index = self.per_parent[table]
        parent = self.plan.table(index.parent)
        start, n = self.plan.table(table).block_span(block)
        first = int(np.searchsorted(index.prefix, start, side="right")) - 1
        last = int(np.searchsorted(index.prefix, start + n - 1, side="right")) - 1
        pieces = []
        for parent_block in range(first, last + 1):
            counts = generate_columns(self.plan, parent, parent_block, [count_column(table)])[count_column(table)]
            ends = np.cumsum(counts.to_numpy()) + index.prefix[parent_block]  # last child row + 1, per parent
            low = max(start, int(index.prefix[parent_block]))
            high = min(start + n, int(index.prefix[parent_block + 1]))
            parent_start, _ = parent.block_span(parent_block)
            # only this block's child rows are placed: O(rows log parents), whatever the fan-out
            pieces.append(parent_start + np.searchsorted(ends, np.arange(low, high), side="right"))
        return np.concatenate(pieces).astype(np.int64) if pieces else np.zeros(0, dtype=np.int64)

    def children(self, child: str, parent_block: int, column: str) -> pa.Array:
        """A column of all children of one parent block, in order (regenerated from their blocks)."""
        from fabula.engine.block import generate_columns

        index = self.per_parent[child]
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
        return _concat(pieces)

    # -- materialising -------------------------------------------------------------------------

    def _materialise(self, table: str, column: str) -> pa.Array:
        from fabula.engine.block import generate_columns
        from fabula.errors import SpecError, Issue

        key = (table, column)
        if key in self._in_progress:
            raise SpecError([Issue("cycle", f"tables.{table}.columns.{column}",
                                   f"{table}.{column} depends on itself through other tables",
                                   hint="a parent column that children read cannot depend on those children")])
        self._in_progress.add(key)
        try:
            plan_table = self.plan.table(table)
            pieces = [generate_columns(self.plan, plan_table, block, [column])[column]
                      for block in range(plan_table.n_blocks)]
        finally:
            self._in_progress.discard(key)
        if not pieces:
            return pa.array([], type=plan_table.column(column).arrow_type)
        return _concat(pieces)

    def memory_bytes(self) -> int:
        """What the materialised values and groupings hold (reported by `fabula plan`)."""
        held = sum(array.nbytes for array in self._values.values())
        held += sum(level.rows.nbytes + level.offsets.nbytes for level in self._levels.values())
        held += sum(index.prefix.nbytes for index in self.per_parent.values())
        return held


def _concat(pieces: list[pa.Array]) -> pa.Array:
    chunked = pa.chunked_array(pieces)
    if pa.types.is_dictionary(chunked.type):
        chunked = pa.table({"v": chunked}).unify_dictionaries().column("v")
    return chunked.combine_chunks()


def group_rows(values: pa.Array) -> LevelIndex:
    """Row numbers grouped by value, for drawing a value first and then a row that has it."""
    encoded = values if isinstance(values, pa.DictionaryArray) else pc.dictionary_encode(values)
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    levels = encoded.dictionary.to_pylist()
    row_type = np.int32 if len(codes) < 2**31 else np.int64
    if len(levels) <= 64:
        # one level at a time: peak memory is one level's rows, not a sort of all of them
        groups = [np.flatnonzero(codes == level).astype(row_type) for level in range(len(levels))]
        counts = np.array([len(group) for group in groups], dtype=np.int64)
        rows = np.concatenate(groups) if groups else np.zeros(0, dtype=row_type)
    else:
        order = np.argsort(codes, kind="stable")
        counts = np.bincount(codes[codes >= 0], minlength=len(levels)).astype(np.int64)
        rows = order[int((codes < 0).sum()):].astype(row_type)  # nulls sort first; no level holds them
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return LevelIndex(values=levels, rows=rows, offsets=offsets)
