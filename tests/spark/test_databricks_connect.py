"""`--engine spark --databricks …` (Databricks Connect) and `--tables` through `spark.sql`.

A local Spark Connect server stands in for Databricks Connect: `connect_session` takes the
session builder as its seam, and gets a Spark Connect `sc://` builder here instead of
`DatabricksSession.builder`. That proves the code path through Spark Connect — fabula shipped by
value to workers that cannot import it, parts written by the executors and committed here, the
same files as the local engine. Authentication, serverless package versions and the declaration
of UDF dependencies need a real workspace (docs/databricks.md)."""

from __future__ import annotations

import pytest

import fabula
from fabula.plan.compile import compile_plan
from fabula.spec import build_spec
from fabula.databricks.client import WorkspaceError
from fabula.databricks.connect import (ConnectTarget, connect_session, generate_with_connect, output_folder,
                                       with_dependencies)
from fabula.errors import UsageError

SPEC = {
    "name": "described", "seed": 3, "as_of": "2024-06-30", "description": "Customers and orders, described",
    "tables": {
        "customers": {"rows": 1200, "description": "one row per customer, it's the dimension", "columns": {
            "customer_id": {"kind": "id", "format": "C-{:05d}", "description": "the customer's key"},
            "tier": {"kind": "categorical", "values": {"Free": 3, "Pro": 1}, "description": "plan (Free or Pro)"},
            "signup": {"kind": "timestamp", "start": "-1y", "end": "today"}}},
        "orders": {"rows": 3000, "columns": {
            "order_id": {"kind": "id", "format": "O-{:06d}"},
            "customer_id": {"kind": "reference", "to": "customers.customer_id"},
            "amount": {"kind": "lognormal", "mean": 3, "sigma": 0.5, "round": 2, "description": "in EUR"}}},
    },
}


@pytest.fixture(scope="module")
def plan():
    return compile_plan(build_spec(SPEC), block_rows=500)


def test_through_connect_the_files_are_the_local_engines(connect, connect_server, plan, tmp_path):
    # (`connect` is asked for so that the suite starts the Spark Connect server)
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    session, declared = connect_session(ConnectTarget.parse("cluster:0101-standin"),
                                        builder=ConnectSession.builder.remote(connect_server.url))
    assert not declared  # a plain Spark Connect builder cannot declare UDF dependencies
    manifest, registered = generate_with_connect(plan, session, tmp_path / "connect")
    local = fabula.generate(plan, tmp_path / "local").manifest
    assert registered == [] and manifest.engine == "spark"
    for name, table in local.tables.items():
        assert manifest.tables[name].rows == table.rows
        for ours, theirs in zip(manifest.tables[name].files, table.files, strict=True):
            assert (ours.path, ours.sha256) == (theirs.path, theirs.sha256)
            assert (tmp_path / "connect" / ours.path).read_bytes() == (tmp_path / "local" / theirs.path).read_bytes()
    assert (tmp_path / "connect" / "report.json").is_file()


def test_tables_through_spark_sql_carry_the_comments(spark, plan, tmp_path):
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS spark_catalog.fabula_connect LOCATION '{tmp_path / 'warehouse'}'")
    try:
        _, registered = generate_with_connect(plan, spark, tmp_path / "out", tables=("spark_catalog", "fabula_connect"),
                                              using="PARQUET")
        assert registered == ["spark_catalog.fabula_connect.customers", "spark_catalog.fabula_connect.orders"]
        described = {row.col_name: row.data_type for row in
                     spark.sql("DESCRIBE TABLE EXTENDED spark_catalog.fabula_connect.customers").collect()}
        assert described["Comment"] == "one row per customer, it's the dimension"
        columns = {column.name: column for column in
                   spark.catalog.listColumns("spark_catalog.fabula_connect.customers")}
        assert columns["customer_id"].description == "the customer's key"
        assert columns["tier"].description == "plan (Free or Pro)" and columns["signup"].description is None
        assert columns["signup"].dataType == "timestamp_ntz"
        local = fabula.generate(plan, tmp_path / "local").manifest
        for name in ("customers", "orders"):
            rows = spark.table(f"spark_catalog.fabula_connect.{name}")
            assert rows.count() == local.tables[name].rows
        amounts = sorted(row.amount for row in spark.table("spark_catalog.fabula_connect.orders").collect())
        import pyarrow.parquet as pq

        expected = sorted(pq.read_table(tmp_path / "local" / "orders").column("amount").to_pylist())
        assert amounts == expected

        with pytest.raises(WorkspaceError, match="the table spark_catalog.fabula_connect.customers already exists"):
            generate_with_connect(plan, spark, tmp_path / "again", tables=("spark_catalog", "fabula_connect"),
                                  using="PARQUET")
        assert not (tmp_path / "again").exists()  # refused before any work
        generate_with_connect(plan, spark, tmp_path / "out", mode="overwrite",
                              tables=("spark_catalog", "fabula_connect"), using="PARQUET")
        assert spark.table("spark_catalog.fabula_connect.orders").count() == local.tables["orders"].rows
    finally:
        spark.sql("DROP SCHEMA IF EXISTS spark_catalog.fabula_connect CASCADE")


def test_a_volume_out_must_be_mounted_here(tmp_path):
    with pytest.raises(WorkspaceError, match="is not mounted on this machine") as caught:
        output_folder("dbfs:/Volumes/main/demo/raw/x", mounted=lambda: False)
    assert "--on-cluster" in caught.value.hint
    assert str(output_folder("dbfs:/Volumes/main/demo/raw/x", mounted=lambda: True)) == "/Volumes/main/demo/raw/x"
    assert output_folder(tmp_path) == tmp_path


def test_the_target_is_a_cluster_or_serverless():
    assert ConnectTarget.parse("cluster: 0101-abc").cluster == "0101-abc"
    assert str(ConnectTarget.parse("serverless")) == "serverless compute"
    with pytest.raises(UsageError, match="names no compute"):
        ConnectTarget.parse("cluster:")


def test_without_databricks_connect_nothing_is_declared():
    builder = object()
    assert with_dependencies(builder) == (builder, False)
