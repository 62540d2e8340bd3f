"""The Spark engine writes every format (issue 13): the executors write the same part files as
the local engine, the driver commits (a Delta table's log by deltalake); Spark reads them back."""

from __future__ import annotations

import pytest

import fabula
from fabula.engine.spark import write_spark

SCALE = 0.05


@pytest.mark.parametrize("output_format", ["csv", "json", "delta"])
def test_same_part_files_as_the_local_engine(spark, tmp_path, output_format):
    plan = fabula.compile_plan("saas_support", scale=SCALE)
    manifest = write_spark(plan, spark, tmp_path / "spark", output_format=output_format)
    local = fabula.generate(plan, tmp_path / "local", output_format=output_format).manifest
    assert manifest.output_format == output_format
    assert manifest.tables == local.tables  # same paths, rows, sizes and sha256
    assert not fabula.validate_output(tmp_path / "spark").failed
    if output_format == "delta":
        deltalake = pytest.importorskip("deltalake")
        spark_table = deltalake.DeltaTable(str(tmp_path / "spark" / "orders")).to_pyarrow_table()
        assert spark_table.equals(deltalake.DeltaTable(str(tmp_path / "local" / "orders")).to_pyarrow_table())


def test_spark_reads_csv_and_json_lines_back(spark, tmp_path):
    plan = fabula.compile_plan("saas_support", scale=SCALE)
    fabula.generate(plan, tmp_path / "csv", output_format="csv")
    fabula.generate(plan, tmp_path / "json", output_format="json")
    orders = plan.table("orders").rows
    assert spark.read.option("header", True).csv(str(tmp_path / "csv" / "orders")).count() == orders
    assert spark.read.json(str(tmp_path / "json" / "orders")).count() == orders
    tickets = spark.read.option("header", True).option("inferSchema", True).csv(str(tmp_path / "csv" / "tickets"))
    assert dict(tickets.dtypes)["created_at"] == "timestamp"  # ISO 8601 text, read as a timestamp
