"""A damaged column is made with one take (`_Written`): the values the defects put, the copies
inserted and what a copy changes give the same column as doing each in turn (a masked replace,
a take, a masked replace), for every kind of column, with nulls, and for a dictionary column
the clean rows keep their indices."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from fabula.defects.inject import _take, _Written


def replaced(column: pa.Array, positions: np.ndarray, values: pa.Array) -> pa.Array:
    """`column` with `values` at `positions`, one step at a time on the decoded values."""
    decoded = plain(column)
    mask = np.zeros(len(decoded), dtype=bool)
    mask[positions] = True
    return pc.replace_with_mask(decoded, pa.array(mask), values.cast(decoded.type))


def plain(values: pa.Array) -> pa.Array:
    return values.dictionary_decode() if pa.types.is_dictionary(values.type) else values


COLUMNS = {
    "text": pa.array(["a", None, "ccc", "dd", "e", "f", "gg", None]),
    "number": pa.array([1.5, 2.5, None, 4.5, 5.5, 6.5, None, 8.5]),
    "time": pa.array([1, 2, 3, None, 5, 6, 7, 8], pa.int64()).cast(pa.timestamp("s")),
    "category": pa.array(["open", "closed", None, "open", "pending", "open", "closed", "open"]).dictionary_encode(),
}
PUT = {  # two values to put on clean rows, and one a copy changes
    "text": (["X", None], ["Y"]),
    "number": ([-999.99, None], [7.25]),
    "time": ([100, None], [200]),
    "category": (["N/A", None], ["open "]),
}


@pytest.mark.parametrize("name", sorted(COLUMNS))
@pytest.mark.parametrize("order", [None, [0, 1, 1, 2, 3, 4, 5, 5, 6, 7], [0, 2, 3, 3, 4, 6, 7]])
def test_one_take_is_the_replace_the_take_and_the_replace(name, order):
    column = COLUMNS[name]
    plain_type = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    put, changed = PUT[name]
    if name == "time":
        put_values = pa.array(put, pa.int64()).cast(plain_type)
        changed_values = pa.array(changed, pa.int64()).cast(plain_type)
    else:
        put_values, changed_values = pa.array(put, plain_type), pa.array(changed, plain_type)
    positions = np.array([2, 5])
    written = _Written(column)
    written.put(positions, put_values)
    expected = replaced(column, positions, put_values)
    if order is not None:
        index = np.array(order)
        copy_row = np.array([int(np.flatnonzero(np.diff(index) == 0)[0]) + 1])  # the first copy
        assert plain(written.at(index[copy_row])).equals(expected.take(pa.array(index[copy_row])))
        written.put_written(copy_row, changed_values)
        expected = replaced(expected.take(pa.array(index)), copy_row, changed_values)
    made = written.finish(None if order is None else np.array(order))
    made.validate(full=True)
    assert made.type == column.type
    assert plain(made).equals(expected)
    if pa.types.is_dictionary(column.type):  # the clean rows' codes are kept; new values go last
        assert made.dictionary.slice(0, len(column.dictionary)).equals(column.dictionary)


def test_a_column_nothing_touched_is_the_clean_array_itself():
    column = COLUMNS["text"]
    assert _Written(column).finish(None) is column


@pytest.mark.parametrize("column", [
    pa.array(["a", None, "ccc", "dd", "e"]),
    pa.array([1.5, 2.5, None, 4.5, 5.5]),
    pa.array([True, False, True, None, False]),
    pa.array([1, 2, 3, 4, 5], pa.int64()).cast(pa.timestamp("s")),
])
def test_nulls_put_by_a_new_validity_bitmap_are_a_masked_replace(column):
    positions = np.array([0, 3])
    written = _Written(column)
    written.put(positions, pa.nulls(len(positions), column.type))
    made = written.finish(None)
    made.validate(full=True)
    assert made.buffers()[1:] == column.buffers()[1:]  # the same value buffers, a new bitmap
    assert made.equals(replaced(column, positions, pa.nulls(len(positions), column.type)))


@pytest.mark.parametrize("values", [
    pa.array([1, None, 3, 4, None, 6, 7, 8], pa.int8()),
    pa.array([1, 2, 3, 4, 5, 6, 7, 8], pa.int16()),
    pa.array([1.5, None, 3.5, 4.5, 5.5, None, 7.5, 8.5], pa.float32()),
    pa.array([1, 2, None, 4, 5, 6, 7, 8], pa.int64()).cast(pa.timestamp("us", tz="Europe/Paris")),
    pa.array([1, 2, 3, None, 5, 6, 7, 8], pa.int32()).cast(pa.date32()),
    pa.array(["a", None, "b", "a", None, "c", "b", "a"]).dictionary_encode(),
    pa.array(["a", None, "ccc", "dd", "e", "f", "gg", None]),   # Arrow's own take
    pa.array([True, None, False, True, False, True, None, False]),
])
@pytest.mark.parametrize("offset", [0, 3])
def test_the_numpy_gather_is_arrows_take(values, offset):
    values = values.slice(offset)  # a column cut from a longer one starts inside its buffers
    index = np.array([0, 1, 1, 2, len(values) - 1, 0, len(values) - 1])
    taken = _take(values, index)
    taken.validate(full=True)
    assert taken.equals(values.take(pa.array(index)))
