"""`fabula generate SPEC --engine spark`: the same folder as the local engine, through Spark."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner
from spark.compare import assert_same_rows, read_folder

import fabula
from helpers import SMALL_SPEC
from fabula.cli.main import main


def invoke(*args: str):
    """The CLI in-process through `main` (exit codes as the real command). A Spark session is
    already active in this process, so the command uses it rather than starting its own."""
    import click

    @click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    @click.pass_context
    def entry(ctx):
        main(ctx.args)

    return CliRunner().invoke(entry, list(args), catch_exceptions=False)


@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL_SPEC, sort_keys=False))
    return path


def test_generate_on_spark_writes_the_local_layout(spark, spec_file, local_tables, tmp_path):
    out = tmp_path / "out"
    result = invoke("generate", str(spec_file), "--engine", "spark", "--master", "local[2]", "--out", str(out),
                    "--scale", "2", "--seed", "11")
    assert result.exit_code == 0, result.output
    assert "rows in" in result.output
    assert spark.range(1).count() == 1, "the command must not stop a session it did not start"
    manifest = json.loads((out / "manifest.json").read_text())
    plan = fabula.compile_plan(SMALL_SPEC, scale=2, seed=11)
    assert manifest["seed"] == 11 and manifest["scale"] == 2
    local = local_tables(plan)
    for table in plan.tables:
        assert (out / table.name / "part-00000.parquet").is_file()
        assert_same_rows(local[table.name], read_folder(out / table.name, table.schema), table.schema,
                         f"CLI {table.name}")


def test_master_needs_the_spark_engine(spec_file, tmp_path):
    result = invoke("generate", str(spec_file), "--master", "local[2]", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "--master applies only with --engine spark" in result.output


def test_workers_belong_to_the_local_engine(spec_file, tmp_path):
    result = invoke("generate", str(spec_file), "--engine", "spark", "--workers", "2", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "--workers applies to --engine local" in result.output


def test_an_existing_output_is_refused_before_spark_starts(spec_file, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = invoke("generate", str(spec_file), "--engine", "spark", "--out", str(out))
    assert result.exit_code == 2
    assert "already exists" in result.output
