"""While `fabula generate` validates, the labels are checked against each damaged block as it is
written (`CleanView.witness`), not read back from the files: the same verdicts as re-validating
the folder, and a false label still fails."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import fabula
import fabula.defects
import fabula.validate.defects
from tests.defects.test_spec_and_injection import DEFECTS, SPEC


def _defect_checks(report) -> list[tuple[str, str, str]]:
    return [(check.name, check.verdict, check.message) for check in report.checks if check.family == "defects"]


def test_the_run_checks_labels_without_reading_the_damaged_tables_back(tmp_path, monkeypatch):
    def no_reading(*args, **kwargs):
        raise AssertionError("a damaged table was read back from the files")

    spec = fabula.load_spec(SPEC + DEFECTS)
    with monkeypatch.context() as patched:
        patched.setattr(fabula.validate.defects, "examine", no_reading)
        during = fabula.generate(spec, tmp_path / "out", workers=2).report
    after = fabula.validate_output(tmp_path / "out", strict=False)  # reads the files
    assert _defect_checks(during) == _defect_checks(after)
    assert all(verdict == "pass" for _, verdict, _ in _defect_checks(during))


def test_times_a_label_moved_before_are_read_as_the_blocks_were_made(tmp_path, monkeypatch):
    """`before_parent` labels are checked against the parent times the block was made with, not
    times generated again; re-validating the folder generates them and agrees."""
    import fabula.validate.families.defects as family

    def no_regenerating(*args, **kwargs):
        raise AssertionError("a damaged table was read back, or the followed times generated again")

    plan = fabula.compile_plan("saas_support_dirty", scale=0.5)
    with monkeypatch.context() as patched:
        patched.setattr(fabula.validate.defects, "examine", no_regenerating)
        patched.setattr(family, "followed_at", no_regenerating)
        during = fabula.generate(plan, tmp_path / "out", workers=2).report
    after = fabula.validate_output(tmp_path / "out", strict=False)
    moved = [check for check in during.checks if "before_parent" in check.name]
    assert moved and moved[0].observed > 0
    assert _defect_checks(during) == _defect_checks(after)
    assert all(verdict == "pass" for _, verdict, _ in _defect_checks(during))


@pytest.mark.parametrize("kind", ["missing", "duplicate", "orphan"])
def test_a_false_label_made_in_the_run_fails_the_runs_own_check(tmp_path, monkeypatch, kind):
    """The injector labels one row of a block wrongly (the next row): the witnessed check names it."""
    inject_block = fabula.defects.inject_block
    moved = []

    def mislabelling(plan, defects, block, clean):
        dirty, labels = inject_block(plan, defects, block, clean)
        hits = pc.equal(labels.column("kind"), kind).to_numpy(zero_copy_only=False)
        if moved or not hits.any() or defects.table.name != "o":
            return dirty, labels
        rows = labels.column("row").to_numpy().copy()
        step = 1 if kind != "duplicate" else 2
        # a label whose new row holds no label of its kind (a copy carries its original's)
        first = next(index for index in np.flatnonzero(hits) if rows[index] + step not in set(rows[hits]))
        rows[first] += step
        moved.append(first)
        return dirty, labels.set_column(labels.schema.get_field_index("row"), "row", pa.array(rows, pa.int64()))

    monkeypatch.setattr(fabula.defects, "inject_block", mislabelling)
    report = fabula.generate(fabula.load_spec(SPEC + DEFECTS), tmp_path / "out", workers=2).report
    truth = [check for check in report.checks if check.name == "o: every label is true of the written rows"]
    assert moved and truth and truth[0].verdict == "fail" and truth[0].observed >= 1, truth
