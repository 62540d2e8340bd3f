"""Reading a partitioned table back in the plan's row order, so that it is validated block by
block exactly like an unpartitioned one (formats, issue 13).

A part of a table with `partition_by:` is split over its partition folders (one file each,
rows in order within it), so reading the folders one after the other gives the rows grouped
by partition, not in row order. The order is known again from the plan: the partition columns
of each block are regenerated (only they, and what they read), each row's folder tells which
of the part's files its next row comes from, and the pieces are put back in place. Blocks then hold exactly
the plan's rows, so every check that regenerates hidden columns for a block still applies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa

from fabula.errors import OutputError
from fabula.manifest import FileEntry
from fabula.plan.model import Plan, TablePlan
from fabula.sinks.formats.partitions import row_folders
from fabula.sinks.formats.read import file_rows, read_batches

_PART = re.compile(r"^part-(?:b\d+-)?(\d+)\.[a-z]+$")


def partitioned_parts(plan: Plan, table: TablePlan, files: Sequence[FileEntry],
                      folder: Path) -> Iterator[pa.Table] | None:
    """The table's blocks in row order from its partition files, or None when the files are
    not as listed (then they are read as they are, not aligned)."""
    by_part: dict[int, dict[str, Path]] = {}
    prefix = f"{table.name}/"
    for entry in files:
        name = entry.path.rsplit("/", 1)[-1]
        match = _PART.match(name)
        path = folder / entry.path
        if match is None or not entry.path.startswith(prefix) or not path.is_file():
            return None
        partition = entry.path[len(prefix):-len(name) - 1]
        parts = by_part.setdefault(int(match.group(1)), {})
        if partition in parts or file_rows(path) != entry.rows:  # changed since it was listed
            return None
        parts[partition] = path
    return _blocks(plan, table, [by_part[part] for part in sorted(by_part)])


def _blocks(plan: Plan, table: TablePlan, parts: list[dict[str, Path]]) -> Iterator[pa.Table]:
    """Parts are runs of whole blocks, in order (the plan's layout, or however a Spark run cut
    them): each block's rows come from the part being read until its files are used up."""
    remaining = iter(parts)
    readers: dict[str, _Rows] = {}
    for block in range(table.n_blocks):
        while all(reader.exhausted() for reader in readers.values()):
            part = next(remaining, None)
            if part is None:
                raise _misplaced(table, "its part files")
            readers = {partition: _Rows(read_batches(path, table.schema, batch_rows=table.block_rows))
                       for partition, path in part.items()}
        keys = plan.columns(table, block, table.partition_by)
        folders, index = row_folders(pa.table({name: keys[name] for name in table.partition_by}),
                                     table.partition_by)
        order = np.argsort(index, kind="stable")
        pieces = []
        for partition, count in zip(folders, np.bincount(index, minlength=len(folders)).tolist()):
            reader = readers.get(partition)
            if reader is None:
                raise _misplaced(table, partition)
            pieces.extend(reader.take(count, table, partition))
        grouped = pa.Table.from_batches(pieces).unify_dictionaries().combine_chunks()
        back = np.empty_like(order)
        back[order] = np.arange(len(order))  # row i of the block is row back[i] of `grouped`
        yield grouped.take(pa.array(back))
    if not all(reader.exhausted() for reader in readers.values()) or next(remaining, None) is not None:
        raise _misplaced(table, "its part files")


class _Rows:
    """A file's batches, taken a number of rows at a time."""

    def __init__(self, batches: Iterator[pa.RecordBatch]):
        self._batches = batches
        self._pending: pa.RecordBatch | None = None

    def take(self, count: int, table: TablePlan, partition: str) -> list[pa.RecordBatch]:
        taken = []
        while count:
            if self._pending is None or not self._pending.num_rows:
                self._pending = next(self._batches, None)
                if self._pending is None:
                    raise _misplaced(table, partition)
                continue
            piece = self._pending.slice(0, min(count, self._pending.num_rows))
            self._pending = self._pending.slice(piece.num_rows)
            taken.append(piece)
            count -= piece.num_rows
        return taken

    def exhausted(self) -> bool:
        while self._pending is None or not self._pending.num_rows:
            self._pending = next(self._batches, None)
            if self._pending is None:
                return True
        return False


def _misplaced(table: TablePlan, where: str) -> OutputError:
    return OutputError(f"the files of {table.name} do not hold the rows the plan puts in {where}",
                       hint="the files were changed after fabula wrote them; re-generate the data")
