"""The UTF-8 bytes of an Arrow string column, read in place, for checks that compare two strings
row by row.

Arrow's compute functions take one pattern for a whole column; a check such as "this row's email
contains this row's last name" needs a pattern per row. NumPy's string functions take one per
row, but converting an Arrow column with `to_numpy` builds a Python object per value first.
`Utf8Rows` reads the column's offsets and data buffers instead: a byte is found in every row
with one pass over the data, and the part of each row a check needs is copied into a NumPy `S`
array of just that width. Byte positions are what UTF-8 text needs when the bytes looked for are
ASCII: a byte of a multi-byte character is never an ASCII byte.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import pyarrow as pa

WIDEST = 256
"""Cuts longer than this (never written by fabula; possible in a changed file) are copied one row
at a time, so one long value cannot make an array of rows × its length."""


_LOW_BYTES = np.array([(1 << 8 * kept) - 1 for kept in range(9)], dtype=np.uint64)
"""A mask keeping the low 0..8 bytes of a little-endian 64-bit word."""


class Utf8Rows:
    """The bytes of each row of a string array without nulls.

    >>> rows = Utf8Rows(pa.array(["jan.gröt@x.de", "ab", "@c"]))
    >>> rows.lengths.tolist(), rows.find(ord("@")).tolist()
    ([14, 2, 2], [9, -1, 0])
    >>> [(which, cut.tolist()) for which, cut in rows.cut(0, rows.lengths.clip(max=4))]
    [(slice(None, None, None), [b'jan.', b'ab', b'@c'])]
    """

    def __init__(self, array: pa.Array):
        if not pa.types.is_string(array.type) and not pa.types.is_large_string(array.type):
            array = array.cast(pa.large_string())
        _, offsets, data = array.buffers()
        kind = np.int64 if pa.types.is_large_string(array.type) else np.int32
        self.offsets = np.frombuffer(offsets, dtype=kind)[array.offset:array.offset + len(array) + 1].astype(np.int64)
        data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
        self.data = data
        self.starts = self.offsets[:-1]
        self.lengths = np.diff(self.offsets)
        self._words: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.lengths)

    def find(self, byte: int, *, last: bool = False) -> np.ndarray:
        """Where the first (or last) `byte` is in each row, -1 where it is not."""
        found = np.flatnonzero(self.data == byte)
        if last:
            index = np.searchsorted(found, self.offsets[1:], side="left") - 1
            position = found[np.maximum(index, 0)] if len(found) else np.zeros(len(self), dtype=np.int64)
            inside = (index >= 0) & (position >= self.starts)
        else:
            index = np.searchsorted(found, self.starts, side="left")
            position = found[np.minimum(index, len(found) - 1)] if len(found) else np.zeros(len(self), dtype=np.int64)
            inside = (index < len(found)) & (position < self.offsets[1:])
        return np.where(inside, position - self.starts, -1)

    def cut(self, start, length) -> Iterator[tuple[np.ndarray | slice, np.ndarray]]:
        """(which rows, their bytes from `start` for `length` bytes as `S` strings), clipped to
        each row; normally one piece, `slice(None)` and every row."""
        start = np.minimum(np.maximum(np.asarray(start, dtype=np.int64), 0), self.lengths)
        length = np.minimum(np.maximum(np.asarray(length, dtype=np.int64), 0), self.lengths - start)
        first = self.starts + start
        long = length > WIDEST
        if not long.any():
            yield slice(None), self._copy(first, length)
            return
        short = np.flatnonzero(~long)
        if len(short):
            yield short, self._copy(first[short], length[short])
        for row in np.flatnonzero(long):
            value = self.data[first[row]:first[row] + length[row]].tobytes()
            yield np.array([row]), np.array([value], dtype=f"S{len(value)}")

    def prefix(self, start, width: int) -> np.ndarray:
        """Up to `width` (at most WIDEST) bytes of each row from `start`, as `S` strings."""
        assert width <= WIDEST
        ((_, values),) = self.cut(start, width)
        return values

    def _copy(self, first: np.ndarray, length: np.ndarray) -> np.ndarray:
        """`length` bytes from each `first`, NUL-padded to a multiple of 8: read 8 bytes at a time
        as unaligned little-endian integers (one gather per 8 bytes of width, not per byte), the
        bytes past each row's length masked off."""
        chunks = max(-(-int(length.max()) // 8) if len(length) else 0, 1)
        if self._words is None:  # room for a read of WIDEST + 8 bytes at the very end
            padded = np.concatenate([self.data, np.zeros(WIDEST + 8, dtype=np.uint8)])
            self._words = np.ndarray((len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))
        matrix = np.empty((len(length), chunks), dtype="<u8")
        for chunk in range(chunks):
            kept = np.minimum(np.maximum(length - 8 * chunk, 0), 8)
            matrix[:, chunk] = self._words[first + 8 * chunk] & _LOW_BYTES[kept]
        return matrix.view(f"S{8 * chunks}").ravel()


def lower_ascii(values: np.ndarray) -> np.ndarray:
    """`S` strings with A-Z lower-cased (other bytes as they are)."""
    codes = values.view(np.uint8)
    return np.where((codes >= 65) & (codes <= 90), codes | 0x20, codes).astype(np.uint8).view(values.dtype)
