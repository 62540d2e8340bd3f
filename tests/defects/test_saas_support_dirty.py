"""The built-in dirty story, as the issue checks it: through the CLI, read back by DuckDB."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fabula.defects import clean_batches, labels_of
from fabula.validate.defects import read_labels


def plain(table: pa.Table) -> pa.Table:
    """Values only: a dictionary's order of values is the writer's business."""
    return pa.table({name: column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
                     for name, column in zip(table.column_names, table.columns)})


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fabula", *args], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("dirty")
    dirty, clean = root / "dirty", root / "clean"
    generated = run("generate", "saas_support_dirty", "--out", str(dirty), "--workers", "2", "--quiet")
    assert generated.returncode == 0, generated.stderr
    generated = run("generate", "saas_support", "--out", str(clean), "--workers", "2", "--quiet", "--no-validate")
    assert generated.returncode == 0, generated.stderr
    return dirty, clean


def test_duckdb_reads_the_labels_and_the_orphans_match_one_for_one(outputs):
    dirty, _ = outputs
    db = duckdb.connect()
    labels = f"'{dirty}/_defects/*.parquet'"
    columns = [row[0] for row in db.execute(f"describe select * from {labels}").fetchall()]
    assert {"table", "column", "kind"} <= set(columns)
    labelled = db.execute(f"""select key from {labels} where "table" = 'tickets' and kind = 'orphan'
                              order by key""").fetchall()
    orphans = db.execute(f"""select ticket_id from '{dirty}/tickets/*.parquet' t
                             where customer_id is not null and customer_id not in
                               (select customer_id from '{dirty}/customers/*.parquet')
                             order by ticket_id""").fetchall()
    assert labelled and labelled == orphans
    kinds = {row[0] for row in db.execute(f'select distinct kind from {labels}').fetchall()}
    assert kinds == {"missing", "outlier", "orphan", "duplicate", "malformed", "late", "before_parent"}


def test_validate_strict_passes_on_the_declared_defects(outputs):
    dirty, _ = outputs
    checked = run("validate", str(dirty), "--strict")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "defects" in checked.stdout


def test_the_clean_part_is_saas_support_exactly(outputs):
    dirty, clean = outputs
    labels = read_labels(dirty)
    for table in ("customers", "orders", "tickets", "events"):
        written = pq.read_table(dirty / table)
        restored = pa.Table.from_batches(list(clean_batches(written.to_batches(), labels_of(labels, table))))
        assert plain(restored).equals(plain(pq.read_table(clean / table))), table


def test_a_cell_not_labelled_is_the_clean_value(outputs):
    dirty, clean = outputs
    labels = labels_of(read_labels(dirty), "customers")
    written, original = pq.read_table(dirty / "customers"), pq.read_table(clean / "customers")
    touched = set(labels.column("row").to_pylist())
    assert written.num_rows == original.num_rows and touched
    for row in range(0, written.num_rows, 97):
        if row not in touched:
            assert written.slice(row, 1).equals(original.slice(row, 1))


def test_an_undeclared_problem_still_fails(outputs, tmp_path):
    dirty, _ = outputs
    copy = tmp_path / "copy"
    import shutil

    shutil.copytree(dirty, copy)
    labels = pq.read_table(copy / "_defects")
    kept = labels.filter(pa.compute.not_equal(labels.column("kind"), "orphan"))
    for path in (copy / "_defects").glob("*.parquet"):
        path.unlink()
    pq.write_table(kept, copy / "_defects" / "part-00000.parquet")
    checked = run("validate", str(copy), "--strict")
    assert checked.returncode != 0
    assert "orphans" in checked.stdout + checked.stderr


def test_the_docs_scoring_example_runs(outputs):
    """docs/defects.md: its spec loads and its DuckDB query scores a rule (a perfect one here)."""
    import re
    from pathlib import Path

    import yaml

    import fabula

    doc = (Path(__file__).parents[2] / "docs" / "defects.md").read_text(encoding="utf-8")
    example = yaml.safe_load(re.search(r"```yaml\n(.*?)```", doc, re.DOTALL).group(1))
    example["tables"]["customers"] = {"rows": 100, "columns": {"customer_id": {"kind": "id", "format": "C-{:04d}"}}}
    assert fabula.compile_plan(fabula.load_spec({"name": "doc", **example})).table("orders").rows == 25000
    dirty, _ = outputs
    query = re.search(r"```sql\n(.*?)```", doc, re.DOTALL).group(1).replace("'X/", f"'{dirty}/")
    precision, recall = duckdb.connect().execute(query).fetchone()
    assert (precision, recall) == (1.0, 1.0)
