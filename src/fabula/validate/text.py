"""Arrow strings as NumPy fixed-width bytes, for checks that compare two strings row by row.

Arrow's compute functions take one pattern for a whole column; a check such as "this row's email
contains this row's last name" needs a pattern per row. NumPy's string functions take one per
row, but `to_numpy` on an Arrow string column builds a Python object per value first.
`fixed_width` pads every value with NUL bytes to the widest one (`ascii_rpad` counts bytes), so
the padded column's data buffer is a rows × width matrix: a NumPy `S` array without a copy per
value. NumPy's `S` strings ignore trailing NULs, so a value reads back as it was (unless it ended
in NUL bytes itself: callers that care compare with the real lengths). Byte positions are what
UTF-8 text needs when the bytes looked for are ASCII: a byte of a multi-byte character is never
an ASCII byte.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

WIDEST = 256
"""Longer values (never written by fabula; possible in a changed file) are for the caller to
handle one at a time, so that one long value cannot make an array of rows × its length."""


def byte_lengths(array: pa.Array) -> np.ndarray:
    """Each value's length in bytes (0 for a null)."""
    return pc.binary_length(array).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)


def fixed_width(array: pa.Array, lengths: np.ndarray | None = None) -> np.ndarray:
    """The bytes of each value (nulls as empty) as NumPy `S` strings of the widest value's width,
    at most WIDEST (`lengths`: the values' byte lengths, when known).

    >>> fixed_width(pa.array(["grö", "", None, "ab"])).tolist()
    [b'gr\\xc3\\xb6', b'', b'', b'ab']
    """
    if array.null_count:
        array = array.fill_null("")
    if lengths is None:
        widest = max(int(pc.max(pc.binary_length(array)).as_py() or 0), 1)
    else:
        widest = max(int(lengths.max()) if len(lengths) else 0, 1)
    if widest > WIDEST:
        raise ValueError(f"a value of {widest} bytes is longer than {WIDEST}")
    padded = pc.ascii_rpad(array, width=widest, padding="\0")  # pads bytes, even of non-ASCII text
    _, offsets, data = padded.buffers()
    kind = np.int64 if pa.types.is_large_string(padded.type) else np.int32
    offsets = np.frombuffer(offsets, dtype=kind)
    first, last = int(offsets[padded.offset]), int(offsets[padded.offset + len(padded)])
    if last - first != widest * len(padded):  # not one row every `widest` bytes: never seen, but be sure
        return np.array([value.encode() for value in array.to_pylist()], dtype=f"S{widest}")
    return np.frombuffer(data, dtype=f"S{widest}", count=len(padded), offset=first)


def lower_ascii(values: np.ndarray) -> np.ndarray:
    """`S` strings with A-Z lower-cased (other bytes as they are).

    >>> lower_ascii(np.array([b"Ab@EXAMPLE.com"])).tolist()
    [b'ab@example.com']
    """
    codes = values.view(np.uint8)
    upper = (codes >= 65) & (codes <= 90)
    return (codes + upper * np.uint8(32)).view(values.dtype)
