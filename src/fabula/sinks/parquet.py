"""Parquet: one folder per table of part files, plus the reports and a manifest, committed
atomically through the folder protocol (`fabula.sinks.folder`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from fabula.errors import UsageError
from fabula.plan.model import TablePlan
from fabula.sinks.base import Written
from fabula.sinks.choices import COMPRESSIONS
from fabula.sinks.files import part_name, write_part_files
from fabula.sinks.folder import FolderSink
from fabula.sinks.formats.registry import part_format


@dataclass(frozen=True)
class ParquetPartWriter:
    """Writes `<table>/part-NNNNN.parquet` under `root` (a staging folder). Plain values only,
    so it pickles to a Spark executor that sees the same path.

    Low-cardinality strings arrive dictionary-encoded and stay so; dates and integers with few
    values are dictionary-encoded too, other columns written plain (`parquet_options.py`)."""

    root: str
    target: str
    compression: str

    def write(self, table: TablePlan, part: int, row_groups: Iterable[pa.Table]) -> Written:
        # the same file writer as every format's (temporary name, then rename: a Spark task
        # retried or run twice never leaves half a file), so both engines write identical bytes
        parquet = part_format("parquet", compression=self.compression)
        return write_part_files(Path(self.root), Path(self.target), table,
                                part_name(table.name, part, parquet.extension), part, row_groups, parquet)


class ParquetSink(FolderSink):
    """Writes `DIR/<table>/part-00000.parquet`…, the reports and `DIR/manifest.json`."""

    output_format = "parquet"

    def __init__(self, out: str | Path, *, mode: str = "error", compression: str = "snappy"):
        if compression not in COMPRESSIONS:
            raise UsageError(f"unknown compression {compression!r}",
                             hint=f"use one of: {', '.join(COMPRESSIONS)}")
        super().__init__(out, mode=mode)
        self.compression = compression

    def part_writer(self) -> ParquetPartWriter:
        if self.staging is None:
            raise RuntimeError("open the sink before writing parts")
        return ParquetPartWriter(str(self.staging), str(self.target), self.compression)
