"""`--mode append`: a batch continues the folder's state, and validate checks every batch."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import duckdb
import pytest

import fabula
from fabula.errors import OutputError


def append_twice(out, **options):
    for _ in range(2):
        manifest = fabula.generate("saas_support", out, mode="append", scale=0.05, **options).manifest
    return manifest


@pytest.mark.parametrize("output_format", ["parquet", "csv", "json", "delta"])
def test_ids_continue_and_the_whole_folder_validates(tmp_path, output_format):
    out = tmp_path / "out"
    manifest = append_twice(out, output_format=output_format)
    first, second = manifest.batches
    assert first["rows"]["orders"][1] == second["rows"]["orders"][0]  # rows continue, no gap
    assert manifest.tables["orders"].rows == second["rows"]["orders"][1]
    assert date.fromisoformat(second["as_of"]) > date.fromisoformat(first["as_of"])
    assert first["seed"] == 42 and second["seed"] != 42
    report = fabula.validate_output(out, strict=True)
    batches = [check for check in report.checks if check.family == "batches"]
    assert batches and all(check.verdict == "pass" for check in batches)
    assert any(check.name.startswith("batch 1: ") for check in report.checks)


def test_ids_unique_over_both_batches_read_by_duckdb(tmp_path):
    out = tmp_path / "out"
    manifest = append_twice(out)
    connection = duckdb.connect()
    ids = connection.execute(f"SELECT count(*), count(DISTINCT order_id) FROM '{out}/orders/*.parquet'").fetchall()[0]
    assert ids[0] == ids[1] == manifest.tables["orders"].rows
    orphans = connection.execute(
        f"SELECT count(*) FROM '{out}/orders/*.parquet' o WHERE customer_id NOT IN "
        f"(SELECT customer_id FROM '{out}/customers/*.parquet')").fetchall()[0][0]
    assert orphans == 0


def test_first_batch_is_exactly_generate(tmp_path):
    fabula.generate("saas_support", tmp_path / "one", scale=0.05, validate=False)
    fabula.generate("saas_support", tmp_path / "batch", mode="append", scale=0.05, validate=False)
    for path in sorted((tmp_path / "one").glob("*/*.parquet")):
        assert path.read_bytes() == (tmp_path / "batch" / path.relative_to(tmp_path / "one")).read_bytes()


def test_same_runs_give_the_same_data(tmp_path):
    for name in ("a", "b"):
        append_twice(tmp_path / name, validate=False)
    files = sorted(path.relative_to(tmp_path / "a") for path in (tmp_path / "a").glob("*/*.parquet"))
    assert any("part-b00001" in str(path) for path in files)
    for path in files:
        assert (tmp_path / "a" / path).read_bytes() == (tmp_path / "b" / path).read_bytes()


def test_as_of_moves_to_the_next_window_or_the_one_given(tmp_path):
    out = tmp_path / "out"
    fabula.generate("saas_support", out, mode="append", scale=0.05, validate=False)
    manifest = fabula.generate("saas_support", out, mode="append", scale=0.05, validate=False,
                               as_of=date(2025, 3, 1)).manifest
    assert manifest.batches[1]["as_of"] == "2025-03-01"
    with pytest.raises(OutputError, match="later --as-of"):
        fabula.generate("saas_support", out, mode="append", scale=0.05, as_of=date(2025, 1, 1))


def test_append_refuses_another_spec_or_format(tmp_path):
    out = tmp_path / "out"
    fabula.generate("saas_support", out, mode="append", scale=0.05, validate=False)
    with pytest.raises(OutputError, match="different spec"):
        fabula.generate("retail", out, mode="append", scale=0.05)
    with pytest.raises(OutputError, match="cannot append csv"):
        fabula.generate("saas_support", out, mode="append", output_format="csv", scale=0.05)
    assert len(json.loads((out / "manifest.json").read_text())["batches"]) == 1


def test_cli_append_twice_then_validate_strict(tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "fabula"]
    for _ in range(2):
        run = subprocess.run([*command, "generate", "saas_support", "--out", str(out), "--mode", "append",
                              "--scale", "0.05", "-q"], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
    run = subprocess.run([*command, "validate", str(out), "--strict", "-q"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
