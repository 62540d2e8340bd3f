"""The two kinds that move a row in time or out of the table: `before_parent` (a time before the
one it follows) and `deleted` (parent rows removed, their children's references labelled)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import fabula
from fabula.defects import clean_batches, labels_of
from fabula.defects.deletion import Deletion
from fabula.errors import SpecError
from fabula.spec.defects import DEFECT_KINDS
from fabula.validate.defects import read_labels

SPEC = """
name: d
seed: 3
as_of: 2024-12-31
tables:
  c:
    rows: 66000
    columns:
      id: {kind: id, format: "C-{:05d}"}
      joined: {kind: timestamp, start: -2y, end: -1y, unit: s}
      tier: {kind: categorical, values: {Free: 3, Pro: 1}}
  o:
    rows: 20000
    columns:
      id: {kind: id, format: "O-{:06d}"}
      cid: {kind: reference, to: c.id}
      at: {kind: timestamp, start: -1y, end: today, unit: s}
      shipped: {kind: date, start: -1y, end: today, after: at, lag: 2}
      first: {kind: timestamp, start: -1y, end: today, after: cid.joined, lag: 3, unit: ms}
  t:
    rows: 12000
    columns:
      id: {kind: id, format: "T-{:06d}"}
      cid: {kind: reference, to: c.id, pick: zipf, a: 1.2}
"""

DEFECTS = {
    "c": """
    defects:
      - {kind: deleted, rate: 0.05}
      - {kind: missing, column: tier, rate: 0.02}
      - {kind: duplicate, rate: 0.01}
""",
    "o": """
    defects:
      - {kind: before_parent, column: shipped, rate: 0.02, days: 3}
      - {kind: before_parent, column: first, rate: 0.02}
      - {kind: orphan, column: cid, rate: 0.01}
      - {kind: duplicate, rate: 0.01}
""",
}


def dirty_spec(declared: dict[str, str] = DEFECTS) -> str:
    """SPEC with each table's defects after its columns."""
    text = SPEC
    for table, defects in declared.items():
        block = defects.lstrip("\n")
        text = re.sub(rf"(\n  {table}:\n(?:    .*\n)+)", lambda found, block=block: found.group(1) + block, text)
    return text


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("kinds")
    fabula.generate(fabula.load_spec(dirty_spec()), root / "dirty", workers=2)
    shutil.copy(root / "dirty" / "report.json", root / "generated.json")  # before a test validates again
    fabula.generate(fabula.load_spec(SPEC), root / "clean", workers=2, validate=False)
    return root / "dirty", root / "clean"


def plain(table: pa.Table) -> pa.Table:
    """Values only: a dictionary's order of values is the writer's business."""
    return pa.table({name: column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
                     for name, column in zip(table.column_names, table.columns)})


def failed(report) -> list[str]:
    return [f"{check.name}: {check.message}" for check in report.failed]


# -- loading -------------------------------------------------------------------------------------


def test_check_refuses_what_cannot_apply_all_at_once():
    bad = dirty_spec({"o": """
    defects:
      - {kind: before_parent, column: at, rate: 0.1}
      - {kind: before_parent, column: id, rate: 0.1}
      - {kind: deleted, column: id, rate: 0.1}
      - {kind: deleted, rate: 0.1}
      - {kind: deleted, rate: 0.2}
"""})
    with pytest.raises(SpecError) as error:
        fabula.load_spec(bad)
    text = str(error.value)
    assert "tables.o.defects.0.column" in text and "`at` follows none (it has no `after:`)" in text
    assert "add `after:` to `at`" in text
    assert "tables.o.defects.1.column" in text and "moves a date or time" in text
    assert "tables.o.defects.2.column" in text and "`deleted` removes whole rows and takes no `column`" in text
    assert "tables.o.defects.4.kind" in text and "declares `deleted` twice" in text


def test_deleted_needs_a_key_column():
    spec = "name: d\ntables:\n  e:\n    rows: 10\n    columns:\n      v: {kind: uniform, low: 0, high: 1}\n" \
           "    defects:\n      - {kind: deleted, rate: 0.1}\n"
    with pytest.raises(SpecError, match="recorded by its key, and `e` has no key column"):
        fabula.load_spec(spec)


def test_check_exits_2_on_before_parent_without_after(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "bad.yaml"
    path.write_text(SPEC + "    defects:\n      - {kind: before_parent, column: id, rate: 0.1}\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "fabula", "check", str(path)], capture_output=True, text=True)
    assert done.returncode == 2 and "tables.t.defects.0.column" in done.stdout + done.stderr


def test_every_kind_is_in_the_docs_table():
    doc = (Path(__file__).parents[2] / "docs" / "defects.md").read_text(encoding="utf-8")
    for kind in DEFECT_KINDS:
        assert f"| `{kind}` |" in doc, kind


# -- the written data ------------------------------------------------------------------------------


def test_validate_passes_and_reports_every_declared_kind(outputs):
    dirty, _ = outputs
    report = fabula.validate_output(dirty, strict=False)
    assert not failed(report)
    names = {check.name: check for check in report.checks if check.family == "defects"}
    for name in ("c: deleted at 5.00%", "o.shipped: before_parent at 2.00%", "o.first: before_parent at 2.00%",
                 "o.cid: orphan (deleted), pointing at deleted c rows",
                 "t.cid: orphan (deleted), pointing at deleted c rows",
                 "t: every label is true of the written rows"):
        assert names[name].verdict == "pass", (name, names[name].message)


def test_before_parent_times_precede_what_they_follow(outputs):
    dirty, _ = outputs
    db = duckdb.connect()
    labels = f"'{dirty}/_defects/*.parquet'"
    own = db.execute(f"""select count(*), count(*) filter (where o.shipped < o.at) from {labels} l
                         join '{dirty}/o/*.parquet' o on o.id = l.key
                         where l."table" = 'o' and l."column" = 'shipped'""").fetchone()
    assert own[0] > 300 and own[0] == own[1]
    # against the parent's time: labelled rows whose parent is written (not an orphan) are before it
    parent = db.execute(f"""select count(*), count(*) filter (where o.first < c.joined) from {labels} l
                            join '{dirty}/o/*.parquet' o on o.id = l.key
                            join '{dirty}/c/*.parquet' c on c.id = o.cid
                            where l."table" = 'o' and l."column" = 'first'""").fetchone()
    assert parent[0] > 300 and parent[0] == parent[1]
    unlabelled = db.execute(f"""select count(*) from '{dirty}/o/*.parquet' o where o.shipped < o.at and o.id not in
                                (select key from {labels} where "column" = 'shipped')""").fetchone()[0]
    assert unlabelled == 0


def test_orphans_of_deleted_parents_match_one_for_one(outputs):
    dirty, _ = outputs
    db = duckdb.connect()
    labels = f"'{dirty}/_defects/*.parquet'"
    for child in ("o", "t"):
        labelled = db.execute(f"""select key, row from {labels} where "table" = '{child}' and kind = 'orphan'
                                  order by row""").fetchall()
        dangling = db.execute(f"""select id, row from (select id, cid, row_number() over () - 1 as row
                                  from '{dirty}/{child}/*.parquet') where cid not in
                                  (select id from '{dirty}/c/*.parquet') order by row""").fetchall()
        assert labelled and labelled == dangling, child
    # a deleted parent's key was real (inside the keys' range), unlike a made-up orphan's
    deleted = db.execute(f"""select key from {labels} where kind = 'deleted'""").fetchall()
    assert deleted and all(int(key[2:]) < 66000 for (key,) in deleted)
    assert not db.execute(f"""select count(*) from '{dirty}/c/*.parquet' where id in
                              (select key from {labels} where kind = 'deleted')""").fetchone()[0]


def test_the_clean_rows_are_the_clean_spec_exactly(outputs):
    dirty, clean = outputs
    labels = read_labels(dirty)
    for table in ("c", "o", "t"):
        written = pq.read_table(dirty / table)
        restored = pa.Table.from_batches(list(clean_batches(written.to_batches(), labels_of(labels, table))))
        assert plain(restored).equals(plain(pq.read_table(clean / table))), table
    written = pq.read_table(dirty / "c")
    assert written.num_rows < 66000  # rows really are gone from the files


def test_revalidation_rebuilds_the_same_report(outputs):
    """Re-validating the folder rebuilds the clean tables (deleted rows put back from their
    labels) and reaches every check's verdict and message that generate reached."""
    import json

    dirty, _ = outputs
    generated = {check["name"]: check for check in json.loads((dirty.parent / "generated.json").read_text())["checks"]}
    again = {check.name: check for check in fabula.validate_output(dirty, strict=False).checks}
    assert set(generated) <= set(again)
    for name, check in generated.items():
        if check["family"] == "integrity":
            continue  # the files, and whether an earlier test rewrote the report: not this test's business
        assert (again[name].verdict, again[name].message) == (check["verdict"], check["message"]), name


@pytest.mark.parametrize("output_format", ["csv", "json"])
def test_other_formats_carry_the_deleted_rows(tmp_path, output_format):
    out = tmp_path / "out"
    fabula.generate(fabula.load_spec(dirty_spec()), out, workers=2, output_format=output_format)
    assert not failed(fabula.validate_output(out, strict=False))


# -- undeclared problems still fail -------------------------------------------------------------------


def without_labels(dirty: Path, copy: Path, keep) -> Path:
    shutil.copytree(dirty, copy)
    labels = pq.read_table(copy / "_defects")
    for path in (copy / "_defects").glob("*.parquet"):
        path.unlink()
    pq.write_table(labels.filter(keep(labels)), copy / "_defects" / "part-00000.parquet")
    return copy


def test_an_unlabelled_time_before_its_parent_fails(outputs, tmp_path):
    dirty, _ = outputs
    copy = without_labels(dirty, tmp_path / "copy", lambda labels: pc.not_equal(labels.column("kind"), "before_parent"))
    problems = failed(fabula.validate_output(copy, strict=False))
    assert any("o.shipped never before at" in problem for problem in problems), problems
    assert any("o.first never before cid.joined" in problem for problem in problems), problems


def test_an_unlabelled_reference_to_a_deleted_parent_fails(outputs, tmp_path):
    dirty, _ = outputs
    copy = without_labels(dirty, tmp_path / "copy", lambda labels: pc.invert(pc.and_(
        pc.equal(labels.column("table"), "t"), pc.equal(labels.column("kind"), "orphan"))))
    problems = failed(fabula.validate_output(copy, strict=False))
    assert any(problem.startswith("t.cid: orphan (deleted)") for problem in problems), problems


def test_a_deletion_without_its_labels_fails(outputs, tmp_path):
    dirty, _ = outputs
    copy = without_labels(dirty, tmp_path / "copy", lambda labels: pc.not_equal(labels.column("kind"), "deleted"))
    problems = failed(fabula.validate_output(copy, strict=False))
    assert any("c: row count" in problem for problem in problems), problems


# -- the hash ---------------------------------------------------------------------------------------------


def test_deletion_is_a_pure_function_of_the_row_at_its_rate():
    deletion = Deletion.of(11, "c", 0.03, ("c", "defects", "*", "deleted", "", 0))
    rows = np.arange(400_000)
    whole = deletion.deleted(rows)
    pieces = np.concatenate([deletion.deleted(rows[i:i + 65_536]) for i in range(0, len(rows), 65_536)])
    assert np.array_equal(whole, pieces)
    assert abs(whole.mean() - 0.03) < 4 * np.sqrt(0.03 * 0.97 / len(rows))
    other = Deletion.of(12, "c", 0.03, ("c", "defects", "*", "deleted", "", 0))
    assert not np.array_equal(whole, other.deleted(rows))  # another seed deletes other rows


def test_as_many_copies_as_deletions_still_moves_the_rows():
    """A block that loses as many rows as it gains keeps its length, and still has to be
    rearranged: the restored clean rows tell (the search for such a seed is deterministic)."""
    from fabula.defects import Injector

    spec = """
name: even
seed: {seed}
tables:
  p:
    rows: 40
    columns:
      id: {{kind: id, format: "P-{{:03d}}"}}
      v: {{kind: uniform, low: 0, high: 1}}
    defects:
      - {{kind: deleted, rate: 0.1}}
      - {{kind: duplicate, rate: 0.1}}
"""
    for seed in range(200):
        plan = fabula.compile_plan(fabula.load_spec(spec.format(seed=seed)))
        injector = Injector(plan)
        clean = plan.block("p", 0)
        dirty = injector.apply("p", 0, clean)
        labels = injector.labels()
        kinds = labels.column("kind").to_pylist()
        if dirty.num_rows == clean.num_rows and "deleted" in kinds:
            break
    else:
        pytest.fail("no seed below 200 deletes as many rows as it copies")
    assert kinds.count("deleted") == kinds.count("duplicate")
    deleted = pa.array([key for key, kind in zip(labels.column("key").to_pylist(), kinds) if kind == "deleted"])
    assert not pc.any(pc.is_in(dirty.column("id"), value_set=deleted)).as_py()
    restored = pa.Table.from_batches(list(clean_batches([dirty], labels)))
    assert restored.equals(pa.Table.from_batches([clean]))
