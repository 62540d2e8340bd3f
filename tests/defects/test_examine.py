"""What validation reads back at the labels is the same however the table's rows are split into
files: a copy whose original ended the file before is compared with that row."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

import fabula
from fabula.defects import labels_of
from fabula.validate.defects import examine, read_labels

SPEC = """
name: split
seed: 5
tables:
  o:
    rows: 3000
    columns:
      id: {kind: id, format: "O-{:05d}"}
      amount: {kind: lognormal, mean: 3, sigma: 1, round: 2}
      status: {kind: categorical, values: {open: 1, closed: 2}}
    defects:
      - {kind: duplicate, rate: 0.02}
      - {kind: duplicate, form: near, column: amount, rate: 0.02}
"""


def test_a_copy_at_the_start_of_a_file_is_compared_with_the_row_before(tmp_path):
    out = tmp_path / "out"
    plan = fabula.compile_plan(fabula.load_spec(SPEC))
    fabula.generate(plan, out, validate=False)
    labels = labels_of(read_labels(out), "o")
    whole = examine(plan, out, "o", labels)
    copy_rows = np.sort(labels.filter(pc.equal(labels.column("kind"), "duplicate")).column("row").to_numpy())
    cut = int(copy_rows[len(copy_rows) // 2])  # a copy's row: it starts the second file
    split = tmp_path / "split"
    (split / "o").mkdir(parents=True)
    written = pq.read_table(out / "o")
    pq.write_table(written.slice(0, cut), split / "o" / "part-00000.parquet")
    pq.write_table(written.slice(cut), split / "o" / "part-00001.parquet")
    parts = examine(plan, split, "o", labels)
    assert len(whole.copies) == len(copy_rows) and np.array_equal(parts.copies, whole.copies)
    for column, flags in whole.differ.items():
        assert np.array_equal(parts.differ[column], flags), column
    near = pc.equal(labels.column("form"), "near").to_numpy(zero_copy_only=False)[whole.copies]
    assert whole.differ["amount"][near].all() and not whole.differ["amount"][~near].any()
    assert not any(flags.any() for column, flags in whole.differ.items() if column != "amount")


def test_labelled_copies_missing_from_the_files_fail_the_check_without_a_crash(tmp_path):
    """Copies removed from the data after the run (their labels kept): the labels are reported
    untrue, a failed check — once a KeyError, since no copy was read to compare."""
    out = tmp_path / "out"
    fabula.generate(fabula.load_spec(SPEC), out, validate=False)
    labels = labels_of(read_labels(out), "o")
    copies = labels.filter(pc.equal(labels.column("kind"), "duplicate")).column("row").to_numpy()
    written = pq.read_table(out / "o")
    keep = np.ones(written.num_rows, dtype=bool)
    keep[copies] = False
    for path in (out / "o").iterdir():
        path.unlink()
    pq.write_table(written.filter(keep), out / "o" / "part-00000.parquet")
    report = fabula.validate_output(out)
    failed = [check for check in report.failed if check.family == "defects"]
    assert [check.name for check in failed] == ["o: every label is true of the written rows"]
