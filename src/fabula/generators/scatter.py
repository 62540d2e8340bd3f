"""Fast paths of `conditional.scatter`: the cases of a conditional column put back in row
order with one NumPy assignment per case, instead of concatenating the cases and taking.

Strings stay dictionary codes from the draw to the write: each case's codes are mapped onto one
dictionary, scattered, and the dictionary ordered by first appearance — exactly the array that
`pc.dictionary_encode` of the decoded values gives, without decoding a row. Both return None
where they do not apply and `scatter` takes its general path.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_MANY_LEVELS = 1024  # past this, the general path (these paths loop over levels in Python)


def scatter_codes(parts: list[tuple[np.ndarray, pa.Array]], n: int) -> pa.DictionaryArray | None:
    """Dictionary-encoded string cases as one dictionary array (None: a case is not one)."""
    position: dict[str, int] = {}
    levels: list[str] = []
    codes = np.full(n, -1, dtype=np.int32)  # -1: null (a null value, or a row no case covers)
    for indices, part in parts:
        if not isinstance(part, pa.DictionaryArray) or part.dictionary.type != pa.string() \
                or part.dictionary.null_count or len(part.dictionary) > _MANY_LEVELS:
            return None
        mapping = np.empty(len(part.dictionary) + 1, dtype=np.int32)
        for code, value in enumerate(part.dictionary.to_pylist()):
            if value not in position:
                position[value] = len(levels)
                levels.append(value)
            mapping[code] = position[value]
        mapping[-1] = -1
        local = part.indices
        if local.null_count:
            local = local.fill_null(len(part.dictionary))
        codes[indices] = mapping[local.to_numpy(zero_copy_only=False)]
    valid = codes >= 0
    # order the dictionary by first appearance, as dictionary_encode does
    first = [(int(np.argmax(codes == code)), code) for code in range(len(levels)) if (codes == code).any()] \
        if len(levels) <= 16 else _first_appearances(codes, valid)
    first.sort()
    renumber = np.full(len(levels) + 1, -1, dtype=np.int32)
    for new, (_, code) in enumerate(first):
        renumber[code] = new
    dictionary = pa.array([levels[code] for _, code in first], type=pa.string())
    indices = pa.array(renumber[codes], type=pa.int32(), mask=None if valid.all() else ~valid)
    return pa.DictionaryArray.from_arrays(indices, dictionary)


def _first_appearances(codes: np.ndarray, valid: np.ndarray) -> list[tuple[int, int]]:
    present, where = np.unique(codes[valid], return_index=True)
    rows = np.flatnonzero(valid)[where]
    return list(zip(rows.tolist(), present.tolist()))


def scatter_numbers(parts: list[tuple[np.ndarray, pa.Array]], n: int, arrow_type: pa.DataType) -> pa.Array | None:
    """Numeric, date or timestamp cases as one array of `arrow_type` (None: a case is not one)."""
    storage = {32: pa.int32(), 64: pa.int64()}[arrow_type.bit_width] \
        if pa.types.is_date32(arrow_type) or pa.types.is_timestamp(arrow_type) else arrow_type
    values = np.zeros(n, dtype=pa.array([], type=storage).to_numpy().dtype)  # (to_pandas_dtype imports pandas)
    valid = np.zeros(n, dtype=bool)
    for indices, part in parts:
        if isinstance(part, pa.DictionaryArray):
            return None
        part = part.cast(arrow_type) if part.type != arrow_type else part
        if storage != arrow_type:
            part = part.view(storage)
        if part.null_count:
            valid[indices] = np.asarray(part.is_valid())
            part = part.fill_null(0)
        else:
            valid[indices] = True
        values[indices] = part.to_numpy(zero_copy_only=False)
    array = pa.array(values, type=storage, mask=None if valid.all() else ~valid)
    return array.view(arrow_type) if storage != arrow_type else array
