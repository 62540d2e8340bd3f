"""Uniqueness by construction: a keyed permutation of the row number picks the value, so no two
rows can get the same one — for Faker pools, categoricals and integer, date and time ranges —
as long as the table has no more rows than there are values (checked when the plan compiles)."""

from __future__ import annotations

import numpy as np

from fabula.streams import stream_key


def permute(rows: np.ndarray, size: int, key: int) -> np.ndarray:
    """A keyed bijection of [0, size), applied to row numbers below `size`.

    A bijection on the smallest power of two above `size`, then cycle-walking: values that land
    outside [0, size) are mapped again until they fall inside (fewer than 2 rounds on average).

    >>> p = permute(np.arange(10), 10, key=3)
    >>> sorted(p.tolist()) == list(range(10))
    True
    """
    bits = max(1, int(size - 1).bit_length())
    mask = np.uint64((1 << bits) - 1)
    values = rows.astype(np.uint64)
    outside = np.ones(len(values), dtype=bool)
    result = values.copy()
    while outside.any():
        result[outside] = _mix_bits(result[outside], bits, mask, key)
        outside = result >= np.uint64(size)
    return result.astype(np.int64)


def _mix_bits(x: np.ndarray, bits: int, mask: np.uint64, key: int) -> np.ndarray:
    """Xorshifts and odd multipliers modulo 2**bits: each step is a bijection on `bits` bits."""
    shift = np.uint64(max(1, bits // 2))
    with np.errstate(over="ignore"):
        x = (x + np.uint64(key)) & mask
        for multiplier in (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB):
            x ^= x >> shift
            x = (x * np.uint64(multiplier)) & mask
        return x ^ (x >> shift)


def unique_key(seed: int, table: str, column: str) -> int:
    words = stream_key(seed, table, column, "unique")
    return (words[0] << 32 | words[1]) & ((1 << 62) - 1)
