"""What the plan holds about relations between tables: data only, never a pointer to the plan.

Two kinds of answers (computed by `blocks.PlanReader`, which reads a plan and this data):

- recomputed on demand from blocks, costing no memory: a parent's key at a row number (keys
  are functions of the row), the parent of each row in a table sized per parent (from the
  parent block's counts, regenerated; only a prefix sum per parent *block* is kept here), the
  children's values for an aggregate (the child blocks under one parent block, regenerated);
- materialised once, when the plan is compiled, and only for what references need: a parent
  column that children read (`lookup`, `by: fk.column`, `after: fk.column`) and the grouping of
  parents by the column a weighted reference draws by. These cost memory per *parent* row
  (e.g. 4 bytes a row for a dictionary-encoded tier), never per child row.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fabula.generators.base import LevelIndex

Answer = TypeVar("Answer")
Key = TypeVar("Key")


@dataclass(frozen=True)
class PerParentIndex:
    """Where a per-parent table's rows start for each parent block: child rows of parent
    block b are `prefix[b]:prefix[b+1]`."""

    parent: str
    prefix: np.ndarray


class Materialised:
    """Parent columns and groupings computed once per plan: a memo of pure functions of the
    plan, filled while the plan compiles (or on first use after `without_materialised`). A lock
    keeps a late first request from being computed twice."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], pa.Array] = {}
        self.levels: dict[tuple[str, str], LevelIndex] = {}
        self.counts: dict[tuple[str, int], pa.Array] = {}
        """Child counts of a parent block, per (child table, parent block), as child blocks ask."""
        self.ranks: dict[tuple[str, str], np.ndarray] = {}
        """Each row's rank in the order of a column, per (table, column): chronological ids."""
        self.union: dict[tuple[str, str], pa.Array] = {}
        """A batch's parent columns followed by the earlier batches' (formats, issue 13)."""
        self.in_progress: set[tuple[str, str]] = set()
        self._lock = threading.RLock()

    def __getstate__(self):
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("counts", {})
        self.__dict__.setdefault("ranks", {})
        self.__dict__.setdefault("union", {})
        self._lock = threading.RLock()

    def once(self, store: dict[Key, Answer], key: Key, compute: Callable[[], Answer]) -> Answer:
        """A stored answer, computed the first time under the lock (never twice)."""
        found = store.get(key)
        if found is not None:
            return found
        with self._lock:
            if key not in store:
                store[key] = compute()
            return store[key]

    def nbytes(self) -> int:
        held = sum(array.nbytes for array in (*self.values.values(), *self.counts.values(), *self.ranks.values(),
                                                  *self.union.values()))
        return held + sum(level.rows.nbytes + level.offsets.nbytes for level in self.levels.values())


@dataclass(frozen=True, eq=False)
class PlanRelations:
    """The per-parent prefix sums the count pass found, and the memo of materialised columns."""

    per_parent: Mapping[str, PerParentIndex] = field(default_factory=dict)
    materialised: Materialised = field(default_factory=Materialised)

    def with_per_parent(self, table: str, index: PerParentIndex) -> PlanRelations:
        """These relations plus one more sized table (with an empty memo: values materialised
        while tables were still being sized must not outlive the sizing)."""
        return PlanRelations(per_parent={**self.per_parent, table: index})

    def without_materialised(self) -> PlanRelations:
        """The same prefix sums with an empty memo: materialised values and groupings are
        recomputed on first use (the Spark engine ships this when they are big)."""
        return PlanRelations(per_parent=dict(self.per_parent))

    def memory_bytes(self) -> int:
        """What the materialised values, groupings and prefix sums hold (reported by `fabula plan`)."""
        return self.materialised.nbytes() + sum(index.prefix.nbytes for index in self.per_parent.values())


def concat(pieces: list[pa.Array]) -> pa.Array:
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


def ranks_of(values: pa.Array) -> np.ndarray:
    """Each row's position when the rows are sorted by `values` (ascending, nulls last, equal
    values by row number): a permutation of 0..n-1, 4 bytes a row (8 past 2**31 rows).

    >>> ranks_of(pa.array([30, None, 10, 30])).tolist()
    [1, 3, 0, 2]
    """
    n = len(values)
    rows = pa.array(np.arange(n, dtype=np.int64))
    missing = pc.is_null(values)  # nulls last, whatever pyarrow's default placement
    order = pc.sort_indices(pa.table({"missing": missing, "value": values, "row": rows}),
                            sort_keys=[("missing", "ascending"), ("value", "ascending"), ("row", "ascending")])
    ranks = np.empty(n, dtype=np.int32 if n < 2**31 else np.int64)
    ranks[order.to_numpy()] = np.arange(n, dtype=ranks.dtype)
    return ranks
