"""Keys back to row numbers: fabula's `id` and `sequence` keys are functions of the row number,
so a written key (or a reference to one) tells which row it belongs to — without a join and
without holding the parent's keys."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fabula.generators.digits import parse_ids
from fabula.spec.columns import IdColumn, SequenceColumn


def reference_positions(view, column: str, key: IdColumn | SequenceColumn, rows: int):
    """(present, row numbers, valid) of a block's reference column: which rows hold a value, and
    for those the parent row and whether it is one. Computed once per block and column."""
    def compute():
        if view.generated:  # the engine's own block: the keys were made from these row numbers
            made = _made_from(view, column, rows)
            if made is not None:
                return made
        values = view.batch.column(column)
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        present = np.asarray(values.is_valid()) if values.null_count else np.ones(len(values), dtype=bool)
        positions, valid = key_positions(values.drop_null() if values.null_count else values, key, rows)
        return present, positions, valid

    return view.shared(("reference", column), compute)


def _made_from(view, column: str, rows: int):
    """(present, row numbers, valid) from the hidden parent-row column a generated block's
    reference keys were formatted from (its nulls are the reference's nulls): the same answer
    as parsing the keys back, without parsing them. None if the plan has no such column."""
    from fabula.generators.relations import row_column

    numbers = view.column(row_column(column))
    if numbers is None:
        return None
    if isinstance(numbers, pa.ChunkedArray):
        numbers = numbers.combine_chunks()
    present = np.asarray(numbers.is_valid()) if numbers.null_count else np.ones(len(numbers), dtype=bool)
    positions = numbers.drop_null().to_numpy(zero_copy_only=False).astype(np.int64, copy=False) \
        if numbers.null_count else numbers.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    if not len(positions) or (positions.min() >= 0 and positions.max() < rows):  # as made: two passes
        return present, positions, np.ones(len(positions), dtype=bool)
    return present, positions, (positions >= 0) & (positions < rows)


def key_positions(values: pa.Array, key: IdColumn | SequenceColumn, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(row number, valid) for each non-null key: valid when the value is exactly the key the
    column writes for a row 0..rows-1.

    >>> rows, valid = key_positions(pa.array(["C-0001", "C-1", "C-0500", "X-0002"]), IdColumn(format="C-{:04d}"), 100)
    >>> rows[valid].tolist(), valid.tolist()
    ([1], [True, False, False, False])
    """
    if isinstance(key, IdColumn):
        return _id_positions(values, key, rows)
    numbers = values.cast(pa.int64()).to_numpy(zero_copy_only=False)
    offset = numbers - key.start
    position = offset // key.step
    return position, (position * key.step == offset) & (position >= 0) & (position < rows)


def _id_positions(values: pa.Array, key: IdColumn, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """The prefix and suffix, then the number zero-padded to the width (and never otherwise)."""
    prefix, width, suffix = key.parts
    if not len(values):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    text = values.cast(pa.string())
    parsed = parse_ids(text, prefix, width, suffix)  # digit arithmetic over the buffers, when every value is framed
    if parsed is not None:
        numbers, canonical = parsed
        position = numbers - key.start
        return position, canonical & (position >= 0) & (position < rows)
    framed = np.ones(len(text), dtype=bool)
    if prefix:
        framed &= pc.starts_with(text, prefix).to_numpy(zero_copy_only=False)
    if suffix:
        framed &= pc.ends_with(text, suffix).to_numpy(zero_copy_only=False)
    digits = pc.utf8_slice_codeunits(text, len(prefix), -len(suffix) if suffix else 2**31 - 1)
    lengths = pc.utf8_length(digits).to_numpy(zero_copy_only=False)
    framed &= pc.utf8_is_digit(digits).to_numpy(zero_copy_only=False) & (lengths >= 1) & (lengths <= 18)
    if not framed.all():
        digits = pc.if_else(pa.array(framed), digits, "0")
    numbers = pc.cast(digits, pa.int64()).to_numpy()
    shortest = np.floor(np.log10(np.maximum(numbers, 1))).astype(np.int64) + 1  # digits of the number itself
    canonical = lengths == np.maximum(shortest, width)  # padded to the width, no extra zeros
    position = numbers - key.start
    return position, framed & canonical & (position >= 0) & (position < rows)
