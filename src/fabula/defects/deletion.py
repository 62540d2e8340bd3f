"""Deleted rows (`deleted`): which rows of a table are removed, as a pure function of the row
number, so any block of any child can tell which of its references point at a deleted row
without looking at the parent's blocks.

A row is deleted when a keyed hash of its number (SplitMix64's finaliser, keyed by the
defect's stream: the seed and the names of table and defect) falls below rate × 2⁶⁴: each row
independently with probability `rate`, so the rate is exact in expectation, and a child whose
references favour some parents (Zipf, weights) still has `rate` of its references orphaned in
expectation, since which parents are deleted does not depend on which are picked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fabula.streams import mix64, stream_key

_GAMMA = np.uint64(0x9E3779B97F4A7C15)  # SplitMix64's increment: consecutive rows land far apart


@dataclass(frozen=True)
class Deletion:
    """The rows a table's `deleted` defect removes."""

    table: str
    rate: float
    key: int
    """64 bits of the defect's stream, the hash's key."""

    @classmethod
    def of(cls, seed: int, table: str, rate: float, stream: tuple) -> Deletion:
        sequence = np.random.SeedSequence(entropy=seed, spawn_key=stream_key(*stream))
        return cls(table, rate, int(sequence.generate_state(1, np.uint64)[0]))

    @property
    def threshold(self) -> np.uint64:
        return np.uint64(min(int(self.rate * 2.0**64), 2**64 - 1))

    def deleted(self, rows: np.ndarray) -> np.ndarray:
        """Whether each row number (of the table, 0-based) is deleted.

        >>> deletion = Deletion.of(7, "customers", 0.25, ("customers", "defects", "*", "deleted", "", 0))
        >>> bool(np.array_equal(deletion.deleted(np.arange(8)), deletion.deleted(np.arange(8))))
        True
        >>> round(float(deletion.deleted(np.arange(100_000)).mean()), 2)
        0.25
        """
        with np.errstate(over="ignore"):
            spread = np.asarray(rows, dtype=np.int64).astype(np.uint64) * _GAMMA
        return mix64(spread, self.key) < self.threshold
