"""Running validation: while an engine generates (it hands over each block, then the checks run
on the staged files before they are committed), or over an output folder already written.

Both paths feed the same accumulators with the same blocks: a folder is streamed back a
block at a time (row groups hold whole blocks), so re-validating never needs a table in memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa

from fabula.errors import OutputError
from fabula.manifest import MANIFEST, FileEntry, Manifest, plan_from_manifest, read_manifest
from fabula.plan.model import Plan
from fabula.sinks.formats.read import file_rows, read_batches
from fabula.validate.accumulate import Accumulator
from fabula.validate.defects import CleanView, clean_view
from fabula.validate.evidence import Evidence
from fabula.validate.families import FAMILIES, integrity
from fabula.validate.families import defects as defects_family
from fabula.validate.partitioned import partitioned_parts
from fabula.validate.report import REPORT_HTML, REPORT_JSON, Report

__all__ = ["Validation", "validate_folder", "read_manifest", "plan_from_manifest", "write_reports",
           "render_reports", "MANIFEST"]


class Validation:
    """The statistics every family keeps for one plan, and the checks once the data is written.

    >>> import fabula, tempfile
    >>> from fabula.engine.local import run_local
    >>> from fabula.sinks import ParquetSink
    >>> plan = fabula.compile_plan("retail", scale=0.05)
    >>> validation = Validation(plan)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     manifest = run_local(plan, ParquetSink(f"{folder}/out"), observe=validation.observe,
    ...                          reports=validation.finish)
    ...     print(validation.report.verdict, [entry.path for entry in manifest.reports])
    warn ['report.json', 'report.html']
    """

    def __init__(self, plan: Plan):
        self.plan = plan
        self.statistics = [statistic for family in FAMILIES if hasattr(family, "statistics")
                           for statistic in family.statistics(plan)]
        self.accumulator = Accumulator(plan, self.statistics)
        self.clean = clean_view(plan)
        """Defects (issue 14): the clean blocks of the damaged tables, kept for the SQL checks."""
        self.report: Report | None = None
        """Set by `finish`: the report written with the output."""

    def observe(self, table: str, block: int, batch: pa.RecordBatch) -> None:
        """Summarise one generated block (thread-safe; every block exactly once)."""
        self.accumulator.observe(table, block, batch, generated=True)
        if self.clean is not None:
            self.clean.spool(table, block, batch)

    def witness(self, table: str, block: int, dirty: pa.RecordBatch, labels: pa.Table, first_row: int) -> None:
        """Defects: see one damaged block as written, with its labels (thread-safe; every
        block exactly once), so the labels are checked without reading the files back."""
        if self.clean is not None:
            self.clean.witness(table, block, dirty, labels, first_row)

    def check(self, folder: Path, listing: integrity.Listing) -> Report:
        """Every family's checks, over the summaries and the Parquet files in `folder`, after
        the integrity of the files `listing` names. With defects, the checks see the clean
        rows spooled from the observed blocks (any table not spooled is rebuilt from the files
        and labels), and the defects family checks the labels against the files."""
        clean = self.clean.read(Path(folder)) if self.clean is not None else None
        evidence = Evidence(self.plan, self.statistics, self.accumulator.states(), self.accumulator.rows(),
                            Path(folder), clean)
        try:
            checks = (*integrity.checks(Path(folder), listing),
                      *(check for family in FAMILIES for check in family.checks(evidence)),
                      *(defects_family.checks(evidence) if clean is not None else ()))
        finally:
            evidence.close()
            if clean is not None:
                clean.close()
        plan = self.plan
        return Report(dataset=plan.name, seed=plan.seed, as_of=plan.as_of.isoformat(), scale=plan.scale,
                      spec_hash=plan.spec_hash, rows=self.accumulator.rows(), checks=checks)

    def finish(self, folder: Path, parts: Iterable) -> dict[str, bytes]:
        """Check the staged output made of `parts` (`PartWritten`s, each just hashed by the
        sink); return the reports to stage beside the data, by file name."""
        tables: dict[str, list[FileEntry]] = {table.name: [] for table in self.plan.tables}
        for part in sorted(parts, key=lambda p: (p.table, p.part, p.path)):
            tables[part.table].append(FileEntry(path=part.path, rows=part.rows, bytes=part.bytes,
                                                sha256=part.sha256))
        listing = integrity.Listing({name: tuple(entries) for name, entries in tables.items()},
                                    verify_checksums=False)
        self.report = self.check(folder, listing)
        return render_reports(self.report)


def render_reports(report: Report) -> dict[str, bytes]:
    """report.json and report.html, as bytes by file name."""
    from fabula.validate.html import render_html

    return {REPORT_JSON: report.to_json().encode("utf-8"), REPORT_HTML: render_html(report).encode("utf-8")}


def write_reports(report: Report, folder: Path) -> list[str]:
    """report.json and report.html in `folder`, each replaced whole (never half-written)."""
    written = []
    for name, data in render_reports(report).items():
        temporary = folder / f".{name}.tmp"
        temporary.write_bytes(data)
        os.replace(temporary, folder / name)
        written.append(name)
    return written


# -- an existing folder ------------------------------------------------------------------------------


def validate_folder(folder: str | Path, *, workers: int | None = None,
                    write: bool = True, allow_large: bool = False, plan: Plan | None = None) -> Report:
    """Re-check an output folder against the spec, seed, as_of and scale its manifest records,
    streaming its files through the same statistics as generation; write the reports into it.
    `plan` is the plan that wrote it when the caller has it already (one batch of an appended
    output, built on the batches before it); by default it is rebuilt from the manifest.

    Nothing is trusted: the files are checked against the manifest's sizes and checksums, and
    the manifest against its digest (the `integrity` family), before the data is."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if plan is None:
        plan = plan_from_manifest(manifest, folder, allow_large=allow_large)  # a folder is input too: same bounds
    listing = integrity.Listing({name: table.files for name, table in manifest.tables.items()},
                                reports=manifest.reports, digest_matches=manifest.digest_matches,
                                spec_hash_matches=manifest.spec_hash == plan.spec_hash)
    validation = Validation(plan)
    try:
        _stream(folder, manifest, plan, validation.accumulator, workers or os.cpu_count() or 1, validation.clean)
        report = validation.check(folder, listing)
    finally:
        if validation.clean is not None:
            validation.clean.close()
    if write:
        try:
            write_reports(report, folder)
        except OSError as error:
            raise OutputError(f"cannot write the reports into {folder}: {error.strerror}",
                              hint="copy the folder somewhere writable, or pass write=False") from None
    return report


def _stream(folder: Path, manifest: Manifest, plan: Plan, accumulator: Accumulator, workers: int,
            clean: CleanView | None = None) -> None:
    """Every table's listed files that are there (the integrity checks name the missing ones),
    cut into the plan's blocks and summarised on a few threads."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fabula-validate") as pool:
        in_flight: list[Future] = []
        for table in plan.tables:
            entry = manifest.tables.get(table.name)
            entries = entry.files if entry is not None else []
            listed = [folder / file.path for file in entries]
            files = [path for path in listed if path.is_file() and not path.is_symlink()]
            damaged = clean if clean is not None and table.name in clean.tables else None
            if damaged is not None:  # defects (issue 14): the clean rows, rebuilt from the files and labels
                damaged.read_labels(folder)
                blocks = _cut(damaged.from_files(folder, table.name), table.block_rows)
                aligned = True  # cut from the clean rows, whatever the copies did to the files' row groups
            else:
                aligned = _row_count(files) == table.rows
                blocks = _read_blocks(files, table.block_rows, table.schema)
                if table.partition_by and aligned:  # formats (issue 13): rows back in the plan's order
                    ordered = partitioned_parts(plan, table, entries, folder)
                    blocks, aligned = (ordered, True) if ordered is not None else (blocks, False)
            for block, batch in enumerate(blocks):
                if damaged is not None:
                    damaged.spool(table.name, block, batch)  # the SQL checks' view of the table
                in_flight.append(pool.submit(accumulator.observe, table.name, block, batch, aligned=aligned))
                while len(in_flight) > 2 * workers:  # bounded: a few blocks in memory
                    in_flight.pop(0).result()
        for future in in_flight:
            future.result()


def _row_count(files: list[Path]) -> int:
    total = 0
    for path in files:
        try:
            total += file_rows(path)  # formats (issue 13): Parquet, CSV or JSON Lines parts
        except (OSError, pa.ArrowException) as error:
            raise OutputError(f"cannot read {path}: {str(error).splitlines()[0][:300]}",
                              hint="the file is damaged or was changed after fabula wrote it; "
                                   "re-generate the data") from None
    return total


def _read_blocks(files: list[Path], block_rows: int,
                 schema: pa.Schema | None = None) -> Iterator[pa.Table | pa.RecordBatch]:
    """`_blocks`, with a damaged file (a corrupt page, a truncated footer) as one clear error."""
    iterator = _blocks(files, block_rows, schema)
    while True:
        try:
            batch = next(iterator)
        except StopIteration:
            return
        except (OSError, pa.ArrowException) as error:
            raise OutputError(f"cannot read the data in {files[0].parent}: {str(error).splitlines()[0][:300]}",
                              hint="the file is damaged or was changed after fabula wrote it; "
                                   "re-generate the data") from None
        yield batch


def _blocks(files: list[Path], block_rows: int, schema: pa.Schema | None = None) -> Iterator[pa.Table | pa.RecordBatch]:
    """The files' rows in blocks of `block_rows` (fabula's row groups hold whole blocks, so this
    is normally one batch a block; files written otherwise are re-cut)."""
    return _cut((batch for path in files for batch in read_batches(path, schema, batch_rows=block_rows)),
                block_rows)


def _cut(batches: Iterable[pa.RecordBatch], block_rows: int) -> Iterator[pa.Table | pa.RecordBatch]:
    """Batches re-cut into blocks of `block_rows`."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        while batch.num_rows:
            take = min(block_rows - count, batch.num_rows)
            pending.append(batch.slice(0, take))
            count += take
            batch = batch.slice(take)
            if count == block_rows:
                yield _joined(pending)
                pending, count = [], 0
    if count:
        yield _joined(pending)


def _joined(pieces: list[pa.RecordBatch]) -> pa.Table | pa.RecordBatch:
    if len(pieces) == 1:
        return pieces[0]
    return pa.Table.from_batches(pieces).unify_dictionaries().combine_chunks()
