"""The labels: one row per injected defect, in the `_defects` table beside the data, and the
way back from the written (dirty) rows to the clean ones.

    table     the table damaged
    column    the column damaged (null for a whole-row copy)
    kind      missing, outlier, negative, future, malformed, orphan, duplicate, late, before_parent,
              deleted
    form      the variant (null, empty, placeholder; email, case, …; exact, near, new_key; for an
              orphan left by a deleted parent row: deleted)
    key       the row's key as text, when the table has a key column
    row       the row's number in the written table (0-based, in file order); for a deleted row,
              where it was: the number of written rows before it
    original  the value before the damage, as text (for a copy: null, or what near/new_key changed;
              for a deleted row: the whole row, a JSON object of its values as text)

Values travel as text (Arrow's cast to string, which round-trips every type fabula writes:
shortest round-trip floats, ISO dates and times), so one table holds every column's originals.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fabula.spec.defects import DROP_KINDS, ROW_KINDS

LABEL_SCHEMA = pa.schema([
    pa.field("table", pa.string()), pa.field("column", pa.string()), pa.field("kind", pa.string()),
    pa.field("form", pa.string()), pa.field("key", pa.string()), pa.field("row", pa.int64()),
    pa.field("original", pa.string()),
])


def as_text(values: pa.Array) -> pa.Array:
    """Values as text, nulls kept."""
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    return values if pa.types.is_string(values.type) else pc.cast(values, pa.string())


def rows_as_json(rows: pa.RecordBatch) -> pa.Array:
    """Each row as a JSON object of its values as text (nulls as null), in column order."""
    names = rows.schema.names
    texts = [as_text(rows.column(name)).to_pylist() for name in names]
    return pa.array([json.dumps(dict(zip(names, values)), ensure_ascii=False, separators=(",", ":"))
                     for values in zip(*texts)] if names else [], pa.string())


def rows_from_json(texts: list[str], schema: pa.Schema) -> dict[str, pa.Array]:
    """The rows `rows_as_json` wrote, column by column, in `schema`'s types (dictionaries decoded)."""
    objects = [json.loads(text) for text in texts]
    columns = {}
    for field in schema:
        kind = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        columns[field.name] = pa.array([row.get(field.name) for row in objects], pa.string()).cast(kind)
    return columns


class LabelCollector:
    """Labels of blocks made on any thread, kept by (table, block) and put in order at the end."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pieces: dict[tuple[str, int], pa.Table] = {}

    def add(self, table: str, block: int, labels: pa.Table) -> None:
        if labels.num_rows:
            with self._lock:
                self._pieces[(table, block)] = labels

    def table(self) -> pa.Table:
        """Every label, by table name then row."""
        with self._lock:
            pieces = [self._pieces[key] for key in sorted(self._pieces)]
        return pa.concat_tables(pieces) if pieces else LABEL_SCHEMA.empty_table()


def labels_of(labels: pa.Table, table: str) -> pa.Table:
    return labels.filter(pc.equal(labels.column("table"), table))


def clean_batches(dirty: Iterable[pa.RecordBatch], labels: pa.Table,
                  schema: pa.Schema | None = None) -> Iterator[pa.RecordBatch]:
    """The clean rows behind a table's written rows: copies dropped, damaged values put back
    from their labels' originals, deleted rows put back where they were. `labels` are this
    table's, `dirty` its rows in file order (`schema` theirs, for deleted rows after the last)."""
    rows = labels.column("row").to_numpy(zero_copy_only=False)
    kinds = labels.column("kind").to_pylist()
    is_copy = np.array([kind in ROW_KINDS for kind in kinds], dtype=bool)
    is_deleted = np.array([kind in DROP_KINDS for kind in kinds], dtype=bool)
    order = np.argsort(rows, kind="stable")
    copies = np.sort(rows[is_copy])
    cells = [index for index in order if not is_copy[index] and not is_deleted[index]]
    cell_rows = rows[cells] if cells else np.zeros(0, dtype=np.int64)
    cell_columns = [labels.column("column")[index].as_py() for index in cells]
    cell_originals = labels.column("original").take(pa.array(cells, pa.int64())) if cells else pa.array([], pa.string())
    removed = [index for index in order if is_deleted[index]]  # by row, then in label (clean) order
    removed_rows = rows[removed] if removed else np.zeros(0, dtype=np.int64)
    removed_rows_text = labels.column("original").take(pa.array(removed, pa.int64())).to_pylist() if removed else []
    offset = 0
    for batch in dirty:
        schema = batch.schema
        n = batch.num_rows
        low, high = offset, offset + n
        arrays = {name: batch.column(name) for name in batch.schema.names}
        first, last = np.searchsorted(cell_rows, [low, high])
        by_column: dict[str, list[int]] = {}
        for index in range(first, last):
            by_column.setdefault(cell_columns[index], []).append(index)
        for column, members in by_column.items():
            if column not in arrays:
                continue
            positions = cell_rows[members] - low
            originals = cell_originals.take(pa.array(members, pa.int64()))
            arrays[column] = _put_back(arrays[column], positions, originals)
        keep = np.ones(n, dtype=bool)
        a, b = np.searchsorted(copies, [low, high])
        keep[copies[a:b] - low] = False
        a, b = np.searchsorted(removed_rows, [low, high])
        if b > a:  # deleted rows go back before the written row each label names
            yield _with_rows(batch.schema, arrays, keep, removed_rows[a:b] - low, removed_rows_text[a:b])
        else:
            restored = pa.RecordBatch.from_arrays([arrays[field.name] for field in batch.schema], schema=batch.schema)
            yield restored if keep.all() else restored.filter(pa.array(keep))
        offset = high
    rest = np.searchsorted(removed_rows, offset)
    if rest < len(removed_rows) and schema is not None:  # deleted after the last written row
        empty = {field.name: pa.array([], field.type) for field in schema}
        yield _with_rows(schema, empty, np.zeros(0, dtype=bool), removed_rows[rest:] - offset,
                         removed_rows_text[rest:])


def _with_rows(schema: pa.Schema, arrays: dict[str, pa.Array], keep: np.ndarray, before: np.ndarray,
               texts: list[str]) -> pa.RecordBatch:
    """The rows `keep` marks, with the rows `texts` (JSON) put before the row each of `before`
    names (several before one row keep their order)."""
    inserted = rows_from_json(texts, schema)
    n = len(keep)
    kept = np.flatnonzero(keep)
    slots = np.concatenate([2 * kept + 1, 2 * np.minimum(before, n)])
    index = np.concatenate([kept, n + np.arange(len(before), dtype=np.int64)])[np.argsort(slots, kind="stable")]
    merged = []
    for field in schema:
        column = arrays[field.name]
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        base = column.dictionary_decode() if pa.types.is_dictionary(column.type) else column
        values = pa.concat_arrays([base, inserted[field.name].cast(base.type)]).take(pa.array(index, pa.int64()))
        merged.append(values.cast(field.type) if values.type != field.type else values)
    return pa.RecordBatch.from_arrays(merged, schema=schema)


def _put_back(column: pa.Array, positions: np.ndarray, originals: pa.Array) -> pa.Array:
    if isinstance(originals, pa.ChunkedArray):
        originals = originals.combine_chunks()
    target = column.type
    base = column.dictionary_decode() if pa.types.is_dictionary(target) else column
    values = originals.cast(base.type) if originals.type != base.type else originals
    index = np.arange(len(base), dtype=np.int64)
    index[positions] = len(base) + np.arange(len(positions))
    merged = pa.concat_arrays([base, values]).take(pa.array(index))
    return merged.cast(target) if merged.type != target else merged
