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

For the defects family's truth check, an `Examination` reads what is really written at the
labels. While `fabula generate` validates, it sees each damaged block as written, with the
labels the injector made for it (`witness`), so the damaged tables are never read back (a
table referencing one with deleted rows is the exception: see `witness`). Re-validating a
folder, `examine` reads the files, a batch at a time: only the labelled columns, and whole rows
only around copies.
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
from fabula.defects.follows import followed_name
from fabula.defects.labels import as_text
from fabula.plan.blocks import recent_columns
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
        self._witnessed: dict[str, dict[int, tuple[Seen, np.ndarray]]] = {name: {} for name in self.labelled}
        """table → block → what the block showed at its labels as it was written, and their rows."""
        self._spooled: dict[str, set[int]] = {name: set() for name in self.tables}
        self._deletions = deletions_of(plan)
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

        # dictionaries are kept (decoding them cost three times the writing; DuckDB reads them as
        # their values), but an IPC file holds one dictionary per column: a table of chunks with
        # dictionaries of their own (a folder's rows re-cut into blocks) gets one
        if isinstance(batch, pa.Table):
            batch = batch.unify_dictionaries().combine_chunks()
        path = self.root / table / f"block-{block:09d}.arrow"
        with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, batch.schema) as writer:
            writer.write(batch)
        with self._lock:
            self._spooled[table].add(block)

    def complete(self, name: str) -> bool:
        return len(self._spooled[name]) == self.plan.table(name).n_blocks

    def witness(self, table: str, block: int, dirty: pa.RecordBatch, labels: pa.Table, first_row: int) -> None:
        """Examine one block as written, while it is in memory, so the labels need not be read
        back from the files (thread-safe; `fabula.defects.Witness`). A table that references
        one with deleted rows is examined from the files: counting the rows that point at a
        deleted row needs every label of the parent."""
        if table not in self._witnessed or self.deleted_refs(table):
            return
        examination = Examination(self.plan, table, labels)
        examination.read(dirty, first_row)
        seen = examination.seen(dirty.num_rows)
        seen.followed = self._followed(table, block, labels, first_row)
        rows = labels.column("row").to_numpy(zero_copy_only=False).astype(np.int64)
        with self._lock:
            self._witnessed[table][block] = (seen, rows)

    def _followed(self, table: str, block: int, labels: pa.Table, first_row: int) -> dict[str, tuple]:
        """For each column with `before_parent` labels in this block: their label indexes and the
        clean time each one's row follows, read from the columns the block was made of (this
        thread made it just now) rather than computed again when the labels are checked."""
        columns = {defect.column for defect in self.plan.spec.tables[table].defects
                   if defect.kind == "before_parent" and defect.column}
        if not columns or not labels.num_rows:
            return {}
        kind, column_of = labels.column("kind"), labels.column("column")
        found = {}
        for column in sorted(columns):
            indexes = np.flatnonzero(pc.and_(pc.equal(kind, "before_parent"), pc.equal(column_of, column))
                                     .to_numpy(zero_copy_only=False))
            if not len(indexes):
                continue
            after = followed_name(self.plan, table, column)
            made = recent_columns(self.plan, table, block)
            times = made[after] if made is not None and after in made else \
                self.plan.columns(table, block, [after])[after]  # the thread's first block: only what it reads
            if pa.types.is_dictionary(times.type):
                times = times.dictionary_decode()
            at = clean_rows(labels, indexes) - first_row  # positions in the block's clean rows
            found[column] = (indexes, times.take(pa.array(at, pa.int64())))
        return found

    def _witnessed_seen(self, name: str) -> Seen | None:
        """The table's `Seen` from its witnessed blocks, when every block was witnessed and their
        labels are the table's labels, in order (else None: the files are examined)."""
        with self._lock:
            blocks = dict(self._witnessed.get(name, {}))
        if len(blocks) != self.plan.table(name).n_blocks:
            return None
        parts, rows, base = [], [], 0
        for block in sorted(blocks):
            seen, block_rows = blocks[block]
            parts.append((seen, base))
            rows.append(block_rows)
            base += len(block_rows)
        written = labels_of(self.labels, name).column("row").to_numpy(zero_copy_only=False)
        if not np.array_equal(np.concatenate(rows) if rows else np.zeros(0, np.int64), written):
            return None  # not the labels these blocks made (never expected): read the files
        return joined(parts)

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
        self._seen = {}
        for name in self.labelled:
            witnessed = self._witnessed_seen(name)
            if witnessed is not None:
                self._seen[name] = Future()
                self._seen[name].set_result(witnessed)
            else:
                self._seen[name] = pool.submit(examine, self.plan, folder, name, labels_of(self.labels, name),
                                               self.deleted_values(name))
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

    def views(self) -> dict[str, object]:
        """table → its clean rows, as DuckDB views (`fabula.sandbox.connect`): the spooled
        files as an Arrow dataset, scanned memory-mapped."""
        import pyarrow.dataset as ds

        views = {}
        for name in self.tables:
            files = [str(path) for path in self._files(name)]
            views[name] = ds.dataset(files, format="ipc") if files else self.plan.table(name).schema.empty_table()
        return views

    def deleted_refs(self, name: str) -> bool:
        """Whether table `name` references a table with deleted rows."""
        return bool(references_to_deleted(self.plan, name, self._deletions))

    def deleted_values(self, name: str) -> dict[str, pa.Array]:
        """For each reference of table `name` to a table with deleted rows: the referenced
        column's values at the deleted rows (as text, from the parent's labels)."""
        found = {}
        for column, deletion in references_to_deleted(self.plan, name, self._deletions):
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
            for witnessed in self._witnessed.values():
                witnessed.clear()


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
    followed: dict[str, tuple[np.ndarray, pa.Array]] = field(default_factory=dict)
    """column → (label indexes of its `before_parent` labels, the clean time each one's row
    follows), when known as the blocks were made (else the check computes them)."""


class Examination:
    """What written rows show at one table's labels, fed a batch at a time in written order:
    the written values at the labelled cells, for copies which columns differ from the row
    before, for deleted rows whether their key is still written, and for each reference in
    `deleted` (column → the parent's deleted values) how many rows point at one. Memory: arrays
    the size of the labels. `wanted` names the columns a batch must hold."""

    def __init__(self, plan: Plan, name: str, labels: pa.Table, deleted: dict[str, pa.Array] | None = None):
        table = plan.table(name)
        rows = labels.column("row").to_numpy(zero_copy_only=False).astype(np.int64)
        kinds, columns = labels.column("kind"), labels.column("column")

        def where(condition) -> np.ndarray:
            return np.asarray(pc.fill_null(condition, False).to_numpy(zero_copy_only=False), dtype=bool)

        is_copy = where(pc.is_in(kinds, value_set=pa.array(sorted(ROW_KINDS))))
        cells = pa.chunked_array(columns.filter(pa.array(~is_copy)).chunks, pa.string()) if len(rows) else None
        cell_columns = sorted(pc.unique(cells.drop_null()).to_pylist()) if cells is not None else []
        self.by_column = {}
        for column in cell_columns:
            members = np.flatnonzero(where(pc.equal(columns, column)) & ~is_copy)
            members = members[np.argsort(rows[members], kind="stable")]
            self.by_column[column] = (members, rows[members])
        copies = np.flatnonzero(is_copy)
        self.copies = copies[np.argsort(rows[copies], kind="stable")]
        self.copy_rows = rows[self.copies]
        self.names = [column.name for column in table.schema]
        removed = np.flatnonzero(where(pc.is_in(kinds, value_set=pa.array(sorted(DROP_KINDS)))))
        self.removed = removed
        self.key = key_column(plan, table) if len(removed) else None
        self.removed_keys = labels.column("key").take(pa.array(removed, pa.int64())).combine_chunks() \
            if self.key else None
        self.deleted = deleted or {}
        extra = [column for column in [self.key, *self.deleted] if column is not None]
        self.wanted = self.names if len(self.copies) else sorted({*cell_columns, *extra})
        self._still: list[np.ndarray] = []
        self._pointing = dict.fromkeys(self.deleted, 0)
        self._pieces: dict[str, list] = {column: [] for column in cell_columns}
        self._found_copies: list[np.ndarray] = []
        self._differ: dict[str, list[np.ndarray]] = {column: [] for column in self.names}
        self._previous: pa.RecordBatch | pa.Table | None = None
        """The last row of the batch before, for a copy at a batch's first row."""

    def read(self, batch: pa.RecordBatch, offset: int) -> None:
        """One batch of written rows, the first of them row number `offset`."""
        n = batch.num_rows
        for column, (members, member_rows) in self.by_column.items():
            low, high = np.searchsorted(member_rows, [offset, offset + n])
            if high > low:
                positions = pa.array(member_rows[low:high] - offset, pa.int64())
                self._pieces[column].append((members[low:high], batch.column(column).take(positions)))
        low, high = np.searchsorted(self.copy_rows, [offset, offset + n])
        if high > low:
            self._read_copies(batch, self.copy_rows[low:high] - offset, self.copies[low:high])
        if self.key is not None and n:  # a deleted row's key found in a written row: the label is false
            at = pc.index_in(self.removed_keys, value_set=as_text(batch.column(self.key)))
            self._still.append(self.removed[np.asarray(at.is_valid(), dtype=bool)])
        for column, values in self.deleted.items():
            if n and len(values):
                hits = pc.is_in(as_text(batch.column(column)), value_set=values)
                self._pointing[column] += int(pc.sum(hits).as_py() or 0)
        if n and len(self.copies):
            self._previous = _plain(batch.slice(n - 1, 1))

    def _read_copies(self, batch: pa.RecordBatch, positions: np.ndarray, copies: np.ndarray) -> None:
        previous = self._previous
        with_previous = positions > 0 if previous is None else np.ones(len(positions), dtype=bool)
        positions = positions[with_previous]
        here = pa.array(positions, pa.int64())
        before = pa.array(np.maximum(positions - 1, 0), pa.int64())
        first = np.flatnonzero(positions == 0)  # its row before is the last of the batch before
        for column in self.names:
            values = batch.column(column)
            earlier = _decoded(values.take(before))
            if len(first):
                assert previous is not None  # a first row without a row before was left out above
                earlier = _with_first_rows(earlier, first, _decoded(previous.column(column)))
            self._differ[column].append(_differs(values.take(here), earlier))
        self._found_copies.append(copies[with_previous])

    def seen(self, written_rows: int) -> Seen:
        """What was read, the table having `written_rows` rows in all."""
        seen = Seen(written_rows=written_rows, pointing=self._pointing)
        if self._still:
            seen.still_there = np.unique(np.concatenate(self._still))
        for column, parts in self._pieces.items():
            if parts:
                seen.cells[column] = (np.concatenate([indexes for indexes, _ in parts]),
                                      pa.concat_arrays([_decoded(values) for _, values in parts]))
        if self._found_copies:
            seen.copies = np.concatenate(self._found_copies)
            seen.differ = {column: np.concatenate(flags) for column, flags in self._differ.items()}
        return seen


def examine(plan: Plan, folder: Path, name: str, labels: pa.Table,
            deleted: dict[str, pa.Array] | None = None) -> Seen:
    """One pass over a labelled table's files, a batch at a time (only the columns the
    examination needs are read from Parquet): what they show at the labels."""
    table = plan.table(name)
    examination = Examination(plan, name, labels, deleted)
    offset = 0
    for path in table_files(folder, name):
        for batch in _read_columns(path, table.schema, examination.wanted):
            examination.read(batch, offset)
            offset += batch.num_rows
    return examination.seen(offset)


def joined(parts: list[tuple[Seen, int]]) -> Seen:
    """The `Seen` of a table from those of its blocks, in order, each with the number of labels
    before the block's (its label indexes count from the block's first label)."""
    seen = Seen(written_rows=sum(part.written_rows for part, _ in parts))
    columns = sorted({column for part, _ in parts for column in part.cells})
    for column in columns:
        found = [(part.cells[column], base) for part, base in parts if column in part.cells]
        seen.cells[column] = (np.concatenate([indexes + base for (indexes, _), base in found]),
                              pa.concat_arrays([values for (_, values), _ in found]))
    with_copies = [(part, base) for part, base in parts if len(part.copies)]
    if with_copies:
        seen.copies = np.concatenate([part.copies + base for part, base in with_copies])
        seen.differ = {column: np.concatenate([part.differ[column] for part, _ in with_copies])
                       for column in with_copies[0][0].differ}
    still = [part.still_there + base for part, base in parts if len(part.still_there)]
    if still:
        seen.still_there = np.concatenate(still)
    for part, _ in parts:
        for column, count in part.pointing.items():
            seen.pointing[column] = seen.pointing.get(column, 0) + count
    for column in sorted({column for part, _ in parts for column in part.followed}):
        known = [(part.followed[column], base) for part, base in parts if column in part.followed]
        seen.followed[column] = (np.concatenate([indexes + base for (indexes, _), base in known]),
                                 pa.concat_arrays([times for (_, times), _ in known]))
    return seen


def clean_rows(labels: pa.Table, indexes: np.ndarray) -> np.ndarray:
    """The clean row ids of the cell labels `indexes` among `labels` (a table's): a written row
    less the copies written up to it (a copy is its original's clean row), plus the rows deleted
    before it (a deleted row's label names the written row that followed it, so one at the same
    number was before). Given one block's labels, that less the block's first written row is
    the position in the block's clean rows."""
    rows = labels.column("row").to_numpy(zero_copy_only=False).astype(np.int64)
    copies = np.sort(rows[pc.is_in(labels.column("kind"), value_set=pa.array(sorted(ROW_KINDS)))
                          .to_numpy(zero_copy_only=False)])
    removed = np.sort(rows[pc.is_in(labels.column("kind"), value_set=pa.array(sorted(DROP_KINDS)))
                           .to_numpy(zero_copy_only=False)])
    wanted = rows[indexes]
    return (wanted - np.searchsorted(copies, wanted, side="right")
            + np.searchsorted(removed, wanted, side="right"))


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


__all__ = ["CleanView", "Examination", "Seen", "clean_rows", "clean_view", "examine", "joined", "read_labels",
           "plain_schema"]
