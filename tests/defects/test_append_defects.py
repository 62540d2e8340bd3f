"""Defects in appended batches (`--mode append`): each batch injects its own defects, its labels
go on in the folder's `_defects` table with the rows and keys counting on, no key of a damaged
row collides with a later batch's, and validate accepts every batch's declared defects."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml

import fabula
from fabula.defects import clean_batches, labels_of
from fabula.engine.append_clean import batch_labels
from fabula.manifest import read_manifest
from fabula.validate.defects import read_labels

DIRTY = "saas_support_dirty"
SCALE = 0.05
SCENARIOS = Path(fabula.__file__).parent / "scenarios"


def append(spec, out: Path, times: int = 2, **options):
    result = None
    for _ in range(times):
        result = fabula.generate(spec, out, mode="append", scale=SCALE, **options)
    return result


def plain(table: pa.Table) -> pa.Table:
    return pa.table({name: column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
                     for name, column in zip(table.column_names, table.columns)})


def batch_table(out: Path, record, table: str) -> pa.Table:
    return pa.concat_tables([pq.read_table(out / path) for path in record["files"][table]])


@pytest.fixture(scope="module")
def dirty(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("append") / "dirty"
    append(DIRTY, out, validate=False)
    return out


def test_each_batch_labels_its_own_defects_with_rows_counting_on(dirty):
    manifest = read_manifest(dirty)
    first, second = manifest.batches
    assert second["files"]["_defects"] and second["files"]["_defects"] != first["files"]["_defects"]
    labels = read_labels(dirty)
    assert manifest.tables["_defects"].rows == labels.num_rows
    for table in ("customers", "orders", "tickets"):
        mine = labels_of(labels, table)
        start, end = second["rows"][table]
        later = mine.filter(pc.greater_equal(mine.column("row"), start))
        assert later.num_rows and pc.max(later.column("row")).as_py() < end
        # the key a label names is the key of that row of the whole appended table
        written = pa.concat_tables([batch_table(dirty, record, table) for record in (first, second)])
        key = {"customers": "customer_id", "orders": "order_id", "tickets": "ticket_id"}[table]
        keys = pc.cast(written.column(key), pa.string()).take(later.column("row"))
        assert keys.to_pylist() == later.column("key").to_pylist()


def test_batches_differ_and_a_rerun_reproduces_them(dirty, tmp_path):
    manifest = read_manifest(dirty)
    first, second = (batch_labels(dirty, record) for record in manifest.batches)
    assert first.num_rows and second.num_rows
    assert first.column("row").to_pylist() != second.column("row").to_pylist()  # batch 1 is no replay of batch 0
    again = tmp_path / "again"
    append(DIRTY, again, validate=False)
    for path in sorted(dirty.glob("*/*.parquet")):
        assert path.read_bytes() == (again / path.relative_to(dirty)).read_bytes(), path


def test_no_key_of_a_damaged_row_collides_with_another_batch(dirty):
    db = duckdb.connect()
    tickets, customers = f"'{dirty}/tickets/*.parquet'", f"'{dirty}/customers/*.parquet'"
    total, distinct = db.execute(f"select count(*), count(distinct ticket_id) from {tickets}").fetchone()
    assert total == distinct  # new-key copies take keys no batch writes
    labelled = db.execute(f"""select key from '{dirty}/_defects/*.parquet' where "table" = 'tickets'
                              and kind = 'orphan' order by key""").fetchall()
    orphans = db.execute(f"""select ticket_id from {tickets} where customer_id is not null and customer_id
                             not in (select customer_id from {customers}) order by ticket_id""").fetchall()
    assert labelled and labelled == orphans  # a later batch never wrote an earlier orphan's customer


def test_validate_accepts_every_batchs_declared_defects(dirty):
    report = fabula.validate_output(dirty, strict=True)
    names = [check.name for check in report.checks if check.family == "defects"]
    assert any(name.startswith("batch 1: ") for name in names)
    assert all(check.verdict != "fail" for check in report.checks)


def test_validate_fails_on_an_undeclared_problem(dirty, tmp_path):
    """The batch-1 labels of the orphans dropped (and the manifest's record of them made true
    again): those orphans are undeclared now, and validation says so."""
    out = tmp_path / "copy"
    shutil.copytree(dirty, out)
    manifest = read_manifest(out)
    path = manifest.batches[1]["files"]["_defects"][0]
    labels = pq.read_table(out / path)
    keep = pc.invert(pc.and_(pc.equal(labels.column("table"), "tickets"), pc.equal(labels.column("kind"), "orphan")))
    pq.write_table(labels.filter(keep), out / path)
    _rewrite_entry(out, path, labels.filter(keep).num_rows)
    report = fabula.validate_output(out, strict=False)
    failed = [check.name for check in report.failed]
    assert any("customer_id" in name and ("batch 1" in name or "across batches" in name) for name in failed), failed


def _rewrite_entry(out: Path, path: str, rows: int) -> None:
    """The manifest's entry for a file rewritten by a test, as fabula would have recorded it."""
    from dataclasses import replace

    from fabula.manifest import FileEntry, file_sha256

    manifest = read_manifest(out)
    tables = dict(manifest.tables)
    entry = tables["_defects"]
    rewritten = FileEntry(path=path, rows=rows, bytes=(out / path).stat().st_size, sha256=file_sha256(out / path))
    files = tuple(rewritten if file.path == path else file for file in entry.files)
    tables["_defects"] = replace(entry, files=files, rows=sum(file.rows or 0 for file in files))
    batches = [dict(record) for record in manifest.batches]
    first, _ = batches[1]["rows"]["_defects"]
    batches[1]["rows"] = {**batches[1]["rows"], "_defects": [first, first + rows]}
    (out / "manifest.json").write_text(replace(manifest, tables=tables, batches=tuple(batches)).to_json())
    assert read_manifest(out).digest_matches


def test_clean_rows_of_every_batch_are_the_clean_specs(tmp_path):
    """Defects that take no key (no orphans, no new-key copies): each batch's clean rows are the
    clean spec's batch, byte for byte."""
    spec = yaml.safe_load((SCENARIOS / f"{DIRTY}.yaml").read_text())
    for table in spec["tables"].values():
        table["defects"] = [defect for defect in table.get("defects", [])
                            if defect["kind"] != "orphan" and defect.get("form") != "new_key"]
    path = tmp_path / "dirty.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    dirty, clean = tmp_path / "dirty", tmp_path / "clean"
    append(str(path), dirty, validate=False)
    append("saas_support", clean, validate=False)
    dirty_batches, clean_batches_ = read_manifest(dirty).batches, read_manifest(clean).batches
    for index in (0, 1):
        labels = batch_labels(dirty, dirty_batches[index])
        for table in ("customers", "orders", "tickets", "events"):
            written = batch_table(dirty, dirty_batches[index], table)
            restored = pa.Table.from_batches(list(clean_batches(written.to_batches(), labels_of(labels, table))))
            assert plain(restored).equals(plain(batch_table(clean, clean_batches_[index], table))), (index, table)


@pytest.mark.parametrize("output_format", ["csv", "json", "delta"])
def test_every_format_appends_and_validates_dirty_batches(tmp_path, output_format):
    """The batch's own validation while it is written (its files alone) and the folder's after."""
    out = tmp_path / "out"
    for _ in range(2):
        result = fabula.generate(DIRTY, out, mode="append", scale=0.03, output_format=output_format)
        assert not [check.name for check in result.report.checks if check.verdict == "fail"]
    assert len(read_manifest(out).batches) == 2
    assert not fabula.validate_output(out, strict=True).failed


def test_deleted_rows_are_refused_in_an_appended_batch(tmp_path):
    """Which rows `deleted` removes is a hash of one batch's row numbers: a new batch's children
    could pick a parent an earlier batch deleted without knowing it, so append refuses it."""
    from fabula.errors import UsageError

    spec = {"name": "d", "seed": 3, "as_of": "2024-06-30", "tables": {
        "customers": {"rows": 50, "columns": {"customer_id": {"kind": "id", "format": "C-{:03d}"}},
                      "defects": [{"kind": "deleted", "rate": 0.1}]},
        "orders": {"rows": 200, "columns": {"order_id": {"kind": "id", "format": "O-{:04d}"},
                                            "customer_id": {"kind": "reference", "to": "customers.customer_id"}}}}}
    with pytest.raises(UsageError, match="`kind: deleted` is not built for --mode append"):
        fabula.generate(spec, tmp_path / "out", mode="append")
    assert not (tmp_path / "out").exists()
    fabula.generate(spec, tmp_path / "snapshot")  # as one snapshot it is fine
