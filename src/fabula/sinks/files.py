"""Folders of part files in any format (Parquet, Delta, CSV, JSON Lines), written a new output
at a time or appended to one fabula wrote before.

A new output goes through the same staging folder and rename as Parquet (`fabula.sinks.folder`).
An append stages the new batch's files in a hidden folder beside the target, then commits in
an order that never shows a half batch as complete: the part files are renamed into the
table folders (each under a name no earlier batch used), a Delta table's log gets one commit
per table, and the manifest, which lists every file of every batch, is replaced last
(`os.replace`). A reader that trusts the manifest (or the Delta log) sees the batch whole or
not at all; one that globs the folder may see the new files a moment before the manifest.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Iterable

import pyarrow as pa

from fabula.errors import OutputError, UsageError
from fabula.plan.model import Plan, TablePlan
from fabula.sinks.base import PartWritten
from fabula.sinks.folder import MANIFEST, MODES, StagedFolder, check_target
from fabula.sinks.formats.registry import FORMATS, part_format
from fabula.sinks.parquet import COMPRESSIONS

WRITE_MODES = (*MODES, "append")


def part_name(table: str, part: int, extension: str, batch: int = 0) -> str:
    """A part's path relative to the output. Batch 0 keeps the plain names a single run
    writes, so the first batch of an append is the same output as `generate`.

    >>> part_name("orders", 3, "csv"), part_name("orders", 3, "csv", batch=2)
    ('orders/part-00003.csv', 'orders/part-b00002-00003.csv')
    """
    if batch == 0:
        return f"{table}/part-{part:05d}.{extension}"
    return f"{table}/part-b{batch:05d}-{part:05d}.{extension}"


class FilesSink:
    """Writes `DIR/<table>/part-NNNNN.<ext>`… and `DIR/manifest.json` in one of `FORMATS`.

    With `mode="append"`, `batch` numbers the batch (see `fabula.engine.append`, which also
    decides its seed, time window and ids)."""

    def __init__(self, out: str | Path, *, output_format: str = "parquet", mode: str = "error",
                 compression: str = "snappy", batch: int = 0):
        if compression not in COMPRESSIONS:
            raise UsageError(f"unknown compression {compression!r}", hint=f"use one of: {', '.join(COMPRESSIONS)}")
        if mode not in WRITE_MODES:
            raise OutputError(f"unknown write mode {mode!r}", hint=f"use one of: {', '.join(WRITE_MODES)}")
        if output_format not in FORMATS:
            raise UsageError(f"unknown output format {output_format!r}", hint=f"use one of: {', '.join(FORMATS)}")
        if output_format == "delta":
            from fabula.sinks.formats.delta import require_deltalake

            require_deltalake()
        self.target = Path(out)
        self.mode = mode
        self.output_format = output_format
        self.format = part_format(output_format, compression=compression)
        self.batch = batch
        self._staged: StagedFolder | None = None
        self._plan: Plan | None = None
        self._written: list[PartWritten] = []  # list.append is atomic: parts come from many threads
        self._extra: list[tuple[PartWritten, pa.Schema, str | None]] = []

    @property
    def appending(self) -> bool:
        return self.mode == "append" and (self.target / MANIFEST).is_file()

    def open(self, plan: Plan) -> None:
        if not self.appending:
            check_target(self.target, "overwrite" if self.mode == "append" else self.mode)
        self._plan = plan
        self._staged = StagedFolder(self.target)
        root = self._staged.create()
        for table in plan.tables:
            (root / table.name).mkdir()

    @property
    def staging(self) -> Path | None:
        return self._staged.path if self._staged is not None else None

    def write_part(self, table: TablePlan, part: int, row_groups: Iterable[pa.Table]) -> PartWritten:
        relative = part_name(table.name, part, self.format.extension, self.batch)
        path = self._staged.path / relative
        schema = self.format.file_schema(table.schema)
        groups = (group.cast(schema) for group in row_groups) if schema != table.schema else row_groups
        try:
            rows = self.format.write(str(path), schema, groups)
        except OSError as error:
            raise OutputError(f"cannot write {self.target / relative}: {error}",
                              hint="check the disk and the folder's permissions") from None
        written = PartWritten(table.name, part, relative, rows, path.stat().st_size)
        self._written.append(written)
        return written

    def write_table(self, name: str, rows: pa.Table, *, description: str | None = None) -> PartWritten:
        """A table made outside the plan (a change feed), as one part file in this format."""
        (self._staged.path / name).mkdir(exist_ok=True)
        relative = part_name(name, 0, self.format.extension, self.batch)
        path = self._staged.path / relative
        schema = self.format.file_schema(rows.schema)
        written_rows = self.format.write(str(path), schema, [rows.cast(schema)])
        written = PartWritten(name, 0, relative, written_rows, path.stat().st_size)
        self._extra.append((written, rows.schema, description))
        return written

    def commit(self, manifest: dict[str, Any]) -> None:
        staged = self._staged.path
        if self.output_format == "delta":
            self._commit_delta(staged if not self.appending else self.target, manifest)
        text = json.dumps(manifest, indent=2, default=str) + "\n"
        if not self.appending:
            (staged / MANIFEST).write_text(text, encoding="utf-8")
            self._staged.commit()
            return
        for table in manifest["tables"]:
            (self.target / table).mkdir(exist_ok=True)
        for entry in sorted(staged.glob("*/*")):
            os.replace(entry, self.target / entry.relative_to(staged))
        for report in manifest.get("reports", []):
            if (staged / report).is_file():
                os.replace(staged / report, self.target / report)
        temporary = self.target / f".{MANIFEST}.{uuid.uuid4().hex[:8]}.tmp"
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, self.target / MANIFEST)  # the commit point of the batch
        shutil.rmtree(staged, ignore_errors=True)

    def _commit_delta(self, root: Path, manifest: dict[str, Any]) -> None:
        """One Delta commit per table, adding this batch's files (moved into place first when
        appending, since the log must only name files that exist)."""
        from fabula.sinks.formats.delta import DataFile, commit_table

        plan = self._plan
        staged = self._staged.path
        if self.appending:
            for entry in sorted(staged.glob("*/*.parquet")):
                (self.target / entry.parent.name).mkdir(exist_ok=True)
                os.replace(entry, self.target / entry.relative_to(staged))
        for table in plan.tables:
            prefix = f"{table.name}/"
            files = [DataFile(path=part.path[len(prefix):], rows=part.rows, bytes=part.bytes, partition_values={})
                     for part in sorted(self._written, key=lambda p: p.part) if part.table == table.name]
            spec = plan.spec.tables.get(table.name)
            descriptions = {name: column.description for name, column in (spec.columns.items() if spec else ())
                            if column.description}
            commit_table(root / table.name, table.schema, files, name=table.name,
                         description=spec.description if spec else None, descriptions=descriptions,
                         append=self.appending and (self.target / table.name / "_delta_log").is_dir())
        for part, schema, description in self._extra:
            commit_table(root / part.table, schema,
                         [DataFile(path=part.path.split("/", 1)[1], rows=part.rows, bytes=part.bytes, partition_values={})],
                         name=part.table, description=description, descriptions={})

    def abort(self) -> None:
        if self._staged is not None:
            self._staged.discard()

