"""Validation of a dirty output (issue 14): every usual check runs on the clean rows, and each
label is checked to be true of the written rows.

`CleanView` holds the clean rows of each damaged table, spooled a block at a time as Arrow IPC
files in a private temporary folder (writing one costs little more than a memory copy, and
DuckDB scans them memory-mapped, so memory stays bounded by a block whatever the table's size).
While `fabula generate` validates, the spool is fed the clean blocks validation already sees
before the injector damages them: nothing is read back or rebuilt. Re-validating a folder
rebuilds the clean rows from the files and the labels (copies dropped, originals put back) and
spools them the same way. The SQL checks (keys, orphans, `expect:`) see the spool as the damaged
tables, so a declared orphan is not an integrity failure and an undeclared one still is.

`examine` reads what is really written at the labels (only the labelled columns, and whole rows
only around copies), a batch at a time, for the defects family's truth check.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import weakref
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fabula.defects import LABEL_SCHEMA, LABELS_TABLE, clean_batches, has_defects, labels_of
from fabula.defects.batches import own_rows
from fabula.defects.compile import deletions_of, key_column, labelled_tables, references_to_deleted
from fabula.defects.labels import as_text
from fabula.plan.model import Plan
from fabula.sinks.formats.read import read_batches
from fabula.spec.defects import DROP_KINDS, ROW_KINDS
from fabula.spec.relations import ReferenceColumn


def read_labels(folder: Path) -> pa.Table:
    """The `_defects` table of an output (any format), or an empty one."""
    files = sorted(path for path in (Path(folder) / LABELS_TABLE).glob("part-*") if path.is_file())
    batches = [batch for path in files for batch in read_batches(path, LABEL_SCHEMA)]
    if not batches:
        return LABEL_SCHEMA.empty_table()
    return pa.Table.from_batches(batches).cast(LABEL_SCHEMA)


def table_files(folder: Path, table: str) -> list[Path]:
    return sorted(path for path in (Path(folder) / table).glob("part-*") if path.is_file() and not path.is_symlink())


def plain_schema(schema: pa.Schema) -> pa.Schema:
    """Dictionaries decoded: the types SQL sees (as `fabula.sandbox.folder_views` reads files)."""
    return pa.schema([field.with_type(field.type.value_type) if pa.types.is_dictionary(field.type) else field
                      for field in schema])


def _plain(batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch | pa.Table:
    if not any(pa.types.is_dictionary(kind) for kind in batch.schema.types):
        return batch
    arrays = [_decoded(column) for column in batch.columns]
    return type(batch).from_arrays(arrays, schema=plain_schema(batch.schema))


class CleanView:
    """The clean rows of each damaged table (spooled blocks), the labels, and what the files
    show at them. Thread-safe `spool`; `close` (or garbage collection) removes the spool."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.tables = [table.name for table in plan.tables
                       if getattr(plan.spec.tables.get(table.name), "defects", ())]
        """The damaged tables: their clean rows are spooled."""
        self.labelled = labelled_tables(plan)
        """The tables with labels: the damaged ones, and children of tables with deleted rows
        (their rows are as written, but their references to deleted rows are labelled)."""
        self.labels: pa.Table = LABEL_SCHEMA.empty_table()
        self._seen: dict[str, Future] = {}
        self._spooled: dict[str, set[int]] = {name: set() for name in self.tables}
        self._lock = threading.Lock()
        self._root: Path | None = None
        self._cleanup: weakref.finalize | None = None

    @property
    def root(self) -> Path:
        with self._lock:
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="fabula-clean-"))
                self._cleanup = weakref.finalize(self, shutil.rmtree, self._root, True)
                for name in self.tables:
                    (self._root / name).mkdir()
            return self._root

    def spool(self, table: str, block: int, batch: pa.RecordBatch | pa.Table) -> None:
        """Keep one clean block of a damaged table (other tables are ignored)."""
        if table not in self._spooled:
            return
        import pyarrow.ipc as ipc

        batch = _plain(batch)
        path = self.root / table / f"block-{block:09d}.arrow"
        with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, batch.schema) as writer:
            writer.write(batch)
        with self._lock:
            self._spooled[table].add(block)

    def complete(self, name: str) -> bool:
        return len(self._spooled[name]) == self.plan.table(name).n_blocks

    def from_files(self, folder: Path, name: str) -> Iterator[pa.RecordBatch]:
        """A damaged table's clean rows rebuilt from its written files and the labels (call
        `read` first), for re-validating a folder: the caller cuts them into blocks and spools
        them."""
        table = self.plan.table(name)
        with self._lock:  # rebuilt whole: forget what was spooled before
            self._spooled[name].clear()
        dirty = (batch for path in table_files(folder, name) for batch in read_batches(path, table.schema))
        return clean_batches(dirty, labels_of(self.labels, name), table.schema)

    def read_labels(self, folder: Path) -> pa.Table:
        """The labels of the output in `folder`, kept. A batch appended to an output numbers its
        labels' rows over the whole table; here they count the rows of this batch's own files
        (`fabula.defects.batches`)."""
        labels = read_labels(folder)
        rows = labels.filter(pc.not_equal(labels.column("kind"), "drift"))  # checked with the batches' schemas
        self.labels = own_rows(self.plan, rows)
        return self.labels

    def read(self, folder: Path) -> CleanView:
        """The labels of the output in `folder`, what its files show at them, and any damaged
        table not spooled yet (validation of a folder someone else generated) rebuilt."""
        self.read_labels(folder)
        # what the files show at the labels is read on a thread of its own: Parquet decoding
        # releases the GIL, so it overlaps the other families' checks until the defects family
        # asks for it (`seen`)
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fabula-labels")
        self._seen = {name: pool.submit(examine, self.plan, folder, name, labels_of(self.labels, name),
                                        self.deleted_values(name))
                      for name in self.labelled}
        pool.shutdown(wait=False)
        for name in self.tables:
            if not self.complete(name):
                block_rows = self.plan.table(name).block_rows
                buffered, block = [], 0
                for batch in self.from_files(folder, name):  # re-cut into whole blocks
                    buffered.append(batch)
                    while sum(piece.num_rows for piece in buffered) >= block_rows:
                        joined = pa.Table.from_batches(buffered)
                        self.spool(name, block, joined.slice(0, block_rows))
                        # the rest as batches again: `from_batches` above takes no Table
                        buffered, block = joined.slice(block_rows).to_batches(), block + 1
                rest = pa.Table.from_batches(buffered) if buffered else None
                if rest is not None and rest.num_rows:
                    self.spool(name, block, rest)
        return self

    @property
    def seen(self) -> dict[str, Seen]:
        """table → what its files show at its labels (waits for `read`'s reading thread)."""
        return {name: future.result() for name, future in self._seen.items()}

    def clean_batches(self, name: str) -> Iterator[pa.RecordBatch]:
        """The clean rows of a damaged table, in order, from the spool."""
        import pyarrow.ipc as ipc

        for path in self._files(name):
            with pa.memory_map(str(path)) as source:
                reader = ipc.open_file(source)
                for index in range(reader.num_record_batches):
                    yield reader.get_batch(index)

    def views(self) -> dict[str, object]:
        """table → its clean rows, as DuckDB views (`fabula.sandbox.connect`): the spooled
        files as an Arrow dataset, scanned memory-mapped."""
        import pyarrow.dataset as ds

        views = {}
        for name in self.tables:
            files = [str(path) for path in self._files(name)]
            schema = plain_schema(self.plan.table(name).schema)
            views[name] = ds.dataset(files, format="ipc") if files else schema.empty_table()
        return views

    def deleted_values(self, name: str) -> dict[str, pa.Array]:
        """For each reference of table `name` to a table with deleted rows: the referenced
        column's values at the deleted rows (as text, from the parent's labels)."""
        found = {}
        for column, deletion in references_to_deleted(self.plan, name, deletions_of(self.plan)):
            reference = self.plan.spec.tables[name].columns[column]
            assert isinstance(reference, ReferenceColumn), "references_to_deleted yields reference columns only"
            _, parent_column = reference.parent
            found[column] = deleted_values(labels_of(self.labels, deletion.table), parent_column)
        return found

    def key(self, name: str) -> str | None:
        """The table's key column, which labels carry."""
        return key_column(self.plan, self.plan.table(name))

    def _files(self, name: str) -> list[Path]:
        if self._root is None:
            return []
        return sorted((self._root / name).glob("block-*.arrow"))

    def close(self) -> None:
        """Remove the spool (a later `read` rebuilds every table from the files)."""
        with self._lock:
            if self._cleanup is not None:
                self._cleanup()
            self._root, self._cleanup = None, None
            for blocks in self._spooled.values():
                blocks.clear()


def deleted_values(labels: pa.Table, column: str) -> pa.Array:
    """A column's values (as text) in the deleted rows among a table's `labels`."""
    import json

    import pyarrow.compute as pc

    deleted = labels.filter(pc.is_in(labels.column("kind"), pa.array(sorted(DROP_KINDS))))
    return pa.array([json.loads(text).get(column) if text is not None else None
                     for text in deleted.column("original").to_pylist()], pa.string())


def clean_view(plan: Plan) -> CleanView | None:
    return CleanView(plan) if has_defects(plan) else None


# -- what the files show at the labels ---------------------------------------------------------------


@dataclass
class Seen:
    """What the written rows of one damaged table show at its labels (label indexes are
    positions in the table's labels, as `labels_of` returns them)."""

    written_rows: int = 0
    cells: dict[str, tuple[np.ndarray, pa.Array]] = field(default_factory=dict)
    """column → (label indexes, the written values of their cells), in row order."""
    copies: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """The label indexes of whole-row labels whose row (and the row before it) was found."""
    differ: dict[str, np.ndarray] = field(default_factory=dict)
    """column → for each of `copies`, whether the copy differs from the row before it there."""
    still_there: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """The label indexes of deleted-row labels whose key a written row still holds."""
    pointing: dict[str, int] = field(default_factory=dict)
    """reference column → how many written rows point at a deleted parent row."""


def examine(plan: Plan, folder: Path, name: str, labels: pa.Table,
            deleted: dict[str, pa.Array] | None = None) -> Seen:
    """One pass over a labelled table's files, a batch at a time: the written values at the
    labelled cells (only those columns are read from Parquet), for copies which columns differ
    from the row before, for deleted rows whether their key is still written, and for each
    reference in `deleted` (column → the parent's deleted values) how many rows point at one.
    Memory: one batch and arrays the size of the labels."""
    import pyarrow.compute as pc

    table = plan.table(name)
    seen = Seen()
    rows = labels.column("row").to_numpy(zero_copy_only=False).astype(np.int64)
    is_copy = np.isin(np.asarray(labels.column("kind").to_pylist(), dtype=object), list(ROW_KINDS)) \
        if len(rows) else np.zeros(0, dtype=bool)
    columns = np.asarray(labels.column("column").to_pylist(), dtype=object)
    cell_columns = sorted({column for column in columns[~is_copy] if column is not None})
    by_column = {}
    for column in cell_columns:
        members = np.flatnonzero((columns == column) & ~is_copy)
        members = members[np.argsort(rows[members], kind="stable")]
        by_column[column] = (members, rows[members])
    copies = np.flatnonzero(is_copy)
    copies = copies[np.argsort(rows[copies], kind="stable")]
    copy_rows = rows[copies]
    names = [column.name for column in table.schema]
    removed = np.flatnonzero(np.isin(np.asarray(labels.column("kind").to_pylist(), dtype=object),
                                     list(DROP_KINDS))) if len(rows) else np.zeros(0, np.int64)
    key = key_column(plan, table) if len(removed) else None
    removed_keys = labels.column("key").take(pa.array(removed, pa.int64())).combine_chunks() if key else None
    deleted = deleted or {}
    extra = [column for column in [key, *deleted] if column is not None]
    wanted = names if len(copies) else sorted({*cell_columns, *extra})
    still: list[np.ndarray] = []
    pointing = dict.fromkeys(deleted, 0)
    pieces: dict[str, list] = {column: [] for column in cell_columns}
    found_copies: list[np.ndarray] = []
    differ: dict[str, list[np.ndarray]] = {column: [] for column in names}
    previous = None  # the last row of the batch before, for a copy at a batch's first row
    offset = 0
    for path in table_files(folder, name):
        for batch in _read_columns(path, table.schema, wanted):
            n = batch.num_rows
            for column, (members, member_rows) in by_column.items():
                low, high = np.searchsorted(member_rows, [offset, offset + n])
                if high > low:
                    positions = pa.array(member_rows[low:high] - offset, pa.int64())
                    pieces[column].append((members[low:high], batch.column(column).take(positions)))
            low, high = np.searchsorted(copy_rows, [offset, offset + n])
            if high > low:
                positions = copy_rows[low:high] - offset
                with_previous = positions > 0 if previous is None else np.ones(len(positions), dtype=bool)
                positions = positions[with_previous]
                here = pa.array(positions, pa.int64())
                before = pa.array(np.maximum(positions - 1, 0), pa.int64())
                first = np.flatnonzero(positions == 0)  # its row before is the last of the batch before
                for column in names:
                    values = batch.column(column)
                    earlier = _decoded(values.take(before))
                    if len(first):
                        assert previous is not None  # a first row without a row before was left out above
                        earlier = _with_first_rows(earlier, first, _decoded(previous.column(column)))
                    differ[column].append(_differs(values.take(here), earlier))
                found_copies.append(copies[low:high][with_previous])
            if key is not None and n:  # a deleted row's key found in a written row: the label is false
                at = pc.index_in(removed_keys, value_set=as_text(batch.column(key)))
                still.append(removed[np.asarray(at.is_valid(), dtype=bool)])
            for column, values in deleted.items():
                if n and len(values):
                    hits = pc.is_in(as_text(batch.column(column)), value_set=values)
                    pointing[column] += int(pc.sum(hits).as_py() or 0)
            if n and len(copies):
                previous = _plain(batch.slice(n - 1, 1))
            offset += n
    seen.written_rows = offset
    seen.pointing = pointing
    if still:
        seen.still_there = np.unique(np.concatenate(still))
    for column, parts in pieces.items():
        if parts:
            seen.cells[column] = (np.concatenate([indexes for indexes, _ in parts]),
                                  pa.concat_arrays([_decoded(values) for _, values in parts]))
    if found_copies:
        seen.copies = np.concatenate(found_copies)
        seen.differ = {column: np.concatenate(flags) for column, flags in differ.items()}
    return seen


def _read_columns(path: Path, schema: pa.Schema, columns: list[str]) -> Iterator[pa.RecordBatch]:
    if str(path).endswith(".parquet"):
        import pyarrow.parquet as pq

        file = pq.ParquetFile(path)
        if not columns:  # nothing labelled here: the row counts alone
            for group in range(file.num_row_groups):
                yield pa.RecordBatch.from_arrays([pa.nulls(file.metadata.row_group(group).num_rows)], ["_"])
            return
        yield from file.iter_batches(batch_size=65_536, columns=columns)
        return
    yield from read_batches(path, schema)  # CSV and JSON Lines are read whole anyway


def _with_first_rows(values: pa.Array, first: np.ndarray, last_before: pa.Array) -> pa.Array:
    """`values` with the one value `last_before` at the positions `first` (copies whose row
    before ended the previous batch): a take over both, no batch copied."""
    index = np.arange(1, len(values) + 1, dtype=np.int64)
    index[first] = 0
    if isinstance(last_before, pa.ChunkedArray):
        last_before = last_before.combine_chunks()
    return pa.concat_arrays([last_before.cast(values.type), values]).take(pa.array(index))


def _decoded(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if not pa.types.is_dictionary(values.type):
        return values
    if isinstance(values, pa.ChunkedArray):
        return pa.chunked_array([chunk.dictionary_decode() for chunk in values.chunks], values.type.value_type)
    return values.dictionary_decode()


def _differs(here: pa.Array, before: pa.Array) -> np.ndarray:
    """Whether each value differs from the one before (two nulls are the same)."""
    import pyarrow.compute as pc

    here, before = _decoded(here), _decoded(before)
    try:
        same = pc.fill_null(pc.equal(here, before), False)
    except pa.ArrowNotImplementedError:  # nested types: compared as Python values
        return np.array([a != b for a, b in zip(here.to_pylist(), before.to_pylist())], dtype=bool)
    both_null = pc.and_(pc.is_null(here), pc.is_null(before))
    return ~np.asarray(pc.or_(same, both_null).to_numpy(zero_copy_only=False), dtype=bool)


__all__ = ["CleanView", "Seen", "clean_view", "examine", "read_labels", "plain_schema"]
