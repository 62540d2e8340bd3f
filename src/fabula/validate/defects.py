"""Validation of a dirty output (issue 14): every usual check runs on the clean rows, and each
label is checked to be true of the written rows.

One pass over each damaged table's written files (`examine`): the labels put the clean rows back
(copies dropped, originals restored), which are written to a private temporary folder for the
SQL checks (keys, orphans, `expect:`) and handed to the block statistics when re-validating a
folder; the same pass reads the damaged cells and the copied rows, so each label can be checked
against what is really in the file. A declared orphan is then not an integrity failure, an
undeclared one still is, and a label that is not true fails.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fabula.defects import LABEL_SCHEMA, LABELS_TABLE, clean_batches, has_defects, labels_of
from fabula.defects.compile import key_column
from fabula.defects.labels import as_text
from fabula.plan.model import Plan
from fabula.sinks.formats.read import read_batches
from fabula.spec.defects import ROW_KINDS


def read_labels(folder: Path) -> pa.Table:
    """The `_defects` table of an output (any format), or an empty one."""
    files = sorted(path for path in (Path(folder) / LABELS_TABLE).glob("part-*") if path.is_file())
    batches = [batch for path in files for batch in read_batches(path, LABEL_SCHEMA)]
    if not batches:
        return LABEL_SCHEMA.empty_table()
    return pa.Table.from_batches(batches).cast(LABEL_SCHEMA)


def table_files(folder: Path, table: str) -> list[Path]:
    return sorted(path for path in (Path(folder) / table).glob("part-*") if path.is_file() and not path.is_symlink())


@dataclass
class Seen:
    """What the written rows show at one table's labels."""

    written_rows: int = 0
    cells: list = field(default_factory=list)
    """(label indexes, the written values of their cells), a piece per column and batch."""

    def values(self) -> dict[int, object]:
        """label index → (the written value as Python, as text) of its cell."""
        found = {}
        for indexes, values in self.cells:
            texts = as_text(values).to_pylist()
            for index, plain, text in zip(indexes, values.to_pylist(), texts):
                found[index] = (plain, text)
        return found
    copies: dict[int, tuple[dict, dict]] = field(default_factory=dict)
    """label index → (the copy's row, the row before it) as Python dicts (whole-row labels)."""


class CleanCopy:
    """The clean rows of each damaged table in a private temporary folder, and what was seen."""

    def __init__(self, plan: Plan, folder: Path):
        self.plan = plan
        self.folder = Path(folder)
        self.labels = read_labels(self.folder)
        self.root = Path(tempfile.mkdtemp(prefix="fabula-clean-"))
        self.tables = [table.name for table in plan.tables
                       if getattr(plan.spec.tables.get(table.name), "defects", ())]
        self.seen: dict[str, Seen] = {}
        try:
            for name in self.tables:
                self._examine(name)
        except BaseException:
            self.close()
            raise

    def _examine(self, name: str) -> None:
        import pyarrow.parquet as pq

        table = self.plan.table(name)
        labels = labels_of(self.labels, name)
        seen = self.seen[name] = Seen()
        rows = labels.column("row").to_numpy(zero_copy_only=False)
        columns = labels.column("column").to_pylist()
        kinds = labels.column("kind").to_pylist()
        wanted_cells = {int(index): (int(rows[index]), columns[index])
                        for index in range(len(rows)) if kinds[index] not in ROW_KINDS}
        wanted_rows = {int(index): int(rows[index]) for index in range(len(rows)) if kinds[index] in ROW_KINDS}
        previous: dict | None = None
        (self.root / name).mkdir()
        schema = pa.schema([field.with_type(field.type.value_type) if pa.types.is_dictionary(field.type) else field
                            for field in table.schema])
        by_row_cells: dict[int, list[tuple[int, str]]] = {}
        for index, (row, column) in wanted_cells.items():
            by_row_cells.setdefault(row, []).append((index, column))
        by_row_copies = {row: index for index, row in wanted_rows.items()}
        wanted = np.array(sorted({*by_row_cells, *by_row_copies}), dtype=np.int64)

        def dirty() -> Iterator[pa.RecordBatch]:
            nonlocal previous
            offset = 0
            for path in table_files(self.folder, name):
                for batch in read_batches(path, table.schema):
                    n = batch.num_rows
                    low, high = np.searchsorted(wanted, [offset, offset + n])
                    lookup = wanted[low:high].tolist()
                    cells = [(index, column, row - offset) for row in lookup for index, column in by_row_cells.get(row, ())]
                    for column in {column for _, column, _ in cells}:
                        mine = [(index, position) for index, col, position in cells if col == column]
                        taken = batch.column(column).take(pa.array([position for _, position in mine], pa.int64()))
                        seen.cells.append(([index for index, _ in mine], taken))
                    copy_rows = [row for row in lookup if row in by_row_copies]
                    if copy_rows:
                        positions = np.array(copy_rows, dtype=np.int64) - offset
                        heres = batch.take(pa.array(positions)).to_pylist()
                        befores = batch.take(pa.array(np.maximum(positions - 1, 0))).to_pylist()
                        for row, position, here, before in zip(copy_rows, positions, heres, befores):
                            seen.copies[by_row_copies[row]] = (here, before if position > 0 else previous or {})
                    if n:
                        previous = batch.slice(n - 1, 1).to_pylist()[0] if by_row_copies else None
                    offset += n
                    yield batch
            seen.written_rows = offset

        # the clean rows keep the written files' types (dictionaries, Parquet's time units), as
        # the files of a clean output would have them
        writer = None
        try:
            for batch in clean_batches(dirty(), labels):
                if writer is None:
                    writer = pq.ParquetWriter(self.root / name / "part-00000.parquet", batch.schema, compression="none")
                writer.write_batch(batch)
            if writer is None:
                pq.write_table(schema.empty_table(), self.root / name / "part-00000.parquet")
        finally:
            if writer is not None:
                writer.close()

    def key(self, name: str) -> str | None:
        """The table's key column, which labels carry."""
        return key_column(self.plan, self.plan.table(name))

    def clean_batches(self, name: str, block_rows: int) -> Iterator[pa.RecordBatch]:
        """The clean rows of a damaged table, from the temporary copy."""
        import pyarrow.parquet as pq

        yield from pq.ParquetFile(self.root / name / "part-00000.parquet").iter_batches(batch_size=block_rows)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def clean_copy(plan: Plan, folder: Path) -> CleanCopy | None:
    return CleanCopy(plan, folder) if has_defects(plan) else None


def text_of(value: pa.Scalar) -> str | None:
    if not value.is_valid:
        return None
    return as_text(pa.array([value.as_py()], value.type))[0].as_py() if not isinstance(value.as_py(), str) \
        else value.as_py()


__all__ = ["CleanCopy", "clean_copy", "read_labels", "text_of", "np", "pc"]
