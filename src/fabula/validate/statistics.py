"""Mergeable per-block summaries: what validation keeps of the data.

A `Statistic` turns one block of one table into a small state (counts in fixed bins, totals,
extremes); states of consecutive blocks merge into the state of both. Integer counts merge
exactly in any order; float totals are merged in block order (see `accumulate.py`), so the
result is the same for any worker count or engine and never needs a table in memory.

`summarise_block(statistics, view)` is the whole per-block interface an engine needs: a pure
function of the block, callable wherever the block is (a local thread, a Spark task).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from fabula.generators.conditional import case_masks
from fabula.plan.blocks import recent_columns
from fabula.plan.model import Plan, TablePlan


@dataclass
class BlockView:
    """One block of one table as written, and how to get what relations read for it.

    `aligned` says the block has exactly the rows the plan gives that block, so values the
    plan computes but does not write (a parent's tier read through a reference) can be
    regenerated for it. `generated` says it is the block function's output as the engine made
    it, not rows read back from files."""

    plan: Plan
    table: TablePlan
    block: int
    batch: pa.RecordBatch
    aligned: bool = True
    generated: bool = False
    _computed: dict[str, pa.Array | None] = field(default_factory=dict)
    _shared: dict[Any, Any] = field(default_factory=dict)

    def column(self, name: str) -> pa.Array | None:
        """A written column, or a hidden one the plan computes (None when it cannot)."""
        if name in self.batch.schema.names:
            return self.batch.column(name)
        if name not in self._computed:
            self._computed[name] = self._regenerate(name)
        return self._computed[name]

    def shared(self, key: Any, compute: Callable[[], Any]) -> Any:
        """Work several statistics need from this block (a reference turned into row numbers),
        done once for the block."""
        if key not in self._shared:
            self._shared[key] = compute()
        return self._shared[key]

    def _regenerate(self, name: str) -> pa.Array | None:
        if not self.aligned or name not in {c.name for c in self.table.columns}:
            return None
        if self.generated and "recent" not in self._shared:
            # the engine made this block in this thread just now: its hidden columns are still there
            self._shared["recent"] = recent_columns(self.plan, self.table.name, self.block) or {}
        recent = self._shared.get("recent") or {}
        if name in recent:
            return recent[name]
        return self.plan.columns(self.table, self.block, [name])[name]


def case_index(by: pa.Array, keys: list, *, uncovered: int) -> np.ndarray:
    """Which of the `keys` each row of `by` holds (its position in `keys`), `uncovered` for
    other values and nulls: what `case_masks` finds, and for a dictionary column without a
    mask per key — the case of each dictionary entry, then one lookup per row.

    >>> case_index(pa.array(["b", "a", None, "c"]).dictionary_encode(), ["a", "b"], uncovered=2).tolist()
    [1, 0, 2, 2]
    """
    if not isinstance(by, pa.DictionaryArray):
        index = np.full(len(by), uncovered, dtype=np.int64)
        for position, mask in enumerate(case_masks(by, keys)):
            index[mask] = position
        return index
    entry_of = {value: entry for entry, value in enumerate(by.dictionary.to_pylist())}
    size = len(by.dictionary)
    lookup = np.full(size + 1, uncovered, dtype=np.int64)  # the last entry: null rows
    for case, key in enumerate(keys):
        entry = entry_of.get(key, -1)
        if entry >= 0:
            lookup[entry] = case
    codes = by.indices.fill_null(size) if by.null_count else by.indices
    return lookup[codes.to_numpy(zero_copy_only=False)]


class Statistic(Protocol):
    """What one family keeps of each block of one table."""

    @property
    def key(self) -> str:
        """Names the statistic's state among every statistic's (unique per output)."""

    @property
    def table(self) -> str:
        """The table whose blocks it observes."""

    def observe(self, view: BlockView) -> Any:
        """The state of one block (merged with `merge`)."""


def summarise_block(statistics: list[Statistic], view: BlockView) -> dict[str, Any]:
    """Every statistic's state for one block. A statistic that cannot read the block (a column
    missing or of another type in a folder being re-validated) records why instead of failing."""
    states = {}
    for statistic in statistics:
        try:
            states[statistic.key] = statistic.observe(view)
        except Exception as error:  # noqa: BLE001 - reported as a failed check, never lost
            states[statistic.key] = Unreadable(f"{type(error).__name__}: {error}")
    return states


# -- states ------------------------------------------------------------------------------------


def merge(first: Any, second: Any) -> Any:
    """Two states of consecutive blocks as one.

    >>> merge({"n": 2, "bins": np.array([1, 2])}, {"n": 3, "bins": np.array([0, 5])})
    {'n': 5, 'bins': array([1, 7])}
    """
    if first is None:
        return second
    if second is None:
        return first
    if isinstance(first, Unreadable) or isinstance(second, Unreadable):
        return first if isinstance(first, Unreadable) else second
    if isinstance(first, dict):
        merged = dict(first)
        for key, value in second.items():
            merged[key] = merge(merged.get(key), value)
        return merged
    if isinstance(first, (int, float, np.ndarray)):
        return first + second
    return first.merge(second)


@dataclass(frozen=True)
class Moments:
    """Count, total, smallest and largest of some numbers."""

    count: int = 0
    total: float = 0.0
    low: float = float("inf")
    high: float = float("-inf")

    @classmethod
    def of(cls, values: np.ndarray) -> Moments:
        if not values.size:
            return cls()
        return cls(int(values.size), float(values.sum()), float(values.min()), float(values.max()))

    def merge(self, other: Moments) -> Moments:
        return Moments(self.count + other.count, self.total + other.total, min(self.low, other.low),
                       max(self.high, other.high))

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None


@dataclass(frozen=True)
class Examples:
    """A few distinct values (for messages: 'e.g. refunded')."""

    values: tuple = ()
    limit: int = 5

    def merge(self, other: Examples) -> Examples:
        seen = list(dict.fromkeys((*self.values, *other.values)))
        return Examples(tuple(seen[: self.limit]), self.limit)


@dataclass(frozen=True)
class Same:
    """A value every block should share (a schema); remembers the first and whether any differed."""

    value: Any
    differs: Any = None

    def merge(self, other: Same) -> Same:
        if self.differs is not None or other.value == self.value:
            return self
        return Same(self.value, other.value)


@dataclass(frozen=True)
class Unreadable:
    """A block a statistic could not read, and why."""

    reason: str

    def merge(self, other: Any) -> Unreadable:
        return self
