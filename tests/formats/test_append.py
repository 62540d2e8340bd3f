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


# -- new children of old parents -------------------------------------------------------------------

CONTINUING = {
    "name": "continuing", "seed": 11, "as_of": "2024-12-31",
    "timelines": {"sales": {"start": "-30d", "end": "today", "rate": 40}},
    "tables": {
        "customers": {"rows": 150, "columns": {
            "customer_id": {"kind": "id", "format": "C-{:05d}"},
            "tier": {"kind": "categorical", "values": {"Free": 6, "Pro": 3, "Enterprise": 1}},
            "signed_up": {"kind": "timestamp", "start": "-60d", "end": "today"}}},
        "orders": {"rows": {"timeline": "sales"}, "columns": {
            "order_id": {"kind": "id", "format": "O-{:06d}"},
            "customer_id": {"kind": "reference", "to": "customers.customer_id", "pick": "weighted",
                            "weight_by": "tier", "weights": {"Free": 1, "Pro": 3, "Enterprise": 8}},
            "tier": {"kind": "lookup", "from": "customer_id.tier"},
            "placed_at": {"kind": "timestamp", "timeline": "sales"},
            "first_seen": {"kind": "timestamp", "start": "-60d", "end": "today", "after": "customer_id.signed_up"}}},
        "visits": {"rows": 300, "columns": {
            "visit_id": {"kind": "sequence"},
            "customer_id": {"kind": "reference", "to": "customers.customer_id", "pick": "zipf", "a": 1.2}}},
    },
}


def batch_rows(connection, out, manifest, table: str) -> str:
    """A query of a table's rows with the batch that wrote each (from the manifest's history)."""
    selects = [f"SELECT *, {record['batch']} AS batch FROM read_parquet([{', '.join(repr(str(out / path)) for path in record['files'][table])}])"
               for record in manifest.batches]
    return " UNION ALL ".join(selects)


def test_new_children_reference_old_parents_and_never_later_ones(tmp_path):
    out = tmp_path / "out"
    for _ in range(3):
        manifest = fabula.generate(CONTINUING, out, mode="append").manifest
    connection = duckdb.connect()
    customers = batch_rows(connection, out, manifest, "customers")
    for child in ("orders", "visits"):
        rows = connection.execute(
            f"SELECT c.batch AS child_batch, p.batch AS parent_batch, count(*) FROM ({batch_rows(connection, out, manifest, child)}) c "
            f"LEFT JOIN ({customers}) p USING (customer_id) GROUP BY ALL ORDER BY ALL").fetchall()
        assert all(parent is not None for _, parent, _ in rows), f"{child}: a key no batch wrote"
        assert all(parent <= child_batch for child_batch, parent, _ in rows), f"{child}: a parent written later"
        by_batch = {(child_batch, parent): count for child_batch, parent, count in rows}
        assert by_batch.get((1, 0)) and by_batch.get((2, 0)) and by_batch.get((2, 1)), \
            f"{child}: later batches should also pick older batches' parents: {by_batch}"
        assert by_batch.get((1, 1)) and by_batch.get((2, 2))  # and their own
    # what a child reads through the reference is its (old) parent's: values and times agree
    wrong = connection.execute(
        f"SELECT count(*) FILTER (WHERE o.tier <> c.tier), count(*) FILTER (WHERE o.first_seen < c.signed_up) "
        f"FROM ({batch_rows(connection, out, manifest, 'orders')}) o JOIN ({customers}) c USING (customer_id)").fetchall()[0]
    assert wrong == (0, 0)
    report = fabula.validate_output(out, strict=True)
    assert any(check.name == "batch 2: orders.customer_id has no orphans" and "batch 2 or an earlier one"
               in check.message for check in report.checks)
    assert any(check.name.startswith("orders.first_seen never before") and check.verdict == "pass"
               for check in report.checks)


def test_old_parents_are_picked_the_same_way_every_time(tmp_path):
    manifests = []
    for name in ("a", "b"):
        for _ in range(2):
            manifest = fabula.generate(CONTINUING, tmp_path / name, mode="append", validate=False).manifest
        manifests.append(manifest)
    assert manifests[0].tables == manifests[1].tables  # same files, byte for byte (sha256)


def test_a_reference_to_a_parent_that_does_not_exist_yet_fails_validation(tmp_path):
    """The per-batch check is against the batches up to it: a batch-1 order naming a customer of
    batch 2 is caught even though batch 2 wrote that customer."""
    import pyarrow.parquet as pq

    out = tmp_path / "out"
    for _ in range(3):
        manifest = fabula.generate(CONTINUING, out, mode="append", validate=False).manifest
    later = pq.read_table(out / manifest.batches[2]["files"]["customers"][0]).column("customer_id")[0].as_py()
    path = out / manifest.batches[1]["files"]["visits"][0]
    visits = pq.read_table(path)
    ids = visits.column("customer_id").to_pylist()
    ids[0] = later
    pq.write_table(visits.set_column(1, "customer_id", __import__("pyarrow").array(ids)), path)
    report = fabula.validate_output(out)
    failed = {check.name: check.message for check in report.failed}
    assert "batch 1: visits.customer_id has no orphans" in failed
    assert repr(later) in failed["batch 1: visits.customer_id has no orphans"]


def test_a_later_batch_is_checked_once_with_the_batches_before_it(tmp_path, monkeypatch):
    """The first batch is checked as it is generated; a later one only once it is in place, with
    the others (its own checks as a single run would make them, then those across batches)."""
    from fabula.validate.run import Validation

    observed = []
    real_observe = Validation.observe
    monkeypatch.setattr(Validation, "observe", lambda self, *args: observed.append(args[0]) or
                        real_observe(self, *args))
    out = tmp_path / "out"
    first = fabula.generate("saas_support", out, mode="append", scale=0.05)
    assert observed and not any(check.name.startswith("batch") for check in first.report.checks)
    observed.clear()
    second = fabula.generate("saas_support", out, mode="append", scale=0.05)
    assert not observed
    names = [check.name for check in second.report.checks]
    assert any(name.startswith("batch 0: ") for name in names) and any(name.startswith("batch 1: ") for name in names)
    assert not second.failed


def test_an_append_without_validation_leaves_the_folder_fabulas(tmp_path):
    """The earlier batches' reports stay listed in the manifest, so fabula still owns them: an
    overwrite replaces the folder rather than refusing it for holding files it did not write."""
    out = tmp_path / "out"
    fabula.generate("saas_support", out, scale=0.05)
    appended = fabula.generate("saas_support", out, mode="append", scale=0.05, validate=False).manifest
    assert [entry.path for entry in appended.reports] == ["report.json", "report.html"]
    replaced = fabula.generate("saas_support", out, mode="overwrite", scale=0.05).manifest
    assert len(replaced.batches) <= 1 and not list(out.glob("*/part-b00001*"))
