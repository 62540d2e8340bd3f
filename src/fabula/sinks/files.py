"""Folders of part files in any format (Parquet, Delta, CSV, JSON Lines) through the folder
protocol (`fabula.sinks.folder`: lock, ownership checks, staging, commit), written as a new
output or appended to one fabula wrote before.

The format-specific part is only `FormatPartWriter`: "write these row groups as one part file"
(`fabula.sinks.formats`). A Delta table additionally gets its `_delta_log` commit (deltalake)
over the parts just before the output is committed.

**Append.** Under the target's lock, the target is checked exactly as for an overwrite (a
fabula output, nothing unlisted in it); the batch is written and checked in a staging folder
beside it. The commit then never shows a half batch as complete: the part files are renamed
into the table folders (each under a name no earlier batch used), a Delta table gets one
commit per table, and the manifest, which lists every file of every batch, is replaced last
(`os.replace`). A reader that trusts the manifest (or the Delta log) sees the batch whole or
not at all; one that globs the folder may see the new files a moment before the manifest.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa

from fabula.errors import OutputError, UsageError
from fabula.manifest import MANIFEST, FileEntry, Manifest, TableEntry, file_sha256, read_manifest
from fabula.plan.model import Plan, TablePlan
from fabula.sinks.base import Capabilities, PartWritten, Written
from fabula.sinks.choices import COMPRESSIONS, WRITE_MODES
from fabula.sinks.folder import FolderSink, OutputBusyError, write_errors
from fabula.sinks.formats.registry import FORMATS, part_format


def part_name(table: str, part: int, extension: str, batch: int = 0) -> str:
    """A part's path relative to the output. Batch 0 keeps the plain names a single run
    writes, so the first batch of an append is the same output as `generate`.

    >>> part_name("orders", 3, "csv"), part_name("orders", 3, "csv", batch=2)
    ('orders/part-00003.csv', 'orders/part-b00002-00003.csv')
    """
    if batch == 0:
        return f"{table}/part-{part:05d}.{extension}"
    return f"{table}/part-b{batch:05d}-{part:05d}.{extension}"


@dataclass(frozen=True)
class FormatPartWriter:
    """Writes `<table>/part-NNNNN.<ext>` under `root` (a staging folder) in `output_format`.
    Plain values only, so it pickles to a Spark executor that sees the same path. Each file is
    written under a temporary name and renamed, so a retried task never leaves half a file."""

    root: str
    target: str
    output_format: str
    compression: str = "snappy"
    batch: int = 0

    def write(self, table: TablePlan, part: int, row_groups: Iterable[pa.Table]) -> Written:
        fmt = part_format(self.output_format, compression=self.compression)
        relative = part_name(table.name, part, fmt.extension, self.batch)
        return write_part_files(Path(self.root), Path(self.target), table, relative, part, row_groups, fmt)


def write_part_files(root: Path, target: Path, table: TablePlan, relative: str, part: int,
                     row_groups: Iterable[pa.Table], fmt) -> Written:
    """A part as `relative` (`<table>/part-….<ext>`), or, for a table with `partition_by:`, as
    a file of that name in each partition folder its rows fall in."""
    if table.partition_by:
        from fabula.sinks.formats.partitions import write_partitioned

        return write_partitioned(root, target, table.name, relative.rsplit("/", 1)[1], part, table.schema,
                                 table.partition_by, row_groups, fmt)
    return write_file(root, target, relative, table.name, part, table.schema, row_groups, fmt)


def write_file(root: Path, target: Path, relative: str, table: str, part: int, schema: pa.Schema,
               row_groups: Iterable[pa.Table], fmt) -> PartWritten:
    path = root / relative
    file_schema = fmt.file_schema(schema)
    groups = (group.cast(file_schema) for group in row_groups) if file_schema != schema else row_groups
    with write_errors(target, f"writing {relative}"):
        path.parent.mkdir(exist_ok=True)
        rows = fmt.write_whole(path, file_schema, groups)
        return PartWritten(table, part, relative, rows, path.stat().st_size, file_sha256(path))


class FilesSink(FolderSink):
    """`DIR/<table>/part-NNNNN.<ext>`…, the reports and `DIR/manifest.json`, in one of `FORMATS`.

    With `mode="append"`, `batch` numbers the batch and `amend` turns the batch's manifest into
    the folder's (history and totals; see `fabula.engine.append`)."""

    capabilities = Capabilities(atomic_commit=True, shared_staging=True, append=True)

    def __init__(self, out: str | Path, *, output_format: str = "parquet", mode: str = "error",
                 compression: str = "snappy", batch: int = 0,
                 amend: Callable[[Manifest], Manifest] | None = None):
        if compression not in COMPRESSIONS:
            raise UsageError(f"unknown compression {compression!r}", hint=f"use one of: {', '.join(COMPRESSIONS)}")
        if mode not in WRITE_MODES:
            raise OutputError(f"unknown write mode {mode!r}", hint=f"use one of: {', '.join(WRITE_MODES)}")
        if output_format not in FORMATS:
            raise UsageError(f"unknown output format {output_format!r}", hint=f"use one of: {', '.join(FORMATS)}")
        if output_format == "delta":
            from fabula.sinks.formats.delta import require_deltalake

            require_deltalake()
        folder_mode = mode
        if mode == "append":  # an existing output is checked as for an overwrite, then added to
            folder_mode = "overwrite" if (Path(out) / MANIFEST).is_file() else "error"
        super().__init__(out, mode=folder_mode)
        self.write_mode = mode
        self.output_format = output_format
        self.compression = compression
        self.batch = batch
        self.amend = amend
        self.committed: Manifest | None = None
        """The manifest as committed (after `amend` and the change tables)."""
        self._plan: Plan | None = None
        self._extra: dict[str, tuple[TableEntry, str | None, pa.Schema]] = {}

    @property
    def appending(self) -> bool:
        """True while adding a batch to an existing output (known once open)."""
        return self.write_mode == "append" and self._folder._replaces is not None

    def open(self, plan: Plan) -> None:
        refuse_drift(plan, self.write_mode, self.output_format)
        self._plan = plan
        super().open(plan)

    def part_writer(self) -> FormatPartWriter:
        if self.staging is None:
            raise RuntimeError("open the sink before writing parts")
        return FormatPartWriter(str(self.staging), str(self.target), self.output_format, self.compression,
                                self.batch)

    def write_table(self, name: str, rows: pa.Table, *, description: str | None = None) -> PartWritten:
        """A table made outside the plan (a change feed), as one part file in this format,
        listed in the manifest at commit."""
        fmt = part_format(self.output_format, compression=self.compression)
        written = write_file(self.staging_folder, self.target, part_name(name, 0, fmt.extension, self.batch), name, 0,
                             rows.schema, [rows], fmt)
        entry = TableEntry(rows=written.rows, columns=tuple((field.name, str(field.type)) for field in rows.schema),
                           files=(FileEntry(path=written.path, rows=written.rows, bytes=written.bytes,
                                            sha256=written.sha256),))
        self._extra[name] = (entry, description, rows.schema)
        return written

    def commit(self, manifest: Manifest) -> None:
        if self._plan is not None and self.staging is not None:
            manifest = drift_files(self.staging, self.target, manifest, self._plan, self.output_format,
                                   self.compression)
        if self._extra:
            manifest = replace(manifest, tables={**manifest.tables,
                                                 **{name: entry for name, (entry, _, _) in self._extra.items()}})
        batch_manifest = manifest
        if self.amend is not None:
            manifest = self.amend(manifest)
            if self._plan is not None:
                manifest = with_schemas(manifest, self._plan)
        if not self.appending:
            if self.output_format == "delta":
                self._commit_delta(self.staging_folder, batch_manifest, append=False)
            self._folder.commit(manifest)
        else:
            self._commit_append(manifest, batch_manifest)
        self.committed = manifest

    def _commit_append(self, manifest: Manifest, batch_manifest: Manifest) -> None:
        folder, target, staged = self._folder, self.target, self.staging_folder
        try:
            current = read_manifest(target)
        except OutputError:
            current = None
        if current is None or current != folder._replaces:
            raise OutputBusyError(f"{target} changed while fabula was appending to it; it was left alone",
                                  hint="find out what else writes there, then run again")
        with write_errors(target, "moving the batch's files into place"):
            for table, entry in batch_manifest.tables.items():
                (target / table).mkdir(exist_ok=True)
                for file in entry.files:
                    (target / file.path).parent.mkdir(parents=True, exist_ok=True)  # a new partition's folder
                    os.replace(staged / file.path, target / file.path)
            for report in batch_manifest.reports:  # the ones this batch staged (the others stay)
                os.replace(staged / report.path, target / report.path)
        if self.output_format == "delta":
            self._commit_delta(target, batch_manifest, append=True)
        with write_errors(target, f"writing {MANIFEST}"):
            temporary = target / f".{MANIFEST}.{uuid.uuid4().hex[:8]}.tmp"
            temporary.write_text(manifest.to_json(), encoding="utf-8")
            os.replace(temporary, target / MANIFEST)  # the commit point of the batch
        folder.abort()  # the staging folder is empty of data now; remove it and release the lock

    def _commit_delta(self, root: Path, manifest: Manifest, *, append: bool) -> None:
        """One Delta commit per table over the files of `manifest` (this batch's)."""
        from fabula.sinks.formats.delta import commit_table, data_file

        plan = self._plan
        assert plan is not None, "open() keeps the plan, and only an open sink commits"
        tables = {table.name: table for table in plan.tables}
        for name, entry in manifest.tables.items():
            spec = plan.spec.tables.get(name)
            partition_by: tuple[str, ...] = ()
            descriptions: dict[str, str]
            if name in self._extra:
                schema, description, descriptions = self._extra[name][2], self._extra[name][1], {}
            else:
                from fabula.defects.drift import active, drifted_schema

                schema, partition_by = tables[name].schema, tables[name].partition_by
                schema = drifted_schema(schema, active(plan, name))  # a drifted batch's columns
                description = spec.description if spec else None
                descriptions = {column_name: column.description
                                for column_name, column in (spec.columns.items() if spec else ())
                                if column.description}
            files = [data_file(file.path.split("/", 1)[1], file.rows or 0, file.bytes) for file in entry.files]
            with write_errors(self.target, f"committing the Delta log of {name}"):
                commit_table(root / name, schema, files, name=name, description=description,
                             descriptions=descriptions, partition_by=partition_by,
                             append=append and (root / name / "_delta_log").is_dir())


def refuse_drift(plan: Plan, mode: str, output_format: str) -> None:
    """UsageError (exit code 2, before anything is written) for schema drift where a batch
    cannot have a schema of its own: a snapshot (one schema), or a retyped column in Delta."""
    for table in plan.tables:
        for index, defect in enumerate(getattr(plan.spec.tables.get(table.name), "defects", ()) or ()):
            if not defect.is_drift:
                continue
            where = f"tables.{table.name}.defects.{index}"
            if mode != "append":
                raise UsageError(f"{where}: schema drift (`kind: drift`, from_batch: {defect.from_batch}) changes the "
                                 "schema between append batches, and a run without --mode append writes one "
                                 "snapshot, with one schema",
                                 hint="write the batches with --mode append, or remove the drift entry "
                                      "(docs/defects.md#schema-drift)")
            if output_format == "delta" and defect.form == "retyped":
                raise UsageError(f"{where}: a Delta table cannot change the type of `{defect.column}` "
                                 f"(retyped to {defect.to}) in place; its schema evolves by added columns only",
                                 hint="append Parquet, CSV or JSON Lines (--format parquet) for a retyped column, "
                                      "or use form: added or renamed")


def drift_files(staging: Path, target: Path, manifest: Manifest, plan: Plan, output_format: str,
                compression: str) -> Manifest:
    """The batch's files of each table with a schema drift active in this batch rewritten in the
    drifted schema (`fabula.defects.drift`), and the manifest's entries for them updated.

    Done at commit, after the batch was validated as written in the spec's schema (what the
    checks compare with), so a drift costs one more pass over the drifted tables' files only."""
    from fabula.defects.drift import active, apply_drift, drifted_schema
    from fabula.sinks.formats.read import read_batches

    tables = dict(manifest.tables)
    fmt = part_format(output_format, compression=compression)
    for table in plan.tables:
        drifts = active(plan, table.name)
        if not drifts or table.name not in tables:
            continue
        schema, entry = drifted_schema(table.schema, drifts), tables[table.name]
        files = []
        for file in entry.files:
            rows = (apply_drift(pa.Table.from_batches([batch]).cast(table.schema), drifts)
                    for batch in read_batches(staging / file.path, table.schema))
            written = write_file(staging, target, file.path, table.name, 0, schema, rows, fmt)
            files.append(replace(file, bytes=written.bytes, sha256=written.sha256))
        tables[table.name] = replace(entry, files=tuple(files))
    return replace(manifest, tables=tables)


def with_schemas(manifest: Manifest, plan: Plan) -> Manifest:
    """The manifest with the schema each batch wrote recorded in its history entry, for every
    table that declares schema drift (`schema`: [[column, type], …])."""
    from fabula.defects.drift import active, declared, drifted_schema

    drifting = [table for table in plan.tables if declared(plan, table.name)]
    if not drifting or not manifest.batches:
        return manifest
    last = dict(manifest.batches[-1])
    last["schema"] = {table.name: [[field.name, str(field.type)]
                                   for field in drifted_schema(table.schema, active(plan, table.name))]
                      for table in drifting}
    return replace(manifest, batches=(*manifest.batches[:-1], last))


__all__ = ["FilesSink", "FormatPartWriter", "part_name", "write_part_files", "WRITE_MODES"]
