"""A damaged dictionary column is the same array, dictionary order included, whether its values
are replaced on the indices or by decoding, replacing and encoding again (the Parquet files, and
so the manifest's checksums, depend on the dictionary's order)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from fabula.defects.inject import _put


def encoded_again(column: pa.DictionaryArray, positions: np.ndarray, values: pa.Array) -> pa.Array:
    base = column.dictionary_decode()
    index = np.arange(len(base), dtype=np.int64)
    index[positions] = len(base) + np.arange(len(positions))
    return pa.concat_arrays([base, values.cast(base.type)]).take(pa.array(index)).cast(column.type)


@pytest.mark.parametrize("values", [
    ["closed", "open"],                 # values the dictionary has
    [None, None],                       # nulls
    ["N/A", "N/A"],                     # a new value, twice
    ["OPEN ", None],                    # a new value and a null
])
@pytest.mark.parametrize("positions", [[0, 5], [3, 7]])
def test_put_on_the_indices_is_the_same_array(values, positions):
    column = pa.array(["pending", "open", None, "open", "closed", "pending", "open", "closed"]).dictionary_encode()
    put = _put(column, np.array(positions), pa.array(values, pa.string()))
    again = encoded_again(column, np.array(positions), pa.array(values, pa.string()))
    assert put.type == column.type
    assert put.dictionary.equals(again.dictionary) and put.indices.equals(again.indices)


def test_a_value_no_row_keeps_leaves_the_dictionary():
    column = pa.array(["a", "b", "a", "c"]).dictionary_encode()
    put = _put(column, np.array([1]), pa.array(["a"]))
    assert put.dictionary.to_pylist() == ["a", "c"] and put.to_pylist() == ["a", "a", "a", "c"]


@pytest.mark.parametrize("column", [
    pa.array(["a", None, "ccc", "dd", "e"]),
    pa.array([1.5, 2.5, None, 4.5, 5.5]),
    pa.array([True, False, True, None, False]),
    pa.array([1, 2, 3, 4, 5], pa.int64()).cast(pa.timestamp("s")),
])
def test_nulls_put_by_a_new_validity_bitmap_are_a_masked_replace(column):
    import pyarrow.compute as pc

    positions = np.array([0, 3])
    mask = np.zeros(len(column), dtype=bool)
    mask[positions] = True
    put = _put(column, positions, pa.nulls(len(positions), column.type))
    put.validate(full=True)
    assert put.equals(pc.replace_with_mask(column, pa.array(mask), pa.nulls(len(positions), column.type)))
