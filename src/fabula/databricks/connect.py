"""`--engine spark --databricks cluster:<id>|serverless`: the Spark engine on Databricks compute
through Databricks Connect (`pip install 'fabula[databricks-connect]'`, in an environment of its
own: databricks-connect replaces pyspark).

The session comes from `DatabricksSession.builder`, configured by the SDK's unified
configuration (`--profile`, DATABRICKS_* variables, OAuth), with `.clusterId(id)` or
`.serverless(True)`. fabula's code ships by value, as the Spark engine always does; NumPy and
PyArrow on the executors must be the driver's versions, so they are declared as UDF dependencies
(`DatabricksEnv().withDependencies(...)`, Databricks Connect 16.4 and later) when this
databricks-connect has them; otherwise an executor with other versions refuses with
`VersionMismatchError`, naming both.

The parts are written by the executors into `--out` and committed from this process (the
folder sink), so `--out` must be a folder both see: on Databricks compute, a Volume's mounted
`/Volumes/...` path. `--tables` then registers each table from those files with `spark.sql`
(CREATE TABLE … COMMENT …, then INSERT … SELECT from the Parquet files), instead of a warehouse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fabula.databricks.client import WorkspaceError, _clean
from fabula.databricks.paths import VolumePath
from fabula.databricks.tables import create_statement, quote_name, sql_string
from fabula.errors import UsageError
from fabula.manifest import Manifest
from fabula.plan.model import Plan

INSTALL_HINT = "pip install 'fabula[databricks-connect]' (in an environment without pyspark: it replaces it)"


@dataclass(frozen=True)
class ConnectTarget:
    """Where Databricks Connect runs: a cluster (`cluster:<id>`) or serverless compute.

    >>> ConnectTarget.parse("cluster:0123-456789-abc"), ConnectTarget.parse("serverless")
    (ConnectTarget(cluster='0123-456789-abc'), ConnectTarget(cluster=None))
    """

    cluster: str | None  # None: serverless

    @classmethod
    def parse(cls, text: str) -> ConnectTarget:
        if text == "serverless":
            return cls(None)
        if text.startswith("cluster:") and text[len("cluster:"):].strip():
            return cls(text[len("cluster:"):].strip())
        raise UsageError(f"--databricks {text!r} names no compute",
                         hint="write --databricks cluster:<cluster id> or --databricks serverless")

    def __str__(self) -> str:
        return f"cluster {self.cluster}" if self.cluster else "serverless compute"


def udf_dependencies() -> list[str]:
    """What the executors must run: the driver's NumPy and PyArrow, exactly."""
    import numpy
    import pyarrow

    return [f"numpy=={numpy.__version__}", f"pyarrow=={pyarrow.__version__}"]


def databricks_builder(target: ConnectTarget, *, profile: str | None = None):
    """`DatabricksSession.builder` for the target, authenticated by the SDK's unified configuration."""
    try:
        from databricks.connect import DatabricksSession
        from databricks.sdk.core import Config
    except ImportError:
        raise WorkspaceError("--databricks needs Databricks Connect, which is not installed",
                             hint=INSTALL_HINT) from None
    builder = DatabricksSession.builder.sdkConfig(Config(profile=profile) if profile else Config())
    return builder.clusterId(target.cluster) if target.cluster else builder.serverless(True)


def with_dependencies(builder) -> tuple[Any, bool]:
    """The builder with NumPy and PyArrow declared as UDF dependencies, when this
    databricks-connect can declare them (16.4+: `DatabricksEnv`); (builder, declared)."""
    try:
        from databricks.connect import DatabricksEnv
    except ImportError:
        return builder, False
    if not hasattr(builder, "withEnvironment"):
        return builder, False
    return builder.withEnvironment(DatabricksEnv().withDependencies(udf_dependencies())), True


def connect_session(target: ConnectTarget, *, profile: str | None = None, builder=None) -> tuple[Any, bool]:
    """A Spark session on the target: (session, dependencies declared). `builder` is the seam: any
    Spark session builder (the tests pass a Spark Connect `sc://` one); by default
    `databricks_builder(target, profile)`."""
    builder, declared = with_dependencies(builder if builder is not None
                                          else databricks_builder(target, profile=profile))
    try:
        return builder.getOrCreate(), declared
    except Exception as error:  # noqa: BLE001 - grpc, auth and config errors: all one message
        raise WorkspaceError(f"cannot start a Databricks Connect session on {target}: {_clean(str(error))[:500]}",
                             hint="check the cluster id (and that it runs), or that serverless compute is enabled; "
                                  "authentication as in docs/databricks.md#authentication") from None


def output_folder(out: str | Path, *, mounted: Callable[[], bool] = lambda: Path("/Volumes").is_dir()) -> Path:
    """The folder the executors write and this process commits: a Volume's mounted path, which
    must be visible here too, or any folder both see."""
    text = str(out)
    if text.startswith("dbfs:") or text.startswith("/Volumes/"):
        target = VolumePath.parse(text)
        if not mounted():
            raise WorkspaceError(
                f"{target} is not mounted on this machine: with --databricks the executors write the parts "
                "and this process commits them, so --out must be a folder both see",
                hint="run fabula on Databricks compute (where /Volumes is mounted), or drop --databricks to "
                     "upload through the Files API, or use --on-cluster ID to run the whole job there")
        return Path(target.path)
    return Path(text)


def check_spark_tables_free(spark, plan: Plan, catalog: str, schema: str) -> None:
    for table in plan.tables:
        full = f"{catalog}.{schema}.{table.name}"
        if spark.catalog.tableExists(f"{quote_name(catalog)}.{quote_name(schema)}.{quote_name(table.name)}"):
            raise WorkspaceError(f"the table {full} already exists",
                                 hint="pass --mode overwrite to replace it, or write to another schema")


def register_tables_spark(spark, plan: Plan, folder: str | Path, catalog: str, schema: str, *, replace: bool,
                          using: str = "DELTA") -> list[str]:
    """Each table as `catalog.schema.table` with the spec's comments, filled from its Parquet
    files under `folder` (a path the executors see), through `spark.sql`; returns the full names.

    Delta replaces a table in place (CREATE OR REPLACE keeps its history); other formats (the
    tests' Parquet in Spark's own catalog) cannot, so the old table is dropped first."""
    done = []
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS {quote_name(catalog)}.{quote_name(schema)}"
              + (f" COMMENT {sql_string(plan.spec.description)}" if plan.spec.description else ""))
    for table in plan.tables:
        full = f"{quote_name(catalog)}.{quote_name(schema)}.{quote_name(table.name)}"
        in_place = replace and using.upper() == "DELTA"
        if replace and not in_place:
            spark.sql(f"DROP TABLE IF EXISTS {full}")
        spark.sql(create_statement(plan, table, full, replace=in_place, using=using))
        columns = ", ".join(quote_name(field.name) for field in table.schema)
        source = "parquet.`" + str(Path(folder) / table.name).replace("`", "``") + "`"
        spark.sql(f"INSERT INTO {full} ({columns}) SELECT {columns} FROM {source}")
        done.append(f"{catalog}.{schema}.{table.name}")
    return done


def generate_with_connect(plan: Plan, spark, out: str | Path, *, mode: str = "error", compression: str = "snappy",
                          validate: bool = True, tables: tuple[str, str] | None = None,
                          using: str = "DELTA") -> tuple[Manifest, list[str]]:
    """Write the plan with the Spark engine into `out` (the folder sink: same files as a local
    run), then, with `tables=(catalog, schema)`, register each table there; (manifest, tables)."""
    from fabula.engine.spark import write_spark

    folder = output_folder(out)
    if tables is not None and mode == "error":
        check_spark_tables_free(spark, plan, *tables)  # before any work
    manifest = write_spark(plan, spark, folder, mode=mode, compression=compression, validate=validate)
    registered = register_tables_spark(spark, plan, folder, *tables, replace=mode == "overwrite", using=using) \
        if tables is not None else []
    return manifest, registered
