"""The `Sink` contract both engines drive: open, write parts (from any thread, or a pickled part
writer elsewhere), stage reports, commit with the manifest, abort. The folder protocol is the
same for any format: a second format only says how one part file is written."""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pyarrow as pa
import pyarrow.csv as csv
import pytest

import fabula
from fabula.engine.local import run_local
from fabula.manifest import MANIFEST, build_manifest, file_sha256, read_manifest
from fabula.plan.model import TablePlan
from fabula.sinks import Capabilities, FolderSink, ParquetSink, PartWritten, Sink
from fabula.sinks.folder import STAGING_MARKER, lock_path

SPEC = {"name": "tiny", "seed": 3, "as_of": "2024-06-30", "tables": {
    "a": {"rows": 50, "columns": {"id": {"kind": "sequence"}, "x": {"kind": "uniform", "low": 0, "high": 1}}},
    "b": {"rows": 20, "columns": {"id": {"kind": "sequence"}}}}}


@dataclass(frozen=True)
class CsvPartWriter:
    """A second format in a dozen lines: the folder protocol is reused whole."""

    root: str

    def write(self, table: TablePlan, part: int, row_groups: Iterable[pa.Table]) -> PartWritten:
        relative = f"{table.name}/part-{part:05d}.csv"
        path = Path(self.root) / relative
        schema = pa.schema([(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type)
                            for f in table.schema])
        rows = 0
        with csv.CSVWriter(path, schema) as writer:
            for group in row_groups:
                writer.write_table(group.cast(schema))
                rows += len(group)
        return PartWritten(table.name, part, relative, rows, path.stat().st_size, file_sha256(path))


class CsvSink(FolderSink):
    output_format = "csv"

    def part_writer(self) -> CsvPartWriter:
        return CsvPartWriter(str(self.staging))


def test_parquet_sink_is_a_sink():
    sink = ParquetSink("somewhere")
    assert isinstance(sink.capabilities, Capabilities)
    assert sink.capabilities.atomic_commit and sink.capabilities.shared_staging
    assert sink.output_format == "parquet"
    for method in ("open", "part_writer", "write_part", "stage_report", "commit", "abort"):
        assert callable(getattr(sink, method)), method
    _typed: Sink = sink  # noqa: F841  (the Protocol, for type checkers)


def test_the_contract_step_by_step(tmp_path):
    plan = fabula.compile_plan(SPEC)
    out = tmp_path / "out"
    sink = ParquetSink(out)
    assert sink.staging is None
    sink.open(plan)
    staging = sink.staging
    assert staging.is_dir() and (staging / STAGING_MARKER).is_file() and lock_path(out).is_file()
    assert not out.exists()
    writer = pickle.loads(pickle.dumps(sink.part_writer()))  # as a Spark task receives it
    from fabula.engine.local import row_groups

    parts = [writer.write(table, 0, row_groups(plan, table, plan.layout.parts(table)[0])) for table in plan.tables]
    entry = sink.stage_report("report.json", b'{"ok": true}')
    assert (entry.path, entry.bytes, entry.rows) == ("report.json", 12, None)
    manifest = build_manifest(plan, parts, engine="local", reports=[entry])
    sink.commit(manifest)
    assert not staging.exists() and not lock_path(out).exists()
    assert sorted(p.name for p in out.iterdir()) == ["a", "b", MANIFEST, "report.json"]
    assert not (out / STAGING_MARKER).exists()
    assert read_manifest(out) == manifest


def test_abort_removes_the_staging_folder_and_the_lock(tmp_path):
    sink = ParquetSink(tmp_path / "out")
    sink.open(fabula.compile_plan(SPEC))
    sink.abort()
    assert list(tmp_path.iterdir()) == []


def test_another_format_reuses_the_folder_protocol(tmp_path):
    plan = fabula.compile_plan(SPEC)
    out = tmp_path / "csv"
    manifest = run_local(plan, CsvSink(out))
    assert manifest.output_format == "csv"
    assert (out / "a" / "part-00000.csv").read_text().splitlines()[0] == '"id","x"'
    assert json.loads((out / MANIFEST).read_text())["tables"]["a"]["files"][0]["rows"] == 50
    run_local(plan, CsvSink(out, mode="overwrite"))  # its own output: replaced
    with pytest.raises(fabula.OutputError, match="already exists"):
        run_local(plan, CsvSink(out))
