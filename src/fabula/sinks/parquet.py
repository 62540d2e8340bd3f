"""Parquet: one folder per table of part files, plus the reports and a manifest, committed
atomically through the folder protocol (`fabula.sinks.folder`)."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from fabula.errors import UsageError
from fabula.manifest import file_sha256
from fabula.plan.model import TablePlan
from fabula.sinks.base import PartWritten
from fabula.sinks.folder import FolderSink, write_errors

COMPRESSIONS = ("snappy", "zstd", "gzip", "lz4", "none")


@dataclass(frozen=True)
class ParquetPartWriter:
    """Writes `<table>/part-NNNNN.parquet` under `root` (a staging folder). Plain values only,
    so it pickles to a Spark executor that sees the same path.

    Low-cardinality strings arrive dictionary-encoded and stay so; other columns are written
    plain, which is faster than letting the writer try a dictionary on every column."""

    root: str
    target: str
    compression: str

    def write(self, table: TablePlan, part: int, row_groups: Iterable[pa.Table]) -> PartWritten:
        relative = f"{table.name}/part-{part:05d}.parquet"
        path = Path(self.root) / relative
        # written under a name of its own, then renamed: a Spark task retried or run twice
        # (speculation) never leaves half a file or two writers in one file
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        dictionary_columns = [f.name for f in table.schema if pa.types.is_dictionary(f.type)]
        rows = 0
        with write_errors(Path(self.target), f"writing {relative}"):
            path.parent.mkdir(exist_ok=True)
            try:
                with pq.ParquetWriter(temporary, table.schema, compression=self.compression,
                                      use_dictionary=dictionary_columns or False) as writer:
                    for group in row_groups:
                        writer.write_table(group, row_group_size=max(len(group), 1))
                        rows += len(group)
                os.replace(temporary, path)
            finally:
                if temporary.exists():
                    temporary.unlink()
            return PartWritten(table.name, part, relative, rows, path.stat().st_size, file_sha256(path))


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
