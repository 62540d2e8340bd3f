"""Injection: a clean block in, the dirty block and its labels out — a pure function of (plan,
table, block, clean block).

Each defect draws from its own stream, named ("defects" and its table, column, kind, form) and
the block: first how many rows it damages (Binomial(rows, rate): the rate is exact in
expectation), then which. Nothing else is drawn, so turning defects on moves no clean value,
and every row no defect touched is written byte for byte as the clean spec writes it.

Value defects damage rows whose value is not null and that no earlier defect of the same column
damaged (one label per cell, so the original is always the clean value). Duplicates then copy
whole rows (as damaged) and put each copy right after its original.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fabula.defects.batches import beyond_keys
from fabula.defects.compile import Defect, TableDefects, is_text, value_type
from fabula.defects.deletion import Deletion
from fabula.defects.follows import followed_times, moved_before
from fabula.defects.labels import LABEL_SCHEMA, as_text, rows_as_json
from fabula.generators.relations import row_column
from fabula.plan.model import Plan
from fabula.spec.defects import DELETED_FORM

DEFAULT_DAYS = {"late": 7.0, "future": 365.0, "before_parent": 1.0}


def inject_block(plan: Plan, defects: TableDefects, block: int,
                 clean: pa.RecordBatch) -> tuple[pa.RecordBatch, pa.Table]:
    """The block as written (damaged, with duplicates, without deleted rows) and one label per
    defect in it."""
    table = defects.table
    start, n = table.block_span(block)
    deleted = defects.deleted_in(block)
    names = clean.schema.names
    assembled = {name: _Written(clean.column(name)) for name in names}
    cells: list[tuple[Defect, np.ndarray, pa.Array]] = []  # (defect, positions, original values)
    taken: dict[str, np.ndarray] = {}  # column → the cells still free: valid, undamaged, not deleted
    for defect in defects.defects:
        if defect.spec.adds_rows or defect.spec.removes_rows:
            continue
        assert defect.column is not None, "the spec requires the column a cell defect damages"
        column = clean.column(defect.column)  # a cell is damaged once: its original is the clean value
        if defect.column not in taken:
            taken[defect.column] = _free(column, deleted)
        free = taken[defect.column]
        rng = defect.rng(plan.seed, block)
        count = int(rng.binomial(n, defect.spec.rate))
        followed = None
        if defect.follows is not None:  # before_parent: only rows that follow a time can precede it
            followed = followed_times(plan, table, block, clean, defect.follows)
            candidates = np.flatnonzero(free & np.asarray(followed.is_valid(), dtype=bool))
        else:
            candidates = np.flatnonzero(free)
        chosen = np.sort(rng.choice(candidates, size=min(count, len(candidates)), replace=False))
        original = column.take(pa.array(chosen, pa.int64()))
        if followed is not None:
            followed = followed.take(pa.array(chosen, pa.int64()))
        damaged, kept = _damage(plan, defects, defect, original, rng, start + chosen, followed)
        chosen, original, damaged = chosen[kept], original.filter(pa.array(kept)), damaged.filter(pa.array(kept))
        if len(chosen):
            assembled[defect.column].put(chosen, damaged)
            free[chosen] = False
            cells.append((defect, chosen, original))
    order, dirty_of, copies = _with_copies(plan, defects, block, n, deleted)
    moved = bool(copies) or (deleted is not None and bool(deleted.any()))  # as many copies as deletions keep the length
    first_written = defects.first_written(block)  # written row of the block's first dirty row
    written = first_written + np.arange(len(order), dtype=np.int64)
    copied_originals = _change_copies(plan, defects, assembled, order, copies, written)
    dirty = pa.RecordBatch.from_arrays([assembled[name].finish(order if moved else None) for name in names],
                                       schema=clean.schema)
    keys = as_text(dirty.column(defects.key)) if defects.key else None
    labels = [_cell_labels(defects, defect, *_with_copied_cells(defect, dirty_of[chosen], original, order, copies),
                           written, keys)
              for defect, chosen, original in cells]
    if deleted is not None and deleted.any():
        labels.append(_deleted_labels(defects, clean, np.flatnonzero(deleted), first_written + dirty_of))
    for column, deletion in defects.deleted_parents:
        labels.append(_orphans_of_deleted(plan, defects, block, dirty, order, taken.get(column), copies, column,
                                          deletion, written, keys))
    labels += [_Labels(defect.column, defect.kind, defect.form,
                       keys.take(pa.array(rows, pa.int64())) if keys is not None else None, written[rows], original)
               for (defect, rows), original in zip(copies, copied_originals)]
    return dirty, _label_table(table.name, labels)


def written_order(plan: Plan, defects: TableDefects, block: int) -> np.ndarray:
    """The clean position (in the block) of each row the block writes, in written order: a copy
    repeats its original's, a deleted row has none — what `inject_block` draws, without making
    the block, so a stream can tell which written rows a slice of clean rows became."""
    _, n = defects.table.block_span(block)
    return _with_copies(plan, defects, block, n, defects.deleted_in(block))[0]


def _with_copied_cells(defect: Defect, positions: np.ndarray, original: pa.Array, order: np.ndarray,
                       copies: list) -> tuple[np.ndarray, pa.Array]:
    """The dirty rows of a defect's cells and their originals, with the copies of those rows
    added: a copy carries its original's damage, so it carries its label too (but for the
    column a near copy changes, which holds another value)."""
    if not copies:
        return positions, original
    rows = np.concatenate([rows for copy, rows in copies
                           if not (copy.form == "near" and copy.column == defect.column)] or [np.zeros(0, np.int64)])
    clean = order[rows]
    chosen = order[positions]  # clean positions of the damaged cells, in order
    at = np.searchsorted(chosen, clean)
    hit = (at < len(chosen)) & (chosen[np.minimum(at, len(chosen) - 1)] == clean) if len(chosen) else \
        np.zeros(len(rows), dtype=bool)
    if not hit.any():
        return positions, original
    every = np.concatenate([positions, rows[hit]])
    originals = pa.concat_arrays([original, original.take(pa.array(at[hit], pa.int64()))])
    sort = np.argsort(every, kind="stable")
    return every[sort], originals.take(pa.array(sort, pa.int64()))


def _free(column: pa.Array, deleted: np.ndarray | None) -> np.ndarray:
    """The cells a value defect may choose: not null, and not in a deleted row."""
    free = np.asarray(column.is_valid(), dtype=bool).copy()
    if deleted is not None:
        free &= ~deleted
    return free


def _deleted_labels(defects: TableDefects, clean: pa.RecordBatch, positions: np.ndarray,
                    written_at: np.ndarray) -> _Labels:
    """One label per deleted row: its key, where it was (the number of written rows before it)
    and the whole row as a JSON object of texts, from which validation puts it back."""
    rows = clean.take(pa.array(positions, pa.int64()))
    assert defects.key is not None  # loading refuses `deleted` on a table without a key column
    return _Labels(None, "deleted", None, as_text(rows.column(defects.key)), written_at[positions],
                   rows_as_json(rows))


def _orphans_of_deleted(plan: Plan, defects: TableDefects, block: int, dirty: pa.RecordBatch, order: np.ndarray,
                        free: np.ndarray | None, copies: list, column: str, deletion: Deletion,
                        written: np.ndarray, keys: pa.Array | None) -> _Labels:
    """The written rows whose reference `column` names a deleted parent row, labelled orphans
    (form deleted; the value is unchanged, so `original` is the value itself). A cell another
    defect damaged holds another value and keeps that label only; a copy of a row is labelled too
    (it points at the same parent), except a near copy that changed this very column."""
    hidden = row_column(column)
    parent_rows = plan.columns(defects.table, block, [hidden])[hidden]
    hit = np.asarray(parent_rows.is_valid(), dtype=bool)
    hit &= deletion.deleted(pc.fill_null(parent_rows, 0).to_numpy(zero_copy_only=False))
    if free is not None:
        hit &= free
    on_dirty = hit[order]
    for defect, rows in copies:
        if defect.form == "near" and defect.column == column:
            on_dirty[rows] = False
    positions = np.flatnonzero(on_dirty)
    taken = pa.array(positions, pa.int64())
    return _Labels(column, "orphan", DELETED_FORM, keys.take(taken) if keys is not None else None,
                   written[positions], as_text(dirty.column(column).take(taken)))


def empty_labels() -> pa.Table:
    return LABEL_SCHEMA.empty_table()


@dataclass(frozen=True)
class _Labels:
    """Labels of one kind in a block: the same column, kind and form on each, and each row's
    key (None: the table has no key), written row number and original text."""

    column: str | None
    kind: str
    form: str | None
    keys: pa.Array | None
    rows: np.ndarray
    original: pa.Array

    def sort_key(self) -> tuple:
        """Labels of one row in the order of their kind, then column (a row label's, null, last)."""
        return self.kind, self.column is None, self.column or ""


def _cell_labels(defects: TableDefects, defect: Defect, positions: np.ndarray, original: pa.Array,
                 written: np.ndarray, keys: pa.Array | None) -> _Labels:
    return _Labels(defect.column, defect.kind, defect.form,
                   keys.take(pa.array(positions, pa.int64())) if keys is not None else None,
                   written[positions], as_text(original))


def _label_table(table: str, parts: list[_Labels]) -> pa.Table:
    """A block's labels as one table, by row, then kind, then column: sorted once, on numbers
    (a rank per kind of label), and each text column taken once."""
    parts = [part for part in parts if len(part.rows)]
    if not parts:
        return empty_labels()
    counts = [len(part.rows) for part in parts]
    ranked = sorted(range(len(parts)), key=lambda index: parts[index].sort_key())
    rank = np.empty(len(parts), dtype=np.int64)
    rank[ranked] = np.arange(len(parts))
    of_part = np.repeat(np.arange(len(parts)), counts)
    rows = np.concatenate([part.rows for part in parts])
    order = pa.array(np.lexsort((rank[of_part], rows)), pa.int64())
    which = pa.array(of_part).take(order)

    def per_part(texts: list[str | None]) -> pa.Array:
        return pa.array(texts, pa.string()).take(which)

    keys = [part.keys for part in parts if part.keys is not None]
    return pa.table({
        "table": pa.repeat(pa.scalar(table, pa.string()), len(rows)),
        "column": per_part([part.column for part in parts]),
        "kind": per_part([part.kind for part in parts]),
        "form": per_part([part.form for part in parts]),
        "key": pa.concat_arrays([key.cast(pa.string()) for key in keys]).take(order) if len(keys) == len(parts)
        else pa.nulls(len(rows), pa.string()),
        "row": pa.array(rows, pa.int64()).take(order),
        "original": pa.concat_arrays([part.original.cast(pa.string()) for part in parts]).take(order),
    }, schema=LABEL_SCHEMA)


# -- values ----------------------------------------------------------------------------------------


def _damage(plan: Plan, defects: TableDefects, defect: Defect, original: pa.Array, rng: np.random.Generator,
            rows: np.ndarray, followed: pa.Array | None = None) -> tuple[pa.Array, np.ndarray]:
    """The damaged values of the chosen cells, and which cells really changed (a value that a
    damage leaves as it was — the case of "123" — is not damaged, nor labelled)."""
    kind, form, spec = defect.kind, defect.form, defect.spec
    target = defect.arrow_type
    plain = original.dictionary_decode() if pa.types.is_dictionary(original.type) else original
    count = len(original)
    if kind == "missing" and form == "null":
        return pa.nulls(count, target), np.ones(count, dtype=bool)
    if kind == "missing":
        value = "" if form == "empty" else spec.value
        return _constant(value, count, target), _changed(plain, _constant(value, count, value_type(target)))
    if kind == "outlier":
        if spec.value is not None:
            damaged = _constant(spec.value, count, value_type(target))
        else:
            damaged = pc.multiply(plain.cast(pa.float64()), spec.factor)
            damaged = _to_number(damaged, value_type(target))
        return _typed(damaged, target), _changed(plain, damaged)
    if kind == "negative":
        negative = pc.negate(pc.abs(plain))
        damaged = pc.if_else(pc.equal(negative, pa.scalar(0).cast(negative.type)),
                             pa.scalar(-1).cast(negative.type), negative)
        return _typed(damaged, target), np.ones(count, dtype=bool)
    if kind in ("future", "late"):
        days = spec.days or DEFAULT_DAYS[kind]
        offsets = rng.uniform(0.5, 1.0, count) * days  # between half and all of `days`
        if kind == "future":
            damaged = _after_as_of(plan, offsets, value_type(target))
        else:
            damaged = _shifted(plain, -offsets)
        return _typed(damaged, target), _changed(plain, damaged)
    if kind == "before_parent":
        assert followed is not None  # read by `inject_block` for this kind
        offsets = rng.uniform(0.5, 1.0, count) * (spec.days or DEFAULT_DAYS[kind])
        damaged = moved_before(followed, offsets, value_type(target))
        return _typed(damaged, target), _changed(plain, damaged)
    if kind == "orphan":
        (parent_table, parent_key), = [(table, key) for column, table, key in defects.parents
                                       if column == defect.column][:1]
        parent_rows = plan.table(parent_table).rows  # this batch's own (an appended batch: defects.batches)
        missing_rows = parent_rows + rng.integers(0, max(parent_rows, 1), count)  # rows no parent has
        damaged = beyond_keys(plan, parent_table, parent_key, missing_rows)
        return _typed(damaged.cast(value_type(target)), target), np.ones(count, dtype=bool)
    if kind == "malformed":
        values = plain.to_pylist()
        assert form is not None, "a malformed value takes the kind's first form by default"
        damaged = [_malformed(form, value, spec.length) for value in values]
        changed = np.array([new != old for new, old in zip(damaged, values)], dtype=bool)
        return _typed(pa.array(damaged, value_type(target)), target), changed
    raise AssertionError(f"no injection for {kind}")  # the spec refuses unknown kinds


def _malformed(form: str, value: str, length: int | None) -> str:
    if form == "email":  # the most common breakage: the @ lost (or doubled where there was none)
        return value.replace("@", "", 1) if "@" in value else value + "@@"
    if form == "date_format":  # ISO 2024-03-07… written day first: 07/03/2024…
        if len(value) >= 10 and value[4] == "-" and value[7] == "-" and value[:4].isdigit():
            return f"{value[8:10]}/{value[5:7]}/{value[:4]}{value[10:]}"
        return value
    if form == "whitespace":
        return f"  {value} "
    if form == "case":
        return value.upper() if value != value.upper() else value.lower()
    if form == "truncate":
        return value[:length if length is not None else len(value) // 2]
    if form == "mojibake":  # UTF-8 read as Latin-1; plain ASCII gets the classic mangled apostrophe
        broken = value.encode("utf-8").decode("latin-1")
        return broken if broken != value else value + "â€™s"
    raise AssertionError(form)


def _constant(value, count: int, target: pa.DataType) -> pa.Array:
    base = value_type(target)
    try:
        array = pa.array([value] * count).cast(base)
    except (pa.ArrowException, TypeError, ValueError):
        array = pa.array([str(value)] * count).cast(base)
    return _typed(array, target)


def _typed(array: pa.Array, target: pa.DataType) -> pa.Array:
    return array if array.type == target else array.cast(target)


def _to_number(values: pa.Array, target: pa.DataType) -> pa.Array:
    if pa.types.is_integer(target):
        values = pc.round(values)
    return values.cast(target, safe=False)


def _changed(before: pa.Array, after: pa.Array) -> np.ndarray:
    same = pc.fill_null(pc.equal(before.cast(after.type) if before.type != after.type else before, after), False)
    return ~np.asarray(same, dtype=bool)


def _after_as_of(plan: Plan, days: np.ndarray, target: pa.DataType) -> pa.Array:
    base = datetime(plan.as_of.year, plan.as_of.month, plan.as_of.day) + timedelta(days=1)
    if pa.types.is_date(target):
        return pa.array([(base + timedelta(days=int(day))).date() for day in days], target)
    unit = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[target.unit]
    seconds = int(base.timestamp()) + (days * 86_400).astype(np.int64)  # as_of is a date: naive is UTC here
    return pa.array(seconds * unit, pa.int64()).cast(pa.timestamp(target.unit)).cast(target)


def _shifted(values: pa.Array, days: np.ndarray) -> pa.Array:
    kind = values.type
    if pa.types.is_date(kind):
        as_days = values.cast(pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)
        return pa.array(as_days + np.floor(days).astype(np.int64), pa.int32()).cast(pa.date32()).cast(kind)
    unit = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[kind.unit]
    raw = values.cast(pa.int64()).to_numpy(zero_copy_only=False)
    return pa.array(raw + (days * 86_400 * unit).astype(np.int64), pa.int64()).cast(kind)


class _Written:
    """One column as the block writes it, made with a single take at the end: the values the
    defects put are appended after the clean ones, and the take's index points each written row
    at its value. Damage and copies cost one gather over the column (after a plain copy that
    appends the values put), not one pass each: a masked replace per defect, a take to insert
    the copies, and another replace (and a dictionary re-encoding) for what a copy changes."""

    def __init__(self, clean: pa.Array):
        self.clean = clean
        self.added: list[pa.Array] = []
        self.size = len(clean)
        self.source: np.ndarray | None = None
        """Clean row → index of its value (None: every clean row holds its own)."""
        self.written: list[tuple[np.ndarray, int]] = []
        """Written rows that hold another value, and the index of the first of those values."""
        self.nulls_only = True
        """Whether every value put is null (on clean rows): a new validity bitmap is enough."""

    def put(self, positions: np.ndarray, values: pa.Array) -> None:
        """Clean rows `positions` (their copies too) hold `values`."""
        if self.source is None:
            self.source = np.arange(len(self.clean), dtype=np.int64)
        self.source[positions] = self.size + np.arange(len(positions), dtype=np.int64)
        self.nulls_only &= values.null_count == len(values)
        self._add(values)

    def put_written(self, rows: np.ndarray, values: pa.Array) -> None:
        """Written rows `rows` (after copies are inserted) hold `values`."""
        self.written.append((rows, self.size))
        self._add(values)

    def at(self, clean_rows: np.ndarray) -> pa.Array:
        """The values clean rows hold with what `put` put (what their copies start from)."""
        index = clean_rows if self.source is None else self.source[clean_rows]
        return self._values().take(pa.array(index, pa.int64()))

    def finish(self, order: np.ndarray | None) -> pa.Array:
        """The column as written: row i holds clean row `order[i]`'s value (None: no row
        moved), but where a value was put."""
        if self.source is None and not self.written and order is None:
            return self.clean
        if order is None and not self.written and self.nulls_only and _flat(self.clean):
            return _with_nulls(self.clean, np.flatnonzero(self.source != np.arange(len(self.clean))))
        index = order if self.source is None else (self.source if order is None else self.source[order])
        assert index is not None  # nothing put and no row moved returned the clean column above
        if self.written:
            index = index.copy()
            for rows, first in self.written:
                index[rows] = first + np.arange(len(rows), dtype=np.int64)
        return _take(self._values(), index)

    def _add(self, values: pa.Array) -> None:
        self.added.append(values)
        self.size += len(values)

    def _values(self) -> pa.Array:
        """The clean values, then every value put, in the column's type."""
        if not self.added:
            return self.clean
        kind = self.clean.type
        if pa.types.is_dictionary(kind):
            return _extended(self.clean, pa.concat_arrays([_plain(values).cast(kind.value_type)
                                                           for values in self.added]))
        return pa.concat_arrays([self.clean] + [_plain(values).cast(kind) for values in self.added])


def _take(values: pa.Array, index: np.ndarray) -> pa.Array:
    """`values.take(index)`; a column of fixed-width numbers or times (or a dictionary's indices)
    is gathered in NumPy, several times faster than Arrow's take on a column with nulls (which
    builds the validity bitmap a bit at a time)."""
    kind = values.type
    if pa.types.is_dictionary(kind):
        return pa.DictionaryArray.from_arrays(_take(values.indices, index), values.dictionary, ordered=kind.ordered)
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_temporal(kind)) \
            or kind.bit_width not in (8, 16, 32, 64) or values.buffers()[1] is None:
        return values.take(pa.array(index, pa.int64()))
    validity, data = values.buffers()
    width = kind.bit_width // 8
    gathered = np.frombuffer(data, dtype=f"V{width}", count=len(values), offset=values.offset * width)[index]
    if not values.null_count:
        return pa.Array.from_buffers(kind, len(index), [None, pa.py_buffer(gathered)], null_count=0)
    valid = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), count=values.offset + len(values),
                          bitorder="little")[values.offset:].view(bool)[index]
    return pa.Array.from_buffers(kind, len(index), [pa.py_buffer(np.packbits(valid, bitorder="little")),
                                                    pa.py_buffer(gathered)],
                                 null_count=len(index) - int(np.count_nonzero(valid)))


def _plain(values: pa.Array) -> pa.Array:
    return values.dictionary_decode() if pa.types.is_dictionary(values.type) else values


def _flat(column: pa.Array) -> bool:
    """A flat array at offset 0: its value buffers can be kept under a new validity bitmap."""
    return not pa.types.is_dictionary(column.type) and column.type.num_fields == 0 and column.offset == 0


def _with_nulls(column: pa.Array, positions: np.ndarray) -> pa.Array:
    """`column` with nulls at `positions`: a new validity bitmap over the same value buffers (a
    masked replace would copy every value of a text column; a null's bytes are never written)."""
    valid = np.ones(len(column), dtype=bool) if column.null_count == 0 else \
        np.asarray(column.is_valid(), dtype=bool).copy()
    valid[positions] = False
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(column.type, len(column), [bitmap, *column.buffers()[1:]],
                                 null_count=len(column) - int(np.count_nonzero(valid)))


def _extended(column: pa.DictionaryArray, values: pa.Array) -> pa.DictionaryArray:
    """A dictionary column with `values` (plain) appended after its rows: encoded on the
    column's dictionary, a value it lacks added at its end (in order of first appearance), so
    the clean rows' indices are kept as they are."""
    dictionary = column.dictionary
    known = pc.index_in(values, value_set=dictionary)
    unknown = values.filter(pc.and_(pc.is_null(known), pc.is_valid(values)))
    extended = pa.concat_arrays([dictionary, pc.unique(unknown)]) if len(unknown) else dictionary
    codes = pc.index_in(values, value_set=extended).cast(column.type.index_type)
    return pa.DictionaryArray.from_arrays(pa.concat_arrays([column.indices, codes]), extended,
                                          ordered=column.type.ordered)


# -- rows ------------------------------------------------------------------------------------------


def _with_copies(plan: Plan, defects: TableDefects, block: int, n: int,
                 deleted: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, list]:
    """The clean position of each dirty row (a copy repeats its original's, right after it; a
    deleted row has none), the dirty row of each clean one (for a deleted row, where it would
    be: the number of dirty rows before it), and for each whole-row defect the dirty rows that
    are its copies."""
    counts = defects.added_counts(block, deleted)
    free = np.ones(n, dtype=bool) if deleted is None else ~deleted
    copied = np.zeros(n, dtype=np.int64)
    chosen_by = []
    for defect, count in zip(defects.row_defects, counts):
        rng = defect.rng(plan.seed, block)
        rng.binomial(n, defect.spec.rate)  # the count, drawn first (see `added_counts`)
        chosen = np.sort(rng.choice(np.flatnonzero(free), size=count, replace=False))
        free[chosen] = False
        copied[chosen] = 1
        chosen_by.append((defect, chosen))
    if not copied.any() and (deleted is None or not deleted.any()):
        same = np.arange(n, dtype=np.int64)
        return same, same, []
    repeats = 1 + copied if deleted is None else (1 + copied) * ~deleted
    order = np.repeat(np.arange(n, dtype=np.int64), repeats)
    dirty_of = np.cumsum(repeats) - repeats
    return order, dirty_of, [(defect, dirty_of[chosen] + 1) for defect, chosen in chosen_by if len(chosen)]


def _change_copies(plan: Plan, defects: TableDefects, assembled: dict[str, _Written], order: np.ndarray,
                   copies: list, written: np.ndarray) -> list[pa.Array]:
    """Change what near and new-key copies change (on their written rows), and return each
    copy defect's labels' originals: what it changed, as text (null for an exact copy)."""
    originals = []
    for defect, rows in copies:
        original = pa.nulls(len(rows), pa.string())
        if defect.form == "near":
            column = assembled[defect.column]
            before = column.at(order[rows])
            column.put_written(rows, _nudged(before))
            original = as_text(before)
        elif defect.form == "new_key":
            key = defects.key
            assert key is not None, "the spec refuses form new_key on a table without a key column"
            before = assembled[key].at(order[rows])
            assembled[key].put_written(rows, beyond_keys(plan, defects.table.name, key,
                                                         defects.table.rows + written[rows]))
            original = as_text(before)
        originals.append(original)
    return originals


def _nudged(values: pa.Array) -> pa.Array:
    """A near duplicate's changed field: close to the value, but not it."""
    plain = values.dictionary_decode() if pa.types.is_dictionary(values.type) else values
    kind = plain.type
    if is_text(kind):
        return pa.array([f"{value} " if value is not None else "" for value in plain.to_pylist()], kind)
    if pa.types.is_integer(kind):
        return pc.add(plain, pa.scalar(1).cast(kind))
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return _to_number(pc.multiply(plain.cast(pa.float64()), 1.01), kind)
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        return _shifted(plain, np.ones(len(plain)))
    if pa.types.is_boolean(kind):
        return pc.invert(plain)
    return plain
