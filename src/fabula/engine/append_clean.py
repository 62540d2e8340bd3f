"""The rows of an appended output as the checks across batches need them: a damaged table's
clean rows (copies dropped, damaged values put back from the labels), batch by batch, and a
file written with a declared schema drift read back into its plan's schema.

Each batch's `_defects` file labels its rows with their numbers in the whole appended table
(`fabula.defects.batches`); `batch_labels` counts them from the batch's own first rows again
(the ranges its manifest record gives). Clean rows are spooled as Arrow IPC files in a private
temporary folder (a block of memory at a time, scanned memory-mapped by DuckDB), one file set
per (table, batch), made when first asked.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from fabula.defects import LABEL_SCHEMA, LABELS_TABLE, clean_batches, labels_of
from fabula.defects.drift import active, drifted_schema, undo_drift
from fabula.manifest import FileEntry, Manifest
from fabula.plan.model import Plan
from fabula.sinks.formats.read import read_batches
from fabula.validate.defects import plain_schema


def batch_labels(folder: Path, record: Mapping[str, Any]) -> pa.Table:
    """One batch's labels, `row` counted from the batch's first row of each table (the row
    ranges its manifest record gives)."""
    paths = record["files"].get(LABELS_TABLE, [])
    batches = [batch for path in paths for batch in read_batches(Path(folder) / path, LABEL_SCHEMA)]
    if not batches:
        return LABEL_SCHEMA.empty_table()
    labels = pa.Table.from_batches(batches).cast(LABEL_SCHEMA)
    labels = labels.filter(pc.not_equal(labels.column("kind"), "drift"))  # a schema's, not a row's
    if not labels.num_rows:
        return labels
    tables = labels.column("table").to_pylist()
    first = {name: int(record["rows"].get(name, [0, 0])[0]) for name in set(tables)}
    rows = pc.subtract(labels.column("row"), pa.array([first[name] for name in tables], pa.int64()))
    return labels.set_column(labels.schema.get_field_index("row"), labels.schema.field("row"), rows)


def read_in_plan_schema(path: Path, plan: Plan, table: str) -> Iterator[pa.RecordBatch]:
    """One file of a batch's `table`, in the schema of the batch's plan: a file written with a
    declared schema drift (`fabula.defects.drift`) is read in its drifted schema and put back."""
    schema = plan.table(table).schema
    drifts = active(plan, table)
    if not drifts:
        yield from read_batches(path, schema)
        return
    for batch in read_batches(path, drifted_schema(schema, drifts)):
        yield from undo_drift(pa.Table.from_batches([batch]), drifts, schema).to_batches()


def undrifted_copy(folder: Path, view: Path, path: str, plan: Plan, table: str, output_format: str) -> FileEntry:
    """A drifted file of a batch written into the batch's validation view in the plan's schema,
    as the view's manifest lists it (the file itself is checked by `append_checks.schema_checks`)."""
    from fabula.sinks.files import write_file
    from fabula.sinks.formats.registry import part_format

    schema = plan.table(table).schema
    rows = pa.Table.from_batches(list(read_in_plan_schema(folder / path, plan, table)), schema=schema)
    written = write_file(view, view, path, table, 0, rows.schema, [rows], part_format(output_format))
    return FileEntry(path=written.path, rows=written.rows, bytes=written.bytes, sha256=written.sha256)


class BatchRows:
    """The rows of each batch of an appended output, clean where the batch's plan declares
    defects. `close` removes the spool."""

    def __init__(self, folder: Path, manifest: Manifest, plans: Sequence[Plan]):
        self.folder = Path(folder)
        self.records = manifest.batches
        self.plans = plans
        self._root: Path | None = None
        self._spooled: dict[tuple[str, int], list[str]] = {}

    def damaged(self, table: str, index: int) -> bool:
        """Whether the batch's files of `table` are not its plan's rows as they are: defects
        declared, or a schema drift active in the batch."""
        spec = self.plans[index].spec.tables.get(table)
        return bool(spec is not None and getattr(spec, "defects", ()))

    def defects_in(self, table: str, index: int) -> bool:
        spec = self.plans[index].spec.tables.get(table)
        return any(not defect.is_drift for defect in getattr(spec, "defects", ()) or ())

    def damaged_anywhere(self, table: str) -> bool:
        return any(self.damaged(table, index) for index in range(len(self.plans)))

    def dataset(self, table: str, indexes: Iterable[int]):
        """A pyarrow dataset of `table`'s rows in the batches `indexes` (None for no file)."""
        import pyarrow.dataset as ds

        indexes = list(indexes)
        if not any(self.damaged(table, index) for index in indexes):
            paths = [str(self.folder / path) for index in indexes
                     for path in self.records[index]["files"].get(table, [])]
            if not paths:
                return None
            file_format = {"parquet": "parquet", "csv": "csv", "jsonl": "json"}[paths[0].rsplit(".", 1)[1]]
            return ds.dataset(paths, format=file_format)
        files = [path for index in indexes for path in self._clean(table, index)]
        schema = plain_schema(self.plans[indexes[-1]].table(table).schema)
        return ds.dataset(files, format="ipc", schema=schema) if files else schema.empty_table()

    def _clean(self, table: str, index: int) -> list[str]:
        """The spooled files of one batch's rows of `table` (clean if it is damaged there)."""
        import pyarrow.ipc as ipc

        if (table, index) in self._spooled:
            return self._spooled[(table, index)]
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="fabula-batches-"))
        schema = self.plans[index].table(table).schema
        plain = plain_schema(schema)
        record = self.records[index]
        dirty = (batch for path in record["files"].get(table, [])
                 for batch in read_in_plan_schema(self.folder / path, self.plans[index], table))
        rows = clean_batches(dirty, labels_of(batch_labels(self.folder, record), table)) \
            if self.defects_in(table, index) else dirty
        files = []
        for number, batch in enumerate(rows):
            path = self._root / f"{table}-b{index:05d}-{number:06d}.arrow"
            with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, plain) as writer:
                writer.write_table(pa.Table.from_batches([batch]).cast(plain))
            files.append(str(path))
        self._spooled[(table, index)] = files
        return files

    def views(self, tables: Iterable[str]) -> dict[str, Any]:
        """table → its rows over every batch, for the damaged tables among `tables`."""
        every = range(len(self.plans))
        return {table: self.dataset(table, every) for table in tables if self.damaged_anywhere(table)}

    def close(self) -> None:
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
        self._root, self._spooled = None, {}


__all__ = ["BatchRows", "batch_labels"]
