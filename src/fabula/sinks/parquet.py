"""Parquet: one folder per table of part files, plus a manifest, committed atomically."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any, Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from fabula.errors import UsageError
from fabula.plan.model import Plan, TablePlan
from fabula.sinks.base import PartWritten
from fabula.sinks.folder import MANIFEST, StagedFolder, check_target
from fabula.sinks.parquet_options import writer_options

COMPRESSIONS = ("snappy", "zstd", "gzip", "lz4", "none")


class ParquetSink:
    """Writes `DIR/<table>/part-00000.parquet`… and `DIR/manifest.json`.

    Low-cardinality strings arrive dictionary-encoded and stay so; dates and integers with few
    values are dictionary-encoded too, other columns written plain (`parquet_options.py`)."""

    def __init__(self, out: str | Path, *, mode: str = "error", compression: str = "snappy"):
        if compression not in COMPRESSIONS:
            raise UsageError(f"unknown compression {compression!r}",
                             hint=f"use one of: {', '.join(COMPRESSIONS)}")
        self.target = Path(out)
        self.mode = mode
        self.compression = compression
        self._staged: StagedFolder | None = None

    def open(self, plan: Plan) -> None:
        check_target(self.target, self.mode)
        self._staged = StagedFolder(self.target)
        root = self._staged.create()
        for table in plan.tables:
            (root / table.name).mkdir()

    @property
    def staging(self) -> Path | None:
        """The hidden folder being written until `commit` renames it into place."""
        return self._staged.path if self._staged is not None else None

    def write_part(self, table: TablePlan, part: int, row_groups: Iterable[pa.Table]) -> PartWritten:
        relative = f"{table.name}/part-{part:05d}.parquet"
        path = self._staged.path / relative
        groups = iter(row_groups)
        first = next(groups, None)  # per-column settings look at the first row group's values
        rows = 0
        with pq.ParquetWriter(path, table.schema, compression=self.compression,
                              **writer_options(table.schema, first)) as writer:
            for group in itertools.chain([first] if first is not None else [], groups):
                writer.write_table(group, row_group_size=max(len(group), 1))
                rows += len(group)
        return PartWritten(table.name, part, relative, rows, path.stat().st_size)

    def commit(self, manifest: dict[str, Any]) -> None:
        text = json.dumps(manifest, indent=2, sort_keys=False, default=str)
        (self._staged.path / MANIFEST).write_text(text + "\n", encoding="utf-8")
        self._staged.commit()

    def abort(self) -> None:
        if self._staged is not None:
            self._staged.discard()
