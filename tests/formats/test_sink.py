"""FilesSink keeps the Sink contract and the folder protocol's guarantees in every format and
write mode."""

from __future__ import annotations

import os
import pickle

import pytest

import fabula
from fabula.errors import OutputError
from fabula.manifest import read_manifest
from fabula.sinks import Capabilities, Sink
from fabula.sinks.files import FilesSink, FormatPartWriter
from fabula.sinks.folder import OutputBusyError, TargetLock

SPEC = {"name": "d", "seed": 1, "as_of": "2024-12-31", "tables": {"t": {"rows": 50, "columns": {
    "id": {"kind": "id", "format": "T-{:03d}"}, "x": {"kind": "normal", "mean": 0, "std": 1}}}}}


def test_a_files_sink_is_a_sink(tmp_path):
    sink = FilesSink(tmp_path / "out", output_format="csv")
    assert isinstance(sink.capabilities, Capabilities) and sink.capabilities.append
    assert sink.output_format == "csv"
    _typed: Sink = sink  # noqa: F841
    plan = fabula.compile_plan(SPEC)
    sink.open(plan)
    writer = pickle.loads(pickle.dumps(sink.part_writer()))  # as a Spark task receives it
    assert isinstance(writer, FormatPartWriter)
    from fabula.engine.local import row_groups

    part = writer.write(plan.table("t"), 0, row_groups(plan, plan.table("t"), range(0, 1)))
    assert part.path == "t/part-00000.csv" and part.rows == 50 and len(part.sha256) == 64
    assert not any(name.endswith(".tmp") for name in os.listdir(sink.staging / "t"))
    sink.abort()
    assert not (tmp_path / "out").exists()
    assert [path.name for path in tmp_path.iterdir()] == []  # no staging, no lock left


@pytest.mark.parametrize("output_format", ["csv", "json", "delta"])
def test_a_failed_run_leaves_nothing(tmp_path, monkeypatch, output_format):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("fabula.validate.run.Validation.finish", broken)
    with pytest.raises(RuntimeError):
        fabula.generate(SPEC, tmp_path / "out", output_format=output_format)
    assert list(tmp_path.iterdir()) == []


def test_append_refuses_a_folder_fabula_did_not_write(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "manifest.json").write_text("{}")
    (tmp_path / "out" / "precious.txt").write_text("mine")
    with pytest.raises(OutputError):
        fabula.generate(SPEC, tmp_path / "out", mode="append")
    assert (tmp_path / "out" / "precious.txt").read_text() == "mine"


def test_append_refuses_unlisted_files_and_an_edited_manifest(tmp_path):
    out = tmp_path / "out"
    fabula.generate(SPEC, out, mode="append")
    (out / "stray.csv").write_text("x\n")
    with pytest.raises(OutputError, match="stray.csv"):
        fabula.generate(SPEC, out, mode="append")
    (out / "stray.csv").unlink()
    text = (out / "manifest.json").read_text()
    (out / "manifest.json").write_text(text.replace('"seed": 1', '"seed": 2', 1))
    with pytest.raises(OutputError, match="edited"):
        fabula.generate(SPEC, out, mode="append")


def test_append_waits_for_no_one(tmp_path):
    out = tmp_path / "out"
    fabula.generate(SPEC, out, mode="append")
    lock = TargetLock(out)
    lock.acquire()
    try:
        with pytest.raises(OutputBusyError):
            fabula.generate(SPEC, out, mode="append")
    finally:
        lock.release()
    assert len(read_manifest(out).batches) == 1


def test_appended_manifest_is_sealed(tmp_path):
    out = tmp_path / "out"
    for _ in range(3):
        fabula.generate(SPEC, out, mode="append", output_format="json")
    manifest = read_manifest(out)
    assert manifest.digest_matches and len(manifest.batches) == 3
    assert [file.path for file in manifest.tables["t"].files] == [
        "t/part-00000.jsonl", "t/part-b00001-00000.jsonl", "t/part-b00002-00000.jsonl"]
    report = fabula.validate_output(out, strict=True)
    assert not report.failed
