"""`write_spark`: the local engine's layout (a folder of part files per table, the reports,
manifest.json), each part written by a Spark task through the local engine's sink: the same
files, byte for byte, the same report, committed or not at all."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from spark.compare import assert_same_rows, read_folder
from spark.specs import every_kind_spec

import fabula
from fabula.engine.spark import write_spark
from fabula.errors import OutputError, UsageError
from fabula.plan import Layout
from fabula.plan.compile import compile_plan
from fabula.spec import build_spec


@pytest.fixture(scope="module")
def plan():
    """Blocks of 1,000 rows, 3 blocks a file: the bigger tables span several part files."""
    return compile_plan(build_spec(every_kind_spec()), block_rows=1000,
                        layout=Layout(blocks_per_file=3, blocks_per_row_group=1))


@pytest.fixture(scope="module")
def written(spark, plan, tmp_path_factory):
    out = tmp_path_factory.mktemp("spark") / "out"
    return out, write_spark(plan, spark, out)


def paths(manifest, table: str) -> list[str]:
    return [entry.path for entry in manifest.tables[table].files]


def test_same_files_and_rows_as_the_local_engine(plan, written, local_tables, tmp_path):
    out, manifest = written
    local = local_tables(plan)
    assert sorted(path.name for path in out.iterdir()) == sorted([*local, "manifest.json", "report.json",
                                                                  "report.html"])
    for table in plan.tables:
        expected_files = [f"{table.name}/part-{index:05d}.parquet" for index in range(len(plan.layout.parts(table)))]
        assert paths(manifest, table.name) == expected_files
        assert sorted(path.name for path in (out / table.name).iterdir()) == [f.split("/")[1] for f in expected_files]
        for index, blocks in enumerate(plan.layout.parts(table)):
            rows = sum(table.block_span(block)[1] for block in blocks)
            assert pq.read_metadata(out / expected_files[index]).num_rows == rows
        assert_same_rows(local[table.name], read_folder(out / table.name, table.schema), table.schema,
                         f"written {table.name}")


def test_manifest_is_the_local_engines(plan, written):
    out, manifest = written
    assert json.loads((out / "manifest.json").read_text()) == manifest.to_dict()
    assert manifest.dataset == plan.name and manifest.seed == plan.seed and manifest.engine == "spark"
    assert {name: table.rows for name, table in manifest.tables.items()} == \
        {table.name: table.rows for table in plan.tables}
    assert manifest.layout["block_rows"] == 1000


def test_byte_identical_to_the_local_engine_with_the_same_report(spark, tmp_path):
    """The same files (sha256 for sha256), the same report.json, and both pass `validate --strict`."""
    plan = fabula.compile_plan("saas_support", scale=0.05)  # a story, its checks and expectations
    local = fabula.generate(plan, tmp_path / "local").manifest
    spark_manifest = write_spark(plan, spark, tmp_path / "spark")
    assert (local.engine, spark_manifest.engine) == ("local", "spark")
    assert {name: table.files for name, table in spark_manifest.tables.items()} == \
        {name: table.files for name, table in local.tables.items()}
    report = (tmp_path / "local" / "report.json").read_bytes()
    assert (tmp_path / "spark" / "report.json").read_bytes() == report
    assert spark_manifest.reports == local.reports
    for folder in ("local", "spark"):
        checked = fabula.validate_output(tmp_path / folder, strict=True)
        assert not checked.failed
        assert (tmp_path / folder / "report.json").read_bytes() == report


def test_partitions_change_the_files_not_the_rows(spark, plan, local_tables, tmp_path):
    manifest = write_spark(plan, spark, tmp_path / "out", partitions=2, compression="zstd")
    table = plan.table("order_items")
    assert paths(manifest, "order_items") == ["order_items/part-00000.parquet", "order_items/part-00001.parquet"]
    assert pq.read_metadata(tmp_path / "out" / "order_items" / "part-00000.parquet").row_group(0) \
        .column(0).compression == "ZSTD"
    assert_same_rows(local_tables(plan)["order_items"], read_folder(tmp_path / "out" / "order_items", table.schema),
                     table.schema, "two partitions")


def test_an_empty_table_gets_one_empty_file(spark, tmp_path):
    plan = compile_plan(build_spec({"name": "empty", "seed": 1, "tables": {
        "t": {"rows": 0, "columns": {"x": {"kind": "sequence"}, "tier": {"kind": "categorical", "values": ["a"]}}}}}))
    manifest = write_spark(plan, spark, tmp_path / "out")
    assert paths(manifest, "t") == ["t/part-00000.parquet"]
    read = pq.read_table(tmp_path / "out" / "t" / "part-00000.parquet")
    assert read.num_rows == 0 and read.column_names == ["x", "tier"]


def test_refuses_an_existing_output_before_any_work(spark, plan, written):
    out, _ = written
    with pytest.raises(OutputError, match="already exists"):
        write_spark(plan, spark, out)


def test_overwrite_replaces_a_fabula_output(spark, tmp_path):
    plan = compile_plan(build_spec({"name": "small", "seed": 1, "tables": {
        "t": {"rows": 10, "columns": {"x": {"kind": "sequence"}}}}}))
    out = tmp_path / "out"
    write_spark(plan, spark, out)
    (out / "t" / "stale.parquet").write_bytes(b"old")
    write_spark(plan, spark, out, mode="overwrite", validate=False)
    assert sorted(path.name for path in (out / "t").iterdir()) == ["part-00000.parquet"]
    assert [path.name for path in tmp_path.iterdir()] == ["out"]  # nothing staged left beside it


def test_refuses_object_store_uris(spark, plan):
    with pytest.raises(UsageError, match=r"URI 's3://bucket/data'.*\n.*hint: .*to_dataframes"):
        write_spark(plan, spark, "s3://bucket/data")


def test_refuses_unknown_compression(spark, plan, tmp_path):
    with pytest.raises(UsageError, match="unknown compression 'brotli'"):
        write_spark(plan, spark, tmp_path / "out", compression="brotli")


def test_generate_with_the_spark_engine_returns_what_it_wrote(spark, tmp_path):
    """`fabula.generate(engine="spark", spark=...)`: the local engine's files and report, handed
    back in the result; the caller's session is left running."""
    plan = fabula.compile_plan("retail", scale=0.02)
    local = fabula.generate(plan, tmp_path / "local")
    result = fabula.generate(plan, tmp_path / "spark", engine="spark", spark=spark)
    assert result.manifest.engine == "spark" and result.out == str(tmp_path / "spark")
    assert {name: table.files for name, table in result.manifest.tables.items()} == \
        {name: table.files for name, table in local.manifest.tables.items()}
    assert result.report.to_dict() == local.report.to_dict()
    assert spark.range(1).count() == 1
    tasks = result.timings.spark_tasks  # one task per part file, each timed (issue 16's per-task overhead)
    assert tasks.tasks == sum(len(table.files) for table in result.manifest.tables.values())
    assert 0 < tasks.setup_max_seconds <= tasks.setup_seconds and tasks.work_seconds > 0
    assert 0 < tasks.setup_share < 1 and local.timings.spark_tasks is None
