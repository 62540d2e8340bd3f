"""Named random streams: the only source of randomness in fabula (see DESIGN, determinism).

A stream is addressed by (table, column, purpose, block) and derived from the root seed by
hashing those names with BLAKE2b — never Python's `hash()`, never seed arithmetic — so adding,
removing or reordering tables and columns never moves another column's values, and turning on
nulls never moves the values.
"""

from __future__ import annotations

import hashlib
from enum import Enum

import numpy as np


class Purpose(str, Enum):  # noqa: UP042 - StrEnum changes str(member), which `stream_key` hashes
    """What a stream is for; each purpose is its own stream."""

    VALUES = "values"
    NULLS = "nulls"
    POOL = "pool"


def stream_key(*names: object) -> tuple[int, ...]:
    """Four 32-bit words identifying a stream by its names.

    >>> stream_key("orders", "amount", "values", 0) == stream_key("orders", "amount", "values", 0)
    True
    >>> stream_key("orders", "amount", "values", 0) == stream_key("orders", "amount", "values", 1)
    False
    """
    text = "\x1f".join(str(name) for name in names)
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()
    return tuple(int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4))


def rng_for(seed: int, *names: object) -> np.random.Generator:
    """A generator for one named stream under a root seed (PCG64, named explicitly).

    >>> float(rng_for(42, "t", "c", "values", 0).random()) == float(rng_for(42, "t", "c", "values", 0).random())
    True
    """
    sequence = np.random.SeedSequence(entropy=seed, spawn_key=stream_key(*names))
    return np.random.Generator(np.random.PCG64(sequence))


def mix64(values: np.ndarray, key: int) -> np.ndarray:
    """A keyed bijection on uint64 (SplitMix64's finaliser): row ids → well-spread bits.

    Used where a value must be a pure function of the row id (UUIDs), not a draw.

    >>> a = mix64(np.arange(5, dtype=np.uint64), 7)
    >>> len(set(a.tolist()))
    5
    """
    with np.errstate(over="ignore"):
        x = values.astype(np.uint64) + np.uint64(key & 0xFFFFFFFFFFFFFFFF)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))
