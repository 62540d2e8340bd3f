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


PARTITIONED = {
    "name": "partitioned", "seed": 3, "as_of": "2024-12-31",
    "tables": {
        "customers": {"rows": 300, "columns": {
            "customer_id": {"kind": "id", "format": "C-{:04d}"},
            "region": {"kind": "categorical", "values": {"West": 3, "East": 2, "North/South": 1}, "nulls": 0.1}}},
        "orders": {"rows": 2000, "partition_by": ["region", "day"], "columns": {
            "order_id": {"kind": "id", "format": "O-{:05d}"},
            "customer_id": {"kind": "reference", "to": "customers.customer_id"},
            "region": {"kind": "lookup", "from": "customer_id.region"},
            "day": {"kind": "date", "start": "-4d", "end": "today"},
            "amount": {"kind": "lognormal", "mean": 3, "sigma": 1, "round": 2}}},
    },
}


@pytest.mark.parametrize("output_format", ["parquet", "delta", "csv"])
def test_partitioned_tables_as_the_local_engine_writes_them(spark, tmp_path, output_format):
    """partition_by (issue 13): the executors write each part's partition files, the same bytes."""
    from fabula.plan import compile_plan
    from fabula.plan.model import Layout

    plan = compile_plan(fabula.load_spec(PARTITIONED), block_rows=256, layout=Layout(blocks_per_file=2,
                                                                                     blocks_per_row_group=1))
    manifest = write_spark(plan, spark, tmp_path / "spark", output_format=output_format)
    local = fabula.generate(plan, tmp_path / "local", output_format=output_format).manifest
    assert manifest.tables == local.tables
    assert any("/region=North%2FSouth/day=2024-12-31/" in file.path for file in manifest.tables["orders"].files)
    assert not fabula.validate_output(tmp_path / "spark", strict=True).failed
    orders = str(tmp_path / "spark" / "orders")
    if output_format == "delta":  # Spark's Delta output read by a Delta reader
        deltalake = pytest.importorskip("deltalake")
        table = deltalake.DeltaTable(orders)
        assert table.metadata().partition_columns == ["region", "day"]
        read = table.to_pyarrow_table()
        assert read.num_rows == plan.table("orders").rows
        assert set(read.column("region").to_pylist()) == {"West", "East", "North/South", None}
        return
    frame = spark.read.parquet(orders) if output_format == "parquet" else \
        spark.read.option("header", True).csv(orders)
    counts = {(row["region"], str(row["day"])): row["count"] for row in frame.groupBy("region", "day").count().collect()}
    assert sum(counts.values()) == plan.table("orders").rows
    assert ("North/South", "2024-12-31") in counts and any(region is None for region, _ in counts)


def test_partitioned_tables_cut_into_other_parts_validate(spark, tmp_path):
    """With `partitions=`, Spark cuts each table into other runs of blocks than the local engine's
    parts; validation still puts every row back in its place."""
    from fabula.plan import compile_plan
    from fabula.plan.model import Layout

    plan = compile_plan(fabula.load_spec(PARTITIONED), block_rows=256, layout=Layout(blocks_per_file=2,
                                                                                     blocks_per_row_group=1))
    manifest = write_spark(plan, spark, tmp_path / "out", partitions=3)  # 8 blocks in 3 runs, not 4 parts
    assert {file.path.rsplit("/", 1)[1] for file in manifest.tables["orders"].files} == \
        {"part-00000.parquet", "part-00001.parquet", "part-00002.parquet"}
    assert not fabula.validate_output(tmp_path / "out", strict=True).failed
