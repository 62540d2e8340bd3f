"""The `fabula` command as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml
from click.testing import CliRunner

from fabula.cli.main import main

from helpers import SMALL_SPEC


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fabula", *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "160"})


@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL_SPEC, sort_keys=False))
    return path


def invoke(*args: str):
    """Run the CLI in-process, through `main` so exit codes match the real command."""
    runner = CliRunner()
    return runner.invoke(_entry, list(args), catch_exceptions=False)


import click  # noqa: E402


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def _entry(ctx):
    main(ctx.args)


def test_help_lists_the_workflow():
    result = run("--help")
    assert result.returncode == 0
    for command in ("check", "plan", "preview", "generate", "scenarios"):
        assert command in result.stdout
    assert "fabula generate retail --out" in result.stdout


def test_generate_writes_parquet_and_prints_a_summary(spec_file, tmp_path):
    out = tmp_path / "out"
    result = run("generate", str(spec_file), "--out", str(out), "--scale", "0.5", "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert "customers" in result.stdout and "2,500" in result.stdout and "rows/s" in result.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["tables"]["events"]["rows"] == 4500 and manifest["scale"] == 0.5


def test_generate_builtin_with_seed_and_as_of(tmp_path):
    out = tmp_path / "retail"
    result = invoke("generate", "retail", "--out", str(out), "--scale", "0.01", "--seed", "5",
                    "--as-of", "2023-03-31", "--quiet")
    assert result.exit_code == 0, result.output
    assert result.output == ""
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["seed"], manifest["as_of"]) == (5, "2023-03-31")


def test_existing_output_is_refused_with_a_hint(spec_file, tmp_path):
    out = tmp_path / "out"
    assert invoke("generate", str(spec_file), "--out", str(out), "-q").exit_code == 0
    result = run("generate", str(spec_file), "--out", str(out))
    assert result.returncode == 2
    assert "already exists" in result.stderr and "--mode overwrite" in result.stderr
    assert run("generate", str(spec_file), "--out", str(out), "--mode", "overwrite", "-q").returncode == 0


def test_plan_shows_tables_kinds_and_rules(spec_file):
    result = invoke("plan", str(spec_file), "--scale", "2")
    assert result.exit_code == 0, result.output
    for text in ("customers", "10,000 rows", "lognormal", "by tier", "Enterprise", "categorical",
                 "faker", "nulls 10%", "round 2"):
        assert text in result.output, text


def test_preview_shows_rows_without_writing(spec_file, tmp_path):
    result = invoke("preview", str(spec_file), "--rows", "3", "--table", "customers")
    assert result.exit_code == 0, result.output
    assert "C-00000" in result.output and "C-00002" in result.output and "C-00003" not in result.output
    assert "events" not in result.output
    assert not any(tmp_path.glob("**/*.parquet"))


def test_preview_unknown_table_names_the_choices(spec_file):
    result = run("preview", str(spec_file), "--table", "custmers")
    assert result.returncode == 2
    assert "custmers" in result.stderr and "customers" in result.stderr


def test_check_ok(spec_file):
    result = invoke("check", str(spec_file))
    assert result.exit_code == 0 and "ok" in result.output


@pytest.mark.parametrize("args,needle", [
    (("--as-of", "yesterday"), "2024-12-31"),
    (("--scale", "0"), "--scale"),
    (("--seed", "-1"), "--seed"),
    (("--workers", "0"), "--workers"),
    (("--mode", "upsert"), "--mode"),  # append is a mode since issue 13
])
def test_bad_options_name_the_option(spec_file, tmp_path, args, needle):
    result = run("generate", str(spec_file), "--out", str(tmp_path / "o"), *args)
    assert result.returncode == 2
    assert needle in result.stderr
    assert not (tmp_path / "o").exists()


def test_unknown_spec_name_lists_builtins(tmp_path):
    result = run("plan", "retial")
    assert result.returncode == 2
    assert "retail" in result.stderr


def test_scenarios_lists_and_prints_builtins():
    listed = invoke("scenarios")
    assert "retail" in listed.output.split()
    printed = invoke("scenarios", "retail")
    assert yaml.safe_load(printed.output)["name"] == "retail"


HEAVY_IMPORTS = ("numpy", "pyarrow", "pyarrow.compute", "pandas", "pydantic", "yaml", "duckdb", "faker", "holidays",
                 "fabula.spec", "fabula.plan", "fabula.validate")
"""What a command pays for only when it needs it (issue 16: `fabula --help` in 0.3 s; pandas,
which pyarrow imports for any `pa.array` of Python values when it is installed, costs 0.25 s alone)."""


@pytest.mark.parametrize("args", [["--help"], ["generate", "--help"], ["generate", "retail"]])
def test_help_and_usage_errors_import_no_heavy_library(args):
    """`fabula --help`, a command's help and a usage error (no --out) answer at once: the CLI
    imports the heavy layers inside its commands, after the options are parsed."""
    code = ("import sys; from fabula.cli.main import main\n"
            f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
            f"print(sorted(m for m in {HEAVY_IMPORTS!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr


def test_the_command_in_its_own_process_runs_without_pandas_and_writes_the_same_files(tmp_path, spec_file):
    """`fabula generate` (the local engine) hides pandas from pyarrow in its own process (issue 16:
    pyarrow would import it, a quarter of a second, only to ask whether a value is a pandas
    object); the files are the ones written in a process that has pandas."""
    import pandas  # noqa: F401  - the in-process run below has pandas, as a user's notebook would

    from helpers import file_digests

    code = ("import sys; from fabula.cli.main import main\n"
            f"sys.argv = ['fabula', 'generate', {str(spec_file)!r}, '--out', {str(tmp_path / 'own')!r}, '-q']\n"
            "try:\n    main()\nfinally:\n    print('pandas' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip().splitlines()[-1] == "False", done.stdout + done.stderr
    assert invoke("generate", str(spec_file), "--out", str(tmp_path / "here"), "-q").exit_code == 0
    assert file_digests(tmp_path / "own") == file_digests(tmp_path / "here") != {}


@pytest.mark.parametrize(("mode", "collecting"), [("overwrite", False), ("append", True)])
def test_the_command_collects_garbage_only_when_the_run_may_be_long(tmp_path, spec_file, mode, collecting):
    """issue 16: a small `fabula generate` in its own process runs without Python's cyclic
    collector (it would walk the start-up objects 180 times); an append, whose size the command
    does not know, runs with it, the start-up objects frozen out of its view."""
    invoke("generate", str(spec_file), "--out", str(tmp_path / "out"), "-q")  # something to append to
    code = ("import gc, sys; from fabula.cli.main import main\n"
            f"sys.argv = ['fabula', 'generate', {str(spec_file)!r}, '--out', {str(tmp_path / 'out')!r}, "
            f"'--mode', {mode!r}, '-q']\n"
            "try:\n    main()\nfinally:\n    print(gc.isenabled(), gc.get_freeze_count() > 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(collecting), str(collecting)]


def test_the_cli_names_the_report_as_validation_does():
    """The CLI keeps its own copy of the name (importing validation would load Arrow); it never
    reads report.json back: the API hands it the report."""
    from fabula.cli import printing
    from fabula.validate import report

    assert printing.REPORT_HTML == report.REPORT_HTML
