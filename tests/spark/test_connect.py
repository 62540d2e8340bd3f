"""Through Spark Connect, on a local server whose Python workers cannot import the installed
fabula: the engine ships its own copy and produces the local engine's tables."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from spark.compare import assert_same_rows, read_folder
from spark.specs import clean_builtin_names, every_kind_spec

import fabula
from helpers import SMALL_SPEC
from fabula.engine.spark import to_dataframes
from fabula.plan.compile import compile_plan
from fabula.spec import build_spec


def test_executors_cannot_import_the_installed_fabula(connect):
    """The premise of the other tests here: only the copy the engine ships is importable."""
    def probe(batches):
        for batch in batches:
            import pyarrow

            try:
                import fabula  # noqa: F401
                found = "importable"
            except ModuleNotFoundError:
                found = "missing"
            yield pyarrow.RecordBatch.from_pydict({"fabula": [found] * batch.num_rows})

    assert connect.range(0, 1, 1, 1).mapInArrow(probe, "fabula string").toArrow().column(0).to_pylist() == ["missing"]


def test_every_kind_and_relation_matches_local(connect, local_tables):
    plan = compile_plan(build_spec(every_kind_spec()), block_rows=700)
    local = local_tables(plan)
    for name, frame in to_dataframes(plan, connect, partitions=3).items():
        assert_same_rows(local[name], frame.toArrow(), plan.table(name).schema, f"connect {name}")


@pytest.mark.parametrize("name", clean_builtin_names())
def test_builtin_spec_matches_local(connect, local_tables, name):
    plan = fabula.compile_plan(name, scale=0.1)
    frames = fabula.to_spark(plan, connect, partitions=3)
    local = local_tables(plan)
    for table in plan.tables:
        assert_same_rows(local[table.name], frames[table.name].toArrow(), table.schema, f"connect {name} {table.name}")


def test_cli_writes_through_spark_connect(connect_server, local_tables, tmp_path):
    """`fabula generate --engine spark --master sc://…`, run as a user runs it."""
    spec = tmp_path / "small.yaml"
    spec.write_text(yaml.safe_dump(SMALL_SPEC, sort_keys=False))
    out = tmp_path / "small"
    done = subprocess.run([sys.executable, "-m", "fabula", "generate", str(spec), "--out", str(out),
                           "--engine", "spark", "--master", connect_server.url],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    assert "rows in" in done.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    plan = fabula.compile_plan(SMALL_SPEC)
    local = local_tables(plan)
    assert manifest["engine"] == "spark"
    assert "validation PASS" in done.stdout or "validation WARN" in done.stdout  # checked while written
    for table in plan.tables:
        assert [entry["path"] for entry in manifest["tables"][table.name]["files"]] == \
            [f"{table.name}/part-00000.parquet"]
        assert_same_rows(local[table.name], read_folder(out / table.name, table.schema), table.schema,
                         f"CLI over Connect {table.name}")
    verdict = subprocess.run([sys.executable, "-m", "fabula", "validate", str(out), "--strict"],
                             capture_output=True, text=True, timeout=600, check=False)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
