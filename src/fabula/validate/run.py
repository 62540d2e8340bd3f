"""Running validation: while an engine generates (it hands over each block, then the checks run
on the staged files before they are committed), or over an output folder already written.

Both paths feed the same accumulators with the same blocks: a folder is streamed back a
block at a time (row groups hold whole blocks), so re-validating never needs a table in memory.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from fabula.errors import OutputError, SpecError
from fabula.plan.model import Layout, Plan
from fabula.sinks.formats.read import file_rows, read_batches
from fabula.validate.accumulate import Accumulator
from fabula.validate.evidence import Evidence
from fabula.validate.families import FAMILIES
from fabula.validate.report import REPORT_HTML, REPORT_JSON, Report
from fabula.validate.statistics import ComputeColumns

MANIFEST = "manifest.json"


class Validation:
    """The statistics every family keeps for one plan, and the checks once the data is written.

    >>> import fabula, tempfile
    >>> from fabula.engine.block import generate_columns
    >>> from fabula.engine.local import run_local
    >>> from fabula.sinks import ParquetSink
    >>> plan = fabula.compile_plan("retail", scale=0.05)
    >>> validation = Validation(plan, compute=generate_columns)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     manifest = run_local(plan, ParquetSink(f"{folder}/out"), observe=validation.observe,
    ...                          before_commit=validation.finish)
    ...     print(validation.report.verdict, manifest["reports"])
    warn ['report.json', 'report.html']
    """

    def __init__(self, plan: Plan, *, compute: ComputeColumns | None = None):
        self.plan = plan
        self.statistics = [statistic for family in FAMILIES if hasattr(family, "statistics")
                           for statistic in family.statistics(plan)]
        self.accumulator = Accumulator(plan, self.statistics, compute=compute)
        self.report: Report | None = None
        """Set by `finish`: the report written with the output."""

    def observe(self, table: str, block: int, batch: pa.RecordBatch) -> None:
        """Summarise one generated block (thread-safe; every block exactly once)."""
        self.accumulator.observe(table, block, batch, generated=True)

    def check(self, folder: Path) -> Report:
        """Every family's checks, over the summaries and the Parquet files in `folder`."""
        evidence = Evidence(self.plan, self.statistics, self.accumulator.states(), self.accumulator.rows(),
                            Path(folder))
        try:
            checks = tuple(check for family in FAMILIES for check in family.checks(evidence))
        finally:
            evidence.close()
        plan = self.plan
        return Report(dataset=plan.name, seed=plan.seed, as_of=plan.as_of.isoformat(), scale=plan.scale,
                      spec_hash=plan.spec_hash, rows=self.accumulator.rows(), checks=checks)

    def finish(self, folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
        """Check the staged output, write the reports beside the data, and list them in the manifest."""
        self.report = self.check(folder)
        return {**manifest, "reports": write_reports(self.report, Path(folder))}


def write_reports(report: Report, folder: Path) -> list[str]:
    """report.json and report.html in `folder`, each replaced whole (never half-written)."""
    from fabula.validate.html import render_html

    written = []
    for name, text in ((REPORT_JSON, report.to_json()), (REPORT_HTML, render_html(report))):
        temporary = folder / f".{name}.tmp"
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, folder / name)
        written.append(name)
    return written


# -- an existing folder ------------------------------------------------------------------------------


def validate_folder(folder: str | Path, *, compute: ComputeColumns | None = None, workers: int | None = None,
                    write: bool = True) -> Report:
    """Re-check an output folder against the spec, seed, as_of and scale its manifest records,
    streaming its files through the same statistics as generation; write the reports into it."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    plan = plan_from_manifest(manifest, folder)
    validation = Validation(plan, compute=compute)
    _stream(folder, manifest, plan, validation.accumulator, workers or os.cpu_count() or 1)
    report = validation.check(folder)
    if write:
        try:
            write_reports(report, folder)
        except OSError as error:
            raise OutputError(f"cannot write the reports into {folder}: {error.strerror}",
                              hint="copy the folder somewhere writable, or pass write=False") from None
    return report


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not folder.is_dir():
        raise OutputError(f"{folder} is not a folder", hint="give the folder `fabula generate --out` wrote")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OutputError(f"{folder} has no {MANIFEST}, so it was not written by fabula",
                          hint="give the folder `fabula generate --out` wrote") from None
    except (OSError, ValueError) as error:
        raise OutputError(f"cannot read {path}: {error}", hint="regenerate the data") from None
    missing = [key for key in ("spec", "seed", "as_of", "scale", "tables") if key not in manifest]
    if missing:
        raise OutputError(f"{path} has no {', '.join(missing)}", hint="regenerate the data with this fabula")
    return manifest


def plan_from_manifest(manifest: dict[str, Any], folder: Path) -> Plan:
    """The plan that wrote the folder: its spec, seed, as_of, scale and layout, as recorded."""
    from fabula.plan import compile_plan
    from fabula.spec.canonical import from_canonical

    types = {table: {column["name"]: column["type"] for column in info.get("columns", [])}
             for table, info in manifest["tables"].items()}
    try:
        spec = from_canonical(manifest["spec"], column_types=types)
    except (ValueError, SpecError) as error:
        raise OutputError(f"cannot rebuild the spec recorded in {folder / MANIFEST}: {error}",
                          hint="regenerate the data with this version of fabula") from None
    layout = manifest.get("layout") or {}
    options: dict[str, Any] = {}
    if layout.get("block_rows"):
        options["block_rows"] = layout["block_rows"]
    if layout.get("blocks_per_file") and layout.get("blocks_per_row_group"):
        options["layout"] = Layout(blocks_per_file=layout["blocks_per_file"],
                                   blocks_per_row_group=layout["blocks_per_row_group"])
    return compile_plan(spec, seed=manifest["seed"], scale=manifest["scale"],
                        as_of=date.fromisoformat(manifest["as_of"]), **options)


def _stream(folder: Path, manifest: dict[str, Any], plan: Plan, accumulator: Accumulator, workers: int) -> None:
    """Every table's files, cut into the plan's blocks and summarised on a few threads."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fabula-validate") as pool:
        in_flight: list[Future] = []
        for table in plan.tables:
            files = [folder / name for name in manifest["tables"].get(table.name, {}).get("files", [])]
            if not files:
                files = sorted((folder / table.name).glob("*.parquet"))
            aligned = _row_count(files) == table.rows
            for block, batch in enumerate(_blocks(files, table.block_rows, table.schema)):
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
            raise OutputError(f"cannot read {path}: {error}", hint="the folder is damaged; regenerate it") from None
    return total


def _blocks(files: list[Path], block_rows: int, schema: pa.Schema | None = None) -> Iterator[pa.Table | pa.RecordBatch]:
    """The files' rows in blocks of `block_rows` (fabula's row groups hold whole blocks, so this
    is normally one batch a block; files written otherwise are re-cut)."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for path in files:
        for batch in read_batches(path, schema, batch_rows=block_rows):
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
