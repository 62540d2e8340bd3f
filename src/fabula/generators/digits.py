"""Formatted ids straight into Arrow string buffers, with digit arithmetic.

`prefix + zero-padded number + suffix` is written byte by byte into one NumPy buffer (a
division by ten per digit position, for all rows at once) and handed to Arrow as the data and
offsets of a string array: no per-row strings, no cast/pad/join passes over Arrow arrays.
`parse_ids` is the inverse, used by validation to turn written keys back into row numbers.

Both handle only the plain case (numbers ≥ 0, ASCII digits) and return None otherwise, so
their callers keep one general path for everything else and the two always agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

_ZERO = ord("0")
_POWERS = 10 ** np.arange(1, 19, dtype=np.int64)  # 10 … 10**18
_STRING_LIMIT = 2**31 - 1  # offsets of a (not large_) string array are int32


def digit_counts(numbers: np.ndarray) -> np.ndarray:
    """How many decimal digits each number ≥ 0 has (0 has one).

    >>> digit_counts(np.array([0, 9, 10, 12345])).tolist()
    [1, 1, 2, 5]
    """
    return 1 + np.searchsorted(_POWERS, numbers, side="right")


def format_ids(numbers: np.ndarray, prefix: str, width: int, suffix: str) -> pa.Array | None:
    """`prefix` + the number zero-padded to `width` + `suffix`, as `f"{prefix}{n:0{width}d}{suffix}"`
    gives it; None when a number is negative (the caller's general path handles those).

    >>> format_ids(np.array([7, 12345]), "CUST-", 3, "").to_pylist()
    ['CUST-007', 'CUST-12345']
    """
    numbers = np.asarray(numbers, dtype=np.int64)
    n = len(numbers)
    if n == 0:
        return pa.array([], type=pa.string())
    if int(numbers.min()) < 0:
        return None
    head, tail = prefix.encode(), suffix.encode()
    smallest, largest = int(numbers.min()), int(numbers.max())
    shortest, longest = max(len(str(smallest)), width), max(len(str(largest)), width)
    if n * (len(head) + longest + len(tail)) > _STRING_LIMIT:
        return None
    if shortest == longest:  # the usual case: every id has the same length
        return _fixed(numbers, head, longest, tail, largest)
    digits = np.full(n, shortest, dtype=np.int32)
    for length in range(shortest, longest):  # one comparison per power of ten crossed
        digits += numbers >= 10**length
    return _varying(numbers, digits, head, tail)


def _fixed(numbers: np.ndarray, head: bytes, width: int, tail: bytes, largest: int) -> pa.Array:
    n, size = len(numbers), len(head) + width + len(tail)
    text = np.empty((n, size), dtype=np.uint8)
    if head:
        text[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
    if tail:
        text[:, size - len(tail):] = np.frombuffer(tail, dtype=np.uint8)
    # floor division by a constant is several times faster than np.divmod, in 32 bits when it fits
    rest = numbers.astype(np.uint32 if largest < 2**32 else np.uint64)
    ten: Any = rest.dtype.type(10)  # numpy's stubs type a dtype's scalar as `generic`, fit for no operator
    zero: Any = rest.dtype.type(_ZERO)
    for position in range(len(head) + width - 1, len(head) - 1, -1):
        quotient = rest // ten
        text[:, position] = rest - quotient * ten + zero
        rest = quotient
    offsets = np.arange(0, size * (n + 1), size, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text))


def _varying(numbers: np.ndarray, digits: np.ndarray, head: bytes, tail: bytes) -> pa.Array:
    """Ids of several lengths (the numbers cross a power of ten above the width): written as
    prefix, digits right-aligned at the longest length, suffix; then the padding zeros before
    shorter ids' digits are dropped in one pass (a row-major boolean selection keeps the order)."""
    n, longest = len(numbers), int(digits.max())
    size = len(head) + longest + len(tail)
    text = np.empty((n, size), dtype=np.uint8)
    if head:
        text[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
    if tail:
        text[:, size - len(tail):] = np.frombuffer(tail, dtype=np.uint8)
    rest = numbers.astype(np.uint32 if int(numbers.max()) < 2**32 else np.uint64)
    ten: Any = rest.dtype.type(10)  # numpy's stubs type a dtype's scalar as `generic`, fit for no operator
    zero: Any = rest.dtype.type(_ZERO)
    for position in range(len(head) + longest - 1, len(head) - 1, -1):
        quotient = rest // ten
        text[:, position] = rest - quotient * ten + zero
        rest = quotient
    skip = (longest - digits).astype(np.int32)  # padding columns each row drops
    keep = np.ones((n, size), dtype=bool)
    for column in range(int(skip.max())):  # only the first few digit columns can be padding
        keep[:, len(head) + column] = skip <= column
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(size - skip, out=offsets[1:])
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text[keep]))


def parse_ids(values: pa.Array, prefix: str, width: int, suffix: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(number, canonical) per value of a string array without nulls: the number between the
    prefix and the suffix, and whether the value is exactly what `format_ids` writes for it.
    None unless every value has the prefix and suffix around 1 to 18 ASCII digits (the caller's
    general path then decides, row by row).

    >>> numbers, canonical = parse_ids(pa.array(["C-0042", "C-12345", "C-00123"]), "C-", 4, "")
    >>> numbers.tolist(), canonical.tolist()
    ([42, 12345, 123], [True, True, False])
    """
    if values.type != pa.string() or values.null_count or not len(values):
        return None
    head, tail = prefix.encode(), suffix.encode()
    _, offsets_buffer, data_buffer = values.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[values.offset: values.offset + len(values) + 1]
    if data_buffer is None:
        return None
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    starts, ends = offsets[:-1].astype(np.int64), offsets[1:].astype(np.int64)
    digits = ends - starts - len(head) - len(tail)
    low, high = int(digits.min()), int(digits.max())
    if low < 1 or high > 18:
        return None
    if low == high:  # one length: the values are the rows of a byte matrix, no gathers
        return _parse_fixed(data[offsets[0]: offsets[-1]].reshape(len(values), -1), head, low, tail, width)
    for index, byte in enumerate(head):
        if not (data[starts + index] == byte).all():
            return None
    for index, byte in enumerate(tail):
        if not (data[ends - len(tail) + index] == byte).all():
            return None
    last = ends - len(tail) - 1
    numbers = np.zeros(len(values), dtype=np.int64)
    scale = 1
    for place in range(high):
        rows = None if place < low else np.flatnonzero(digits > place)
        # bytes minus '0' in uint8: anything that is not a digit wraps to more than 9
        digit = data[last - place if rows is None else last[rows] - place] - np.uint8(_ZERO)
        if (digit > 9).any():
            return None
        if rows is None:
            numbers += digit * np.int64(scale)
        else:
            numbers[rows] += digit * np.int64(scale)
        scale *= 10
    leading = data[starts + len(head)]  # the first digit: zero only as padding up to the width
    canonical = (digits == width) | ((digits > width) & ((leading != _ZERO) | (digits == 1)))
    return numbers, canonical


def _parse_fixed(text: np.ndarray, head: bytes, digits: int, tail: bytes, width: int):
    if head and not (text[:, : len(head)] == np.frombuffer(head, dtype=np.uint8)).all():
        return None
    if tail and not (text[:, len(head) + digits:] == np.frombuffer(tail, dtype=np.uint8)).all():
        return None
    numbers = np.zeros(len(text), dtype=np.int64)
    for column in range(len(head), len(head) + digits):
        digit = text[:, column] - np.uint8(_ZERO)
        if (digit > 9).any():
            return None
        numbers *= 10
        numbers += digit
    if digits == width:
        return numbers, np.ones(len(text), dtype=bool)
    canonical = (text[:, len(head)] != _ZERO) | (digits == 1) if digits > width else np.zeros(len(text), dtype=bool)
    return numbers, canonical
