"""Declaring defects: every problem at once, deterministic injection that moves nothing else."""

from __future__ import annotations

import pyarrow as pa
import pytest

import fabula
from fabula.defects import Injector
from fabula.errors import SpecError

SPEC = """
name: d
seed: 3
as_of: 2024-12-31
tables:
  c:
    rows: 50
    columns:
      id: {kind: id, format: "C-{:03d}"}
      email: {kind: person, part: email}
  o:
    rows: 70000
    columns:
      id: {kind: id, format: "O-{:06d}"}
      cid: {kind: reference, to: c.id}
      amount: {kind: lognormal, mean: 3, sigma: 1, round: 2}
      status: {kind: categorical, values: {open: 1, closed: 2}}
      at: {kind: timestamp, start: -1y, end: today, unit: s}
      day: {kind: date, start: -1y, end: today}
      note: {kind: constant, value: "payé"}
"""

DEFECTS = """
    defects:
      - {kind: missing, column: cid, rate: 0.02}
      - {kind: missing, form: placeholder, value: N/A, column: status, rate: 0.01}
      - {kind: outlier, column: amount, rate: 0.01, factor: 100}
      - {kind: negative, column: amount, rate: 0.01}
      - {kind: orphan, column: cid, rate: 0.01}
      - {kind: future, column: day, rate: 0.01}
      - {kind: late, column: at, rate: 0.01}
      - {kind: malformed, form: mojibake, column: note, rate: 0.01}
      - {kind: malformed, form: truncate, column: status, rate: 0.01}
      - {kind: duplicate, rate: 0.005}
      - {kind: duplicate, form: near, column: amount, rate: 0.005}
      - {kind: duplicate, form: new_key, rate: 0.005}
"""


def test_every_problem_is_reported_at_once():
    bad = SPEC + """
    defects:
      - {kind: outlir, column: amount, rate: 0.1}
      - {kind: missing, column: amont, rate: 0.1}
      - {kind: missing, column: cid, rate: 1.5}
      - {kind: orphan, column: amount, rate: 0.1}
      - {kind: late, column: amount, rate: 0.1}
      - {kind: outlier, column: amount, rate: 0.1}
"""
    with pytest.raises(SpecError) as error:
        fabula.load_spec(bad)
    text = str(error.value)
    for expected in ("defects.0.kind", "did you mean `outlier`", "defects.1.column", "did you mean `amount`",
                     "defects.2.rate", "defects.3.column", "defects.4.column", "either `factor` or `value`"):
        assert expected in text


def test_a_kind_that_does_not_fit_the_type_is_refused_when_compiled():
    spec = SPEC + "    defects:\n      - {kind: outlier, column: status, rate: 0.1, factor: 2}\n"
    with pytest.raises(SpecError, match="needs a number"):
        Injector(fabula.compile_plan(fabula.load_spec(spec)))


def test_defects_move_no_clean_value_and_are_deterministic(tmp_path):
    clean = fabula.compile_plan(fabula.load_spec(SPEC))
    dirty = fabula.compile_plan(fabula.load_spec(SPEC + DEFECTS))
    injector = Injector(dirty)
    for block in range(dirty.table("o").n_blocks):
        assert dirty.block("o", block).equals(clean.block("o", block))  # the plan's own blocks are clean
        first = injector.apply("o", block, dirty.block("o", block))
        again = Injector(dirty).apply("o", block, dirty.block("o", block))
        assert first.equals(again)
    labels = injector.labels()
    assert set(labels.column("kind").to_pylist()) == {"missing", "outlier", "negative", "orphan", "future", "late",
                                                      "malformed", "duplicate"}
    assert labels.num_rows > 0


def test_a_clean_spec_hashes_as_before():
    spec = fabula.load_spec(SPEC)
    assert "defects" not in spec.canonical()["tables"]["o"]


@pytest.mark.parametrize("output_format", ["parquet", "csv"])
def test_validate_passes_on_every_kind(tmp_path, output_format):
    out = tmp_path / "out"
    spec = fabula.load_spec(SPEC + DEFECTS)
    fabula.generate(spec, out, workers=2, output_format=output_format)
    report = fabula.validate_output(out, strict=False)
    failed = [f"{check.name}: {check.message}" for check in report.failed]
    assert not failed
    defects = [check for check in report.checks if check.family == "defects"]
    assert len(defects) == 13 and all(check.verdict == "pass" for check in defects), \
        [(check.name, check.message) for check in defects if check.verdict != "pass"]


@pytest.mark.parametrize("kind", ["missing", "duplicate", "orphan"])
def test_a_false_label_fails(tmp_path, kind):
    """Move one label of a kind onto the next row: the truth check names it, whether the label is
    of a cell (the next row holds its clean value) or of a copy (the next row is no copy)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    out = tmp_path / "out"
    fabula.generate(fabula.load_spec(SPEC + DEFECTS), out, workers=2)
    path = next((out / "_defects").glob("*.parquet"))
    labels = pq.read_table(path)
    first = pc.index(pc.and_(pc.equal(labels.column("kind"), kind), pc.equal(labels.column("table"), "o")),
                     True).as_py()
    rows = labels.column("row").to_pylist()
    rows[first] += 1 if kind != "duplicate" else 2
    pq.write_table(labels.set_column(labels.schema.get_field_index("row"), "row", pa.array(rows, pa.int64())), path)
    report = fabula.validate_output(out, strict=False)
    truth = [check for check in report.checks if check.name == "o: every label is true of the written rows"]
    assert truth and truth[0].verdict == "fail" and truth[0].observed >= 1, truth
