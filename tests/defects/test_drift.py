"""Schema drift: from a declared batch on, a table's files have a column added, renamed or
retyped; the manifest records each batch's schema, the labels each drift, and validate reads
old and new batches back while an undeclared schema change fails."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import fabula
from fabula.errors import SpecError, UsageError
from fabula.manifest import FileEntry, file_sha256, read_manifest
from fabula.validate.defects import read_labels

SPEC = """
name: drifting
seed: 5
as_of: 2024-12-31
tables:
  orders:
    rows: 3000
    columns:
      id: {kind: id, format: "O-{:05d}"}
      amount: {kind: lognormal, mean: 3, sigma: 1, round: 2}
      status: {kind: categorical, values: {open: 1, closed: 2}}
      at: {kind: timestamp, start: -1y, end: today, unit: s}
"""

DRIFT = """
    defects:
      - {kind: missing, column: status, rate: 0.02}
      - {kind: drift, form: renamed, column: amount, name: amount_usd, from_batch: 1}
      - {kind: drift, form: added, column: channel, value: web, from_batch: 2}
      - {kind: drift, form: retyped, column: at, to: string, from_batch: 2}
"""


def append(spec: str, out: Path, times: int = 3, **options):
    result = None
    for _ in range(times):
        result = fabula.generate(fabula.load_spec(spec), out, mode="append", **options)
    return result


@pytest.fixture(scope="module")
def drifted(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("drift") / "out"
    append(SPEC + DRIFT, out, validate=False)
    return out


def test_the_spec_refuses_a_drift_it_cannot_write():
    bad = SPEC + """
    defects:
      - {kind: drift, form: renamed, column: amount, from_batch: 1}
      - {kind: drift, form: retyped, column: amount, to: int, from_batch: 1}
      - {kind: drift, form: added, column: status, from_batch: 1}
      - {kind: drift, form: renamed, column: amont, name: a, from_batch: 0}
      - {kind: drift, form: added, column: extra, rate: 0.1, from_batch: 1}
      - {kind: missing, column: status}
"""
    with pytest.raises(SpecError) as error:
        fabula.load_spec(bad)
    text = str(error.value)
    for expected in ("defects.0.name", "defects.1.to", "defects.2.column", "already has a column",
                     "defects.3.column", "defects.3.from_batch", "defects.4.rate", "defects.5.rate"):
        assert expected in text, expected


def test_a_snapshot_refuses_drift_with_key_value_and_fix(tmp_path):
    with pytest.raises(UsageError) as error:
        fabula.generate(fabula.load_spec(SPEC + DRIFT), tmp_path / "out")
    assert error.value.exit_code == 2
    assert "tables.orders.defects.1" in str(error.value) and "from_batch: 1" in str(error.value)
    assert "--mode append" in error.value.hint
    assert not (tmp_path / "out").exists()


def test_each_batch_writes_its_declared_schema_and_the_manifest_keeps_them(drifted):
    manifest = read_manifest(drifted)
    names = [pq.read_schema(drifted / record["files"]["orders"][0]).names for record in manifest.batches]
    assert names == [["id", "amount", "status", "at"], ["id", "amount_usd", "status", "at"],
                     ["id", "amount_usd", "status", "at", "channel"]]
    third = pq.read_table(drifted / manifest.batches[2]["files"]["orders"][0])
    assert third.schema.field("at").type == pa.string() and set(third.column("channel").to_pylist()) == {"web"}
    schemas = [dict(record["schema"]["orders"]) for record in manifest.batches]
    assert "amount" in schemas[0] and "amount_usd" in schemas[1] and schemas[2]["at"] == "string"


def test_values_are_the_clean_specs_under_the_new_schema(drifted, tmp_path):
    clean = tmp_path / "clean"
    append(SPEC, clean, validate=False)
    for index, record in enumerate(read_manifest(clean).batches):
        mine = pq.read_table(drifted / read_manifest(drifted).batches[index]["files"]["orders"][0])
        theirs = pq.read_table(clean / record["files"]["orders"][0])
        amount = "amount" if index == 0 else "amount_usd"
        assert mine.column(amount).equals(theirs.column("amount"))
        if index == 2:
            back = pc.cast(mine.column("at"), theirs.schema.field("at").type)
            assert back.equals(theirs.column("at"))


def test_one_label_per_drift_and_batch(drifted):
    labels = read_labels(drifted)
    drift = labels.filter(pc.equal(labels.column("kind"), "drift")).to_pylist()
    batches = read_manifest(drifted).batches
    found = sorted((label["row"], label["column"], label["form"], label["original"]) for label in drift)
    first = [record["rows"]["orders"][0] for record in batches]
    assert found == sorted([(first[1], "amount", "renamed", "amount: double"),
                            (first[2], "amount", "renamed", "amount: double"),
                            (first[2], "channel", "added", None),
                            (first[2], "at", "retyped", "at: timestamp[s]")])


def test_validate_reads_old_and_new_batches_and_accepts_the_declared_drift(drifted):
    report = fabula.validate_output(drifted, strict=True)
    schema = {check.name: check.message for check in report.checks if "declared schema" in check.name}
    assert schema["batch 2: orders has its declared schema"].startswith("amount renamed amount_usd, channel added")
    assert any(check.name.startswith("batch 2: orders.amount") for check in report.checks)  # values checked too


def test_an_undeclared_schema_change_fails(drifted, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(drifted, out)
    manifest = read_manifest(out)
    path = manifest.batches[1]["files"]["orders"][0]
    rows = pq.read_table(out / path)
    pq.write_table(rows.append_column("sneaky", pa.array([1] * rows.num_rows)), out / path)
    tables = dict(manifest.tables)
    tables["orders"] = replace(tables["orders"], files=tuple(
        FileEntry(path=file.path, rows=file.rows, bytes=(out / path).stat().st_size, sha256=file_sha256(out / path))
        if file.path == path else file for file in tables["orders"].files))
    (out / "manifest.json").write_text(replace(manifest, tables=tables).to_json())
    report = fabula.validate_output(out, strict=False)
    failed = {check.name: check.message for check in report.failed}
    assert "sneaky" in failed["batch 1: orders has its declared schema"]


@pytest.mark.parametrize("output_format", ["csv", "json"])
def test_text_formats_drift_and_validate(tmp_path, output_format):
    out = tmp_path / "out"
    result = append(SPEC + DRIFT, out, output_format=output_format)
    assert not result.report.failed
    header = (out / read_manifest(out).batches[2]["files"]["orders"][0]).read_text().splitlines()[0]
    assert "amount_usd" in header and "channel" in header


def test_delta_evolves_its_schema_by_added_columns(tmp_path):
    """A Delta table takes new columns (`mergeSchema`): a renamed column is a new one, the old
    name reads as null in the new rows; a retyped column cannot be written in place."""
    import deltalake

    with pytest.raises(UsageError, match="cannot change the type of `at`"):
        fabula.generate(fabula.load_spec(SPEC + DRIFT), tmp_path / "refused", mode="append", output_format="delta")
    spec = SPEC + "\n".join(line for line in DRIFT.splitlines() if "retyped" not in line) + "\n"
    out = tmp_path / "out"
    result = append(spec, out, output_format="delta")
    assert not result.report.failed
    table = deltalake.DeltaTable(str(out / "orders"))
    assert table.version() >= 3  # created, then per batch a commit (and the added columns)
    rows = pa.table(table.to_pyarrow_table())
    assert {"amount", "amount_usd", "channel"} <= set(rows.column_names)
    batches = read_manifest(out).batches
    sizes = [end - first for first, end in (record["rows"]["orders"] for record in batches)]
    assert rows.num_rows == sum(sizes)
    assert pc.sum(pc.is_valid(rows.column("amount"))).as_py() == sizes[0]
    assert pc.sum(pc.is_valid(rows.column("amount_usd"))).as_py() == sizes[1] + sizes[2]
    assert pc.sum(pc.is_valid(rows.column("channel"))).as_py() == sizes[2]
