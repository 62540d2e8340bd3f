"""`fabula stream` with `defects:`: all batches together are the dirty `generate` output, row for
row, and its `_defects` labels, one labels file per batch; a resumed stream writes the same."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import fabula
from fabula.api import stream
from fabula.errors import UsageError

DIRTY = "saas_support_dirty"

DELETING = """
name: deleting
seed: 15
as_of: 2024-12-31
tables:
  c:
    rows: 3000
    columns:
      id: {kind: id, format: "C-{:05d}"}
      tier: {kind: categorical, values: {Free: 3, Pro: 1}}
    defects:
      - {kind: deleted, rate: 0.2}
      - {kind: missing, column: tier, rate: 0.05}
      - {kind: duplicate, rate: 0.05}
  o:
    rows: 2000
    columns:
      id: {kind: id, format: "O-{:05d}"}
      cid: {kind: reference, to: c.id}
    defects:
      - {kind: duplicate, form: new_key, rate: 0.05}
"""


def plain(table: pa.Table) -> pa.Table:
    """Values only: a dictionary's order of values is the writer's business."""
    return pa.table({name: column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
                     for name, column in zip(table.column_names, table.columns)})


def streamed(out: Path, table: str) -> pa.Table | None:
    files = sorted((out / table).glob("batch-*.parquet"))
    return plain(pa.concat_tables([pq.read_table(path) for path in files])) if files else None


def generated(out: Path, table: str) -> pa.Table:
    return plain(pq.ParquetDataset(sorted((out / table).glob("*.parquet"))).read())


def by_row(labels: pa.Table) -> pa.Table:
    return labels.sort_by([(name, "ascending") for name in labels.column_names])


def assert_same_as_generate(plan, streamed_out: Path, generated_out: Path) -> None:
    for table in plan.tables:
        assert streamed(streamed_out, table.name).equals(generated(generated_out, table.name)), table.name
    labels = streamed(streamed_out, "_defects")
    assert labels is not None and labels.num_rows
    assert by_row(labels).equals(by_row(generated(generated_out, "_defects")))


@pytest.fixture(scope="module")
def dirty_plan():
    return fabula.compile_plan(DIRTY, scale=0.05)


@pytest.fixture(scope="module")
def generated_dirty(dirty_plan, tmp_path_factory):
    out = tmp_path_factory.mktemp("generated") / "g"
    fabula.generate(dirty_plan, out, validate=False)
    return out


def test_the_batches_are_the_dirty_generate_output_and_its_labels(dirty_plan, generated_dirty, tmp_path):
    state = stream(dirty_plan, tmp_path / "s", window_days=30)
    assert state["next_batch"] == state["batches_total"] > 1
    assert_same_as_generate(dirty_plan, tmp_path / "s", generated_dirty)
    labelled = [record for record in state["batches"] if "_defects" in record["files"]]
    assert len(labelled) > 1  # one labels file per batch that damaged rows, not one at the end


def test_each_labels_file_labels_the_rows_its_batch_wrote(dirty_plan, tmp_path):
    state = stream(dirty_plan, tmp_path / "s", window_days=30)
    for record in state["batches"]:
        files = record["files"]
        if "_defects" not in files:
            continue
        labels = pq.read_table(tmp_path / "s" / files["_defects"]["path"])
        for table in set(labels.column("table").to_pylist()):
            rows = np.array([row for row, name in zip(labels.column("row").to_pylist(),
                                                      labels.column("table").to_pylist()) if name == table])
            entry = files[table]
            assert (rows >= entry["first_row"]).all() and (rows < entry["first_row"] + entry["rows"]).all()


def test_a_resumed_stream_writes_the_same(dirty_plan, generated_dirty, tmp_path):
    once = tmp_path / "once"
    stream(dirty_plan, once, window_days=60)
    twice = tmp_path / "twice"
    assert stream(dirty_plan, twice, window_days=60, batches=2)["next_batch"] == 2
    assert stream(dirty_plan, twice, window_days=60, batches=2)["next_batch"] == 4
    stream(dirty_plan, twice, window_days=60)
    assert_same_as_generate(dirty_plan, twice, generated_dirty)
    for path in sorted(once.rglob("batch-*")):
        assert path.read_bytes() == (twice / path.relative_to(once)).read_bytes(), path


def test_deleted_rows_and_copies_in_equal_slices(tmp_path):
    """Without a timeline the tables are cut into equal slices of clean rows: a copy stays with its
    original, a deleted row leaves its slice, and its label goes with the slice it was in."""
    plan = fabula.compile_plan(fabula.load_spec(DELETING))
    fabula.generate(plan, tmp_path / "g", validate=False)
    state = stream(plan, tmp_path / "s")
    assert state["batches_total"] == 10
    assert_same_as_generate(plan, tmp_path / "s", tmp_path / "g")
    kinds = set(streamed(tmp_path / "s", "_defects").column("kind").to_pylist())
    assert {"deleted", "duplicate", "orphan"} <= kinds
    at_the_end = 0
    for record in state["batches"]:
        files = record["files"]
        labels = pq.read_table(tmp_path / "s" / files["_defects"]["path"]).to_pylist()
        written = files["c"]
        for label in labels:
            if label["kind"] == "deleted":  # where it was: between its batch's first row and one past its last
                assert written["first_row"] <= label["row"] <= written["first_row"] + written["rows"], label
                at_the_end += label["row"] == written["first_row"] + written["rows"]
    assert at_the_end  # a slice that ends in deleted rows labels them, not the next slice


def test_schema_drift_is_refused_with_exit_code_2(tmp_path):
    spec = DELETING.replace("      - {kind: duplicate, form: new_key, rate: 0.05}\n",
                            "      - {kind: drift, form: added, column: channel, value: web, from_batch: 1}\n")
    with pytest.raises(UsageError, match="schema drift") as error:
        stream(fabula.load_spec(spec), tmp_path / "s", batches=1)
    assert error.value.exit_code == 2
    assert not (tmp_path / "s").exists()


def test_the_cli_refuses_drift_with_key_and_fix_and_no_traceback(tmp_path):
    spec = tmp_path / "drift.yaml"
    drift = "      - {kind: drift, form: renamed, column: cid, name: customer, from_batch: 1}\n"
    spec.write_text(DELETING.replace("      - {kind: duplicate, form: new_key, rate: 0.05}\n", drift), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "fabula", "stream", str(spec), "--out", str(tmp_path / "s"),
                             "--every", "0"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert "tables.o.defects.0 is a schema drift" in result.stderr and "--mode append" in result.stderr
    assert "Traceback" not in result.stderr
