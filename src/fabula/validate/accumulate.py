"""Collecting block summaries from any thread and merging them in block order.

Blocks arrive in any order (threads, part files in parallel). Each block's states wait until
every earlier block of its table has been merged, then join the running state: floating-point
totals are then always added in the same order, so the result does not depend on how the work
was split, and only the blocks in flight are held (a few per worker), never the whole table.
"""

from __future__ import annotations

import threading
from typing import Any

import pyarrow as pa

from fabula.plan.model import Plan
from fabula.validate.statistics import (
    BlockView,
    Statistic,
    merge,
    summarise_block,
)


class Accumulator:
    """Summarises blocks as they are generated or read, and merges them in order.

    `observe(table, block, batch)` may be called from any thread, once per block."""

    def __init__(self, plan: Plan, statistics: list[Statistic]):
        self.plan = plan
        self._tables = {table.name: table for table in plan.tables}
        self._by_table: dict[str, list[Statistic]] = {name: [] for name in self._tables}
        for statistic in statistics:
            self._by_table[statistic.table].append(statistic)
        self._merged: dict[str, dict[str, Any]] = {name: {} for name in self._tables}
        self._rows: dict[str, int] = dict.fromkeys(self._tables, 0)
        self._waiting: dict[str, dict[int, tuple[int, dict[str, Any]]]] = {name: {} for name in self._tables}
        self._next: dict[str, int] = dict.fromkeys(self._tables, 0)
        self._lock = threading.Lock()

    def observe(self, table: str, block: int, batch: pa.RecordBatch, *, aligned: bool = True,
                generated: bool = False) -> None:
        states = self.summarise(table, block, batch, aligned=aligned, generated=generated)  # outside the lock
        self.add(table, block, len(batch), states)

    def summarise(self, table: str, block: int, batch: pa.RecordBatch, *, aligned: bool = True,
                  generated: bool = False) -> dict[str, Any]:
        """One block's states, without merging them: small, picklable, mergeable later by `add`
        (a Spark task summarises its blocks and returns this to the driver)."""
        view = BlockView(self.plan, self._tables[table], block, batch, aligned=aligned, generated=generated)
        return summarise_block(self._by_table[table], view)

    def add(self, table: str, block: int, rows: int, states: dict[str, Any]) -> None:
        """A block's states, summarised anywhere (e.g. by another engine's task)."""
        with self._lock:
            waiting = self._waiting[table]
            if block in waiting or block < self._next[table]:
                raise ValueError(f"block {block} of {table} was observed twice")
            waiting[block] = (rows, states)
            while self._next[table] in waiting:
                rows_, states_ = waiting.pop(self._next[table])
                self._rows[table] += rows_
                self._merged[table] = merge(self._merged[table], states_)
                self._next[table] += 1

    def states(self) -> dict[str, Any]:
        """Every statistic's merged state, by key (blocks not yet contiguous are left out)."""
        with self._lock:
            merged: dict[str, Any] = {}
            for states in self._merged.values():
                merged.update(states)
            return merged

    def rows(self) -> dict[str, int]:
        """Rows seen per table."""
        with self._lock:
            return dict(self._rows)
