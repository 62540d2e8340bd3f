"""What a user sees when the Spark engine cannot run as asked: other NumPy/PyArrow versions on
the executors, no pyspark, bad arguments."""

from __future__ import annotations

import dataclasses
import subprocess

import pytest
from spark.sessions import python_without

import fabula
from fabula.engine.spark import run_spark, table_dataframe, to_dataframes
from fabula.sinks import ParquetSink
from fabula.engine.spark_executor import Shipment, VersionMismatchError, check_versions
from fabula.errors import UsageError

SPEC = {"name": "tiny", "seed": 3, "tables": {"t": {"rows": 50, "columns": {
    "x": {"kind": "sequence"}, "tier": {"kind": "categorical", "values": ["a", "b"]}}}}}


def driver_claims(versions: dict[str, str]) -> Shipment:
    """A shipment as a driver with these library versions would send it."""
    shipment = Shipment.build(fabula.compile_plan(SPEC))
    return dataclasses.replace(shipment, versions={**shipment.versions, **versions})


def test_check_versions_names_both_versions_and_the_fix():
    import numpy

    with pytest.raises(VersionMismatchError) as raised:
        check_versions({"numpy": "1.0.0", "pyarrow": __import__("pyarrow").__version__})
    text = str(raised.value)
    assert f"numpy {numpy.__version__} on the Spark executors but 1.0.0 on the driver" in text
    assert "hint: install the same versions on both sides (pip install numpy==1.0.0)" in text
    check_versions({"numpy": numpy.__version__})  # the same versions: nothing to say


def test_executors_refuse_other_versions(spark):
    """An executor whose NumPy differs from the driver's raises instead of generating; the
    error reaches the driver through Spark with the versions and the fix."""
    plan = fabula.compile_plan(SPEC)
    frame = table_dataframe(spark, driver_claims({"numpy": "1.0.0"}), plan.table("t"), partitions=1)
    with pytest.raises(Exception) as raised:
        frame.toArrow()
    assert "on the Spark executors but 1.0.0 on the driver" in str(raised.value)
    found = VersionMismatchError.found_in(raised.value)
    assert found is not None and found.differences["numpy"][1] == "1.0.0"


def test_write_reports_the_mismatch_and_leaves_nothing(spark, tmp_path):
    plan = fabula.compile_plan(SPEC)
    shipment = driver_claims({"pyarrow": "9.0.0"})
    with pytest.raises(VersionMismatchError, match=r"pyarrow \S+ on the Spark executors but 9.0.0 on the driver"):
        run_spark(plan, spark, ParquetSink(tmp_path / "out"), shipment=shipment)
    assert list(tmp_path.iterdir()) == []  # neither the output nor its staged folder


def test_bad_partitions():
    with pytest.raises(UsageError, match="partitions must be at least 1, got 0"):
        to_dataframes(fabula.compile_plan(SPEC), None, partitions=0)


def _without_pyspark(tmp_path, *arguments: str) -> subprocess.CompletedProcess:
    python = python_without("pyspark", tmp_path / "no-pyspark")
    return subprocess.run([str(python), *arguments], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          check=False)


def test_api_without_pyspark_says_how_to_install_it(tmp_path):
    done = _without_pyspark(tmp_path, "-c", "import fabula\n"
                                            "try:\n    fabula.to_spark('retail', None)\n"
                                            "except fabula.UsageError as error:\n    print(error)\n")
    assert done.returncode == 0, done.stderr
    assert "the Spark engine needs pyspark, which is not installed" in done.stdout
    assert "hint: pip install 'fabula[spark]'" in done.stdout


def test_cli_without_pyspark_says_how_to_install_it(tmp_path):
    done = _without_pyspark(tmp_path, "-m", "fabula", "generate", "retail", "--engine", "spark", "--out", "out")
    assert done.returncode == 2
    assert "pip install 'fabula[spark]'" in done.stderr
    assert not (tmp_path / "out").exists()
    assert [path.name for path in tmp_path.iterdir()] == ["no-pyspark"]  # nothing staged either
