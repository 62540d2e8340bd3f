"""Declared defects through the Spark engine (issue 14): each task damages its part's blocks as
the local engine does and sends their labels back; the driver writes `_defects` and validates.
The same dirty files, the same `_defects` table and the same report as the local engine."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow.parquet as pq
import pytest
from spark.compare import assert_same_rows, read_folder

import fabula
from fabula.api import load_spec
from fabula.defects import LABELS_TABLE
from fabula.engine.spark import to_dataframes, write_spark
from fabula.plan import Layout
from fabula.plan.compile import compile_plan

DIRTY = "saas_support_dirty"


@pytest.fixture(scope="module")
def plan():
    """Blocks of 200 rows, 2 blocks a file: orders and tickets span several blocks and parts, so a
    part's rows start after the copies earlier parts' duplicates added (`added_before`)."""
    return compile_plan(load_spec(DIRTY), scale=0.05, block_rows=200,
                        layout=Layout(blocks_per_file=2, blocks_per_row_group=1))


@pytest.fixture(scope="module")
def local(plan, tmp_path_factory):
    out = tmp_path_factory.mktemp("local") / "out"
    return out, fabula.generate(plan, out)


def files(manifest) -> dict:
    return {name: table.files for name, table in manifest.tables.items()}


def test_the_dirty_story_is_byte_identical_with_the_same_labels_and_report(spark, tmp_path):
    """As `fabula generate saas_support_dirty` writes it: every part file and `_defects` sha256
    for sha256, the same report.json, and `validate --strict` passes."""
    plan = fabula.compile_plan(DIRTY, scale=0.05)
    local = fabula.generate(plan, tmp_path / "local").manifest
    written = write_spark(plan, spark, tmp_path / "spark")
    assert written.engine == "spark" and LABELS_TABLE in written.tables
    assert files(written) == files(local)
    labels = pq.read_table(tmp_path / "spark" / LABELS_TABLE).to_pylist()
    assert {"orphan", "outlier", "missing", "duplicate"} <= {label["kind"] for label in labels}
    assert labels == pq.read_table(tmp_path / "local" / LABELS_TABLE).to_pylist()
    assert (tmp_path / "spark" / "report.json").read_bytes() == (tmp_path / "local" / "report.json").read_bytes()
    checked = fabula.validate_output(tmp_path / "spark", strict=True)
    assert not checked.failed


def test_parts_after_added_copies_write_what_the_local_engine_writes(spark, plan, local, tmp_path):
    """Duplicates add rows before later parts: their labels' `row`s and the files still match."""
    local_out, local_result = local
    local_manifest = local_result.manifest
    assert len(local_manifest.tables["orders"].files) > 1
    written = write_spark(plan, spark, tmp_path / "spark")
    assert files(written) == files(local_manifest)
    labels = pq.read_table(tmp_path / "spark" / LABELS_TABLE)
    assert labels.equals(pq.read_table(local_out / LABELS_TABLE))
    duplicated = [label for label in labels.to_pylist() if label["kind"] == "duplicate" and label["table"] == "orders"]
    assert duplicated and max(label["row"] for label in duplicated) >= 200 * 2  # a copy beyond the first part
    assert not fabula.validate_output(tmp_path / "spark", strict=True).failed


def test_partitions_change_the_files_not_the_rows_or_labels(spark, plan, local, tmp_path):
    local_out, _ = local
    write_spark(plan, spark, tmp_path / "spark", partitions=3)
    assert pq.read_table(tmp_path / "spark" / LABELS_TABLE).equals(pq.read_table(local_out / LABELS_TABLE))
    for name in ("orders", "tickets"):
        table = plan.table(name)
        assert_same_rows(read_folder(local_out / name, table.schema), read_folder(tmp_path / "spark" / name,
                                                                                  table.schema),
                         table.schema, f"{name} in three partitions")
    assert not fabula.validate_output(tmp_path / "spark", strict=True).failed


def test_generate_with_the_spark_engine_writes_the_labels(spark, plan, local, tmp_path):
    result = fabula.generate(plan, tmp_path / "spark", engine="spark", spark=spark, strict=True)
    assert files(result.manifest) == files(local[1].manifest)
    assert result.report.to_dict() == local[1].report.to_dict()


def test_dataframes_hold_the_damaged_rows_and_their_labels(spark, plan, local):
    """`to_dataframes` gives the rows as written, defects in place, and their labels as
    `_defects`: the local engine's `_defects` table, row for row, in its order."""
    local_out, _ = local
    frames = to_dataframes(plan, spark)
    for name in ("orders", "tickets"):
        table = plan.table(name)
        assert_same_rows(read_folder(local_out / name, table.schema), frames[name].toArrow(), table.schema, name)
    labels = frames[LABELS_TABLE].toArrow().to_pylist()
    assert {"orphan", "outlier", "missing", "duplicate"} <= {label["kind"] for label in labels}
    assert labels == pq.read_table(local_out / LABELS_TABLE).to_pylist()
    assert frames[LABELS_TABLE].columns == ["table", "column", "kind", "form", "key", "row", "original"]


def test_dataframes_of_a_clean_story_have_no_labels(spark):
    assert LABELS_TABLE not in to_dataframes(compile_plan(load_spec("saas_support"), scale=0.01), spark)


def test_cli_writes_the_dirty_story_through_spark_connect(connect, connect_server, tmp_path):
    """`fabula generate saas_support_dirty --engine spark --master sc://…`, on executors that only
    have the fabula the engine ships, then `fabula validate --strict`: the local engine's files;
    and `fabula.to_spark` over Connect gives the damaged rows and their labels."""
    plan = fabula.compile_plan(DIRTY, scale=0.05)
    local = fabula.generate(plan, tmp_path / "local").manifest
    tickets = plan.table("tickets")
    frames = fabula.to_spark(plan, connect)
    assert_same_rows(read_folder(tmp_path / "local" / "tickets", tickets.schema),
                     frames["tickets"].toArrow(), tickets.schema, "tickets over Connect")
    assert frames[LABELS_TABLE].toArrow().to_pylist() == pq.read_table(tmp_path / "local" / LABELS_TABLE).to_pylist()
    out = tmp_path / "spark"
    done = subprocess.run([sys.executable, "-m", "fabula", "generate", DIRTY, "--scale", "0.05", "--out", str(out),
                           "--engine", "spark", "--master", connect_server.url],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["engine"] == "spark"
    assert {name: [file["sha256"] for file in table["files"]] for name, table in manifest["tables"].items()} == \
        {name: [file.sha256 for file in table.files] for name, table in local.tables.items()}
    verdict = subprocess.run([sys.executable, "-m", "fabula", "validate", str(out), "--strict"],
                             capture_output=True, text=True, timeout=600, check=False)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
