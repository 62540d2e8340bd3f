"""Strings composed from pieces, written once into an Arrow string buffer.

Names, emails and domains are made of pieces: entries of small lists picked per row (given
names, last names, suffixes, top-level domains) and literal text ("@", ". "). Joining them
with Arrow copies every intermediate string, and choosing a shape per row (every shape joined
whole, then `if_else`) copies them once more per shape: that was most of a `customers` block.

A `Text` keeps each row's pieces as (where its bytes are, how many) until `to_arrow`, which
writes each row's bytes exactly once with one gather. The strings are the ones
`binary_join_element_wise(..., null_handling="skip")` gives: a null piece adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

_EMPTY = np.zeros(0, dtype=np.uint8)


def _bytes(array: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(data, start, length) of each entry of a string array, zero-copy; a null has length 0."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.type != pa.string():
        array = array.cast(pa.string())
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[array.offset: array.offset + len(array) + 1] \
        if offsets_buffer is not None else np.zeros(len(array) + 1, dtype=np.int32)
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else _EMPTY
    starts = offsets[:-1].astype(np.int32)
    lengths = np.diff(offsets)
    if array.null_count:
        lengths[~np.asarray(array.is_valid())] = 0
    return data, starts, lengths


@dataclass(frozen=True)
class Text:
    """n rows of text, each a sequence of pieces: piece j of row i is `lengths[j][i]` bytes from
    `starts[j][i]` of the concatenated `chunks` (arrays of one value stand for every row)."""

    n: int
    chunks: tuple[np.ndarray, ...]
    starts: tuple[np.ndarray, ...]
    lengths: tuple[np.ndarray, ...]

    @classmethod
    def literal(cls, text: str, n: int) -> Text:
        data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
        return cls(n, (data,), (np.zeros(1, dtype=np.int32),), (np.full(1, len(data), dtype=np.int32),))

    @classmethod
    def pick(cls, pool: pa.Array, indices: np.ndarray) -> Text:
        """Entry `indices[i]` of `pool` (a string array) on row i."""
        data, starts, lengths = _bytes(pool)
        return cls(len(indices), (data,), (starts[indices],), (lengths[indices],))

    @classmethod
    def of(cls, array: pa.Array) -> Text:
        """A string array's values, row for row."""
        data, starts, lengths = _bytes(array)
        return cls(len(array), (data,), (starts,), (lengths,))

    @property
    def size(self) -> int:
        return sum(len(chunk) for chunk in self.chunks)

    def shifted(self, by: int) -> tuple[np.ndarray, ...]:
        """The pieces' starts when this text's chunks come after `by` bytes of others."""
        return self.starts if not by else tuple(start + np.int32(by) for start in self.starts)

    def only(self, mask: np.ndarray) -> Text:
        """The rows where `mask` is false left empty (as a null piece in a join)."""
        return Text(self.n, self.chunks, self.starts,
                    tuple(np.where(mask, length, 0) for length in self.lengths))

    def to_arrow(self) -> pa.Array:
        """The rows as a string array: each row's pieces in order, its bytes written once."""
        n, k = self.n, len(self.starts)
        source = np.concatenate(self.chunks) if len(self.chunks) > 1 else self.chunks[0]
        grid_lengths = np.empty((n, k), dtype=np.int32)  # row i, piece j
        grid_starts = np.empty((n, k), dtype=np.int32)
        for slot in range(k):
            grid_lengths[:, slot] = self.lengths[slot]
            grid_starts[:, slot] = self.starts[slot]
        total = int(grid_lengths.sum(dtype=np.int64))
        if total >= 2**31 or len(source) >= 2**31:
            raise ValueError("a block's text is over 2 GiB: use smaller blocks")
        row_lengths = np.zeros(n, dtype=np.int32)
        for length in self.lengths:  # k additions, faster than a sum along a short axis
            row_lengths += length
        offsets = np.zeros(n + 1, dtype=np.int32)
        np.cumsum(row_lengths, out=offsets[1:])
        present = grid_lengths.ravel() > 0  # row-major: each row's pieces in order, rows in order
        lengths, starts = grid_lengths.ravel()[present], grid_starts.ravel()[present]
        # each output byte's source position: consecutive within a piece, a jump between pieces
        steps = np.ones(total, dtype=np.int32)
        if len(lengths):
            begins = np.zeros(len(lengths), dtype=np.int32)
            np.cumsum(lengths[:-1], out=begins[1:])
            jumps = starts.copy()
            jumps[1:] -= starts[:-1] + lengths[:-1] - 1
            steps[begins] = jumps
        # np.take, not fancy indexing: about twice as fast with int32 positions (measured, numpy 2.4)
        data = np.take(source, np.cumsum(steps, out=steps)) if total else _EMPTY
        return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def join(*parts: Text | str) -> Text:
    """Row-wise concatenation (strings are literal text on every row)."""
    texts = [part for part in parts if isinstance(part, Text)]
    n = texts[0].n
    chunks: list[np.ndarray] = []
    starts: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    size = 0
    for part in parts:
        text = Text.literal(part, n) if isinstance(part, str) else part
        chunks.extend(text.chunks)
        starts.extend(text.shifted(size))
        lengths.extend(text.lengths)
        size += text.size
    return Text(n, tuple(chunks), tuple(starts), tuple(lengths))


def choose(chosen: np.ndarray, shapes: list[Text]) -> Text:
    """Row i from `shapes[chosen[i]]` (shapes with fewer pieces end early)."""
    n = len(chosen)
    if len(shapes) == 1:
        return shapes[0]
    chunks: list[np.ndarray] = []
    shifted: list[tuple[np.ndarray, ...]] = []
    size = 0
    for shape in shapes:
        chunks.extend(shape.chunks)
        shifted.append(shape.shifted(size))
        size += shape.size
    flat = chosen * n + np.arange(n)  # row i's entry in a (shape, row) table, flattened
    starts: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    for slot in range(max(len(shape.starts) for shape in shapes)):
        starts.append(_chosen_piece([piece[slot] if slot < len(piece) else None for piece in shifted], chosen, flat))
        lengths.append(_chosen_piece([shape.lengths[slot] if slot < len(shape.lengths) else None
                                      for shape in shapes], chosen, flat))
    return Text(n, tuple(chunks), tuple(starts), tuple(lengths))


def _chosen_piece(pieces: list[np.ndarray | None], chosen: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """Row i's value from `pieces[chosen[i]]` (None: a shape without this piece, 0 bytes). Where
    every shape's value is one for all rows (literal text), a lookup in a table of a few values."""
    if all(piece is None or len(piece) == 1 for piece in pieces):
        return np.array([0 if piece is None else piece[0] for piece in pieces], dtype=np.int32)[chosen]
    n = len(chosen)
    table = np.empty((len(pieces), n), dtype=np.int32)
    for index, piece in enumerate(pieces):
        table[index] = 0 if piece is None else piece
    return table.ravel()[flat]
