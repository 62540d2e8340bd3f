"""`fabula stream`: timeline-ordered micro-batches, each file committed atomically, resumable."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

import fabula
from fabula.api import stream
from fabula.engine.stream import STATE
from fabula.errors import OutputError


@pytest.fixture(scope="module")
def plan():
    return fabula.compile_plan("saas_support", scale=0.05)


def test_batches_together_are_the_generate_output(plan, tmp_path):
    state = stream(plan, tmp_path / "s", window_days=30)
    assert state["next_batch"] == state["batches_total"] == 13
    fabula.generate(plan, tmp_path / "g", validate=False)
    for table in plan.tables:
        files = sorted((tmp_path / "s" / table.name).glob("batch-*.parquet"))
        streamed = pq.ParquetDataset(files).read()
        assert streamed.equals(pq.read_table(tmp_path / "g" / table.name)), table.name


def test_batches_follow_the_timeline(plan, tmp_path):
    state = stream(plan, tmp_path / "s", window_days=30)
    for record in state["batches"]:
        entry = record["files"].get("tickets")
        if entry is None:
            continue
        stamps = pq.read_table(tmp_path / "s" / entry["path"]).column("created_at").to_numpy()
        low, high = (np.datetime64(value) for value in record["window"])
        assert (stamps >= low).all() and (stamps < high).all()


def test_resume_writes_the_same_files_as_one_run(plan, tmp_path):
    stream(plan, tmp_path / "once", window_days=60)
    first = stream(plan, tmp_path / "twice", window_days=60, batches=2)
    assert first["next_batch"] == 2
    stream(plan, tmp_path / "twice", window_days=60)
    for path in sorted((tmp_path / "once").rglob("batch-*")):
        assert path.read_bytes() == (tmp_path / "twice" / path.relative_to(tmp_path / "once")).read_bytes()


def test_every_sleeps_between_batches_and_zero_never(plan, tmp_path):
    naps = []
    from fabula.engine.stream import stream as write_stream

    write_stream(plan, tmp_path / "slow", window_days=90, every=10, sleep=naps.append)
    assert naps == [10] * 4  # 5 batches, a pause between each two
    naps.clear()
    write_stream(plan, tmp_path / "fast", window_days=90, every=0, sleep=naps.append)
    assert naps == []


def test_a_failed_batch_leaves_no_visible_file_and_resumes(plan, tmp_path, monkeypatch):
    from fabula.sinks.formats import registry

    original = registry.part_format

    def failing(name, **options):
        fmt = original(name, **options)

        def write(path, schema, groups):
            if "batch-000001" in path:
                with open(path, "wb") as handle:
                    handle.write(b"PAR1 half a file")
                raise OSError("disk full")
            return fmt.write(path, schema, groups)

        return registry.PartFormat(fmt.name, fmt.extension, write, fmt.file_schema)

    monkeypatch.setattr("fabula.engine.stream.part_format", failing)
    with pytest.raises(OSError):
        stream(plan, tmp_path / "s", window_days=90)
    visible = sorted(path.name for path in (tmp_path / "s" / "orders").iterdir())
    assert visible == ["batch-000000.parquet"]  # nothing half-written, no temporary file left
    monkeypatch.undo()
    state = stream(plan, tmp_path / "s", window_days=90)
    assert state["next_batch"] == state["batches_total"]


def test_resume_refuses_other_options(plan, tmp_path):
    stream(plan, tmp_path / "s", window_days=90, batches=1)
    with pytest.raises(OutputError, match="another spec"):
        stream(plan, tmp_path / "s", window_days=90, output_format="csv")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "data.csv").write_text("x\n")
    with pytest.raises(OutputError, match="not empty"):
        stream(plan, tmp_path / "other", window_days=90)


@pytest.mark.parametrize("output_format", ["delta", "csv", "json"])
def test_stream_in_other_formats(plan, tmp_path, output_format):
    state = stream(plan, tmp_path / "s", window_days=120, output_format=output_format)
    total = sum(entry["rows"] for record in state["batches"] for table, entry in record["files"].items()
                if table == "orders")
    assert total == plan.table("orders").rows
    if output_format == "delta":
        deltalake = pytest.importorskip("deltalake")
        table = deltalake.DeltaTable(str(tmp_path / "s" / "orders"))
        assert table.version() == len([r for r in state["batches"] if "orders" in r["files"]]) - 1
        assert table.to_pyarrow_table().num_rows == total


def test_cli_stream_then_resume(tmp_path):
    command = [sys.executable, "-m", "fabula", "stream", "saas_support", "--out", str(tmp_path / "s"),
               "--every", "0", "--window", "90", "--scale", "0.05"]
    first = subprocess.run([*command, "--batches", "2"], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert "2 of 5 micro-batches" in first.stdout
    second = subprocess.run(command, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    assert "batch 2:" in second.stdout and "5 of 5 micro-batches" in second.stdout
    assert (tmp_path / "s" / STATE).is_file()
    bad = subprocess.run([*command[:-2], "--every", "soon"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--every" in bad.stderr
