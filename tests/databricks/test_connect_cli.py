"""`--engine spark --databricks …` on the command line: what is refused before any session starts.
(The run itself, through a Spark Connect stand-in, is in tests/spark/test_databricks_connect.py.)"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest


def fabula_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fabula", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(importlib.util.find_spec("databricks.connect") is not None, reason="databricks-connect is installed")
def test_without_databricks_connect_the_install_hint(tmp_path):
    result = fabula_cli("generate", "retail", "--engine", "spark", "--databricks", "serverless", "--out",
                        str(tmp_path / "out"))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "--databricks needs Databricks Connect" in result.stderr
    assert "pip install 'fabula[databricks-connect]'" in result.stderr
    assert not (tmp_path / "out").exists()


def test_options_that_do_not_go_with_databricks(tmp_path):
    out = str(tmp_path / "out")
    assert "add --engine spark" in fabula_cli("generate", "retail", "--databricks", "serverless", "--out", out).stderr
    warehouse = fabula_cli("generate", "retail", "--engine", "spark", "--databricks", "serverless", "--out",
                           "/Volumes/main/demo/raw/x", "--tables", "--warehouse", "w")
    assert warehouse.returncode == 2 and "spark.sql" in warehouse.stderr
    local_tables = fabula_cli("generate", "retail", "--engine", "spark", "--databricks", "cluster:1", "--out", out,
                              "--tables")
    assert local_tables.returncode == 2 and "catalog.schema of --out's Volume" in local_tables.stderr
    csv_tables = fabula_cli("generate", "retail", "--engine", "spark", "--databricks", "serverless", "--out",
                            "/Volumes/main/demo/raw/x", "--tables", "--format", "csv")
    assert csv_tables.returncode == 2 and "leave out --format" in csv_tables.stderr
    bogus = fabula_cli("generate", "retail", "--engine", "spark", "--databricks", "cluster", "--out", out)
    assert bogus.returncode == 2 and "names no compute" in bogus.stderr


def test_an_occupied_out_is_refused_before_a_session_starts(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine", encoding="utf-8")
    result = fabula_cli("generate", "retail", "--engine", "spark", "--databricks", "serverless", "--out",
                        str(tmp_path / "out"))
    assert result.returncode == 2 and "already exists and is not empty" in result.stderr
    assert "Databricks Connect" not in result.stderr
