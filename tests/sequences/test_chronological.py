"""Chronological ids (issue 15): `order_by:` numbers a key in the order of a time, so sorting by
the key sorts by time — in a table grouped by parent, for any split of the work."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pytest

import fabula
from helpers import content_digest, read_table
from fabula.errors import SpecError
from fabula.plan import compile_plan
from fabula.spec import load_text

LEDGER = """
name: ledger
seed: 3
as_of: 2024-06-30
timelines:
  day: {start: 2024-06-01, end: 2024-06-30, rate: 1, intraday: daytime}
tables:
  accounts:
    rows: 300
    columns:
      account_id: {kind: id, format: "ACC-{:05d}"}
  movements:
    rows: {per: accounts, every: 1h, start: 2024-06-01, end: 2024-06-30, dropout: 0.7, jitter: 10m, timeline: day}
    columns:
      movement_id: {kind: id, format: "MOV-{:06d}", start: 1, order_by: booked_at}
      movement_no: {kind: sequence, start: 1000, step: -1, order_by: booked_at}
      account_id: {kind: reference, to: accounts.account_id}
      booked_at: {kind: cadence, unit: s}
  disputes:
    rows: 500
    columns:
      movement_id: {kind: reference, to: movements.movement_id}
"""


def table(plan, name: str) -> pd.DataFrame:
    found = plan.table(name)
    return pa.Table.from_batches([plan.block(found, block) for block in range(found.n_blocks)],
                                 schema=found.schema).to_pandas()


@pytest.fixture(scope="module")
def plan():
    return compile_plan(load_text(LEDGER), block_rows=4096)


def test_ids_sort_by_time_though_rows_are_grouped_by_account(plan):
    movements = table(plan, "movements")
    assert not movements.booked_at.is_monotonic_increasing  # rows: account by account
    assert movements.sort_values("movement_id").booked_at.is_monotonic_increasing
    numbers = movements.movement_id.str[4:].astype(int)
    assert sorted(numbers) == list(range(1, len(movements) + 1))  # dense, from `start`
    assert movements.sort_values("movement_no", ascending=False).booked_at.is_monotonic_increasing


def test_references_point_at_the_numbered_rows(plan):
    movements, disputes = table(plan, "movements"), table(plan, "disputes")
    assert disputes.movement_id.isin(movements.movement_id).all()


def test_the_same_for_any_number_of_workers(tmp_path, plan):
    digests = set()
    for workers in (1, 3):
        fabula.generate(plan, tmp_path / str(workers), workers=workers, validate=False)
        digests.add(content_digest(read_table(tmp_path / str(workers), "movements")))
    assert len(digests) == 1


def test_validation_checks_the_order_and_catches_a_wrong_one(tmp_path, plan):
    from fabula.validate.evidence import Evidence
    from fabula.validate.families import chronology

    fabula.generate(plan, tmp_path / "ordered", workers=2)
    checks = json.loads((tmp_path / "ordered" / "report.json").read_text())["checks"]
    found = {check["name"]: check["verdict"] for check in checks if check["family"] == "chronology"}
    assert found == {"movements.movement_id: in the order of booked_at": "pass",
                     "movements.movement_no: in the order of booked_at": "pass"}
    plain = compile_plan(load_text(LEDGER.replace(", order_by: booked_at", "")), block_rows=4096)
    fabula.generate(plain, tmp_path / "plain", workers=2, validate=False)
    evidence = Evidence(plan, [], {}, {}, tmp_path / "plain")  # ids numbered by row, checked as if ordered
    try:
        verdicts = {check.verdict for check in chronology.checks(evidence)}
    finally:
        evidence.close()
    assert verdicts == {"fail"}


@pytest.mark.parametrize("change, words", [
    (("order_by: booked_at}", "order_by: booked}"), "booked"),
    (("order_by: booked_at}", "order_by: account_id.x}"), "names a column of the same table"),
    (("order_by: booked_at}", "order_by: account_id}"), "a date, timestamp or number"),
])
def test_refused_with_a_clear_message(change, words):
    text = LEDGER.replace(*change, 1)
    with pytest.raises(SpecError) as raised:
        compile_plan(load_text(text))
    assert words in "\n".join(issue.render() for issue in raised.value.issues)
