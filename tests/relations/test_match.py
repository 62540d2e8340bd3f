"""`match:` on a reference (issue 15): a trip's driver is from the trip's city."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

import fabula
from fabula.errors import SpecError
from fabula.plan import compile_plan
from fabula.spec import load_text

TRIPS = """
name: trips
seed: 9
tables:
  drivers:
    rows: 400
    columns:
      driver_id: {kind: id, format: "DRV-{:04d}"}
      city: {kind: categorical, values: {NYC: 50, London: 30, Berlin: 20}}
  trips:
    rows: 20000
    columns:
      trip_id: {kind: sequence, start: 1}
      pickup: {kind: categorical, values: {NYC: 60, London: 25, Berlin: 10, Paris: 5}}
      driver_id: {kind: reference, to: drivers.driver_id, match: {city: pickup}}
      driver_city: {kind: lookup, from: driver_id.city}
"""


def frame(plan, name):
    table = plan.table(name)
    return pa.Table.from_batches([plan.block(table, b) for b in range(table.n_blocks)], schema=table.schema).to_pandas()


@pytest.fixture(scope="module")
def plan():
    return compile_plan(load_text(TRIPS), block_rows=4096)


def test_each_row_gets_a_parent_of_its_own_value_uniformly(plan):
    trips, drivers = frame(plan, "trips"), frame(plan, "drivers")
    known = trips[trips.pickup != "Paris"]
    assert (known.driver_city.astype(str) == known.pickup.astype(str)).all()
    assert known.driver_id.notna().all()
    berlin = known[known.pickup == "Berlin"].driver_id.value_counts()
    assert len(berlin) == (drivers.city == "Berlin").sum()  # every Berlin driver gets trips
    assert berlin.max() < 4 * berlin.mean()


def test_no_parent_with_the_value_gives_a_null_key(plan):
    trips = frame(plan, "trips")
    assert trips[trips.pickup == "Paris"].driver_id.isna().all()


def test_validation_checks_the_match(tmp_path, plan):
    fabula.generate(plan, tmp_path / "out", workers=2)
    checks = json.loads((tmp_path / "out" / "report.json").read_text())["checks"]
    found = [check for check in checks if check["family"] == "matches"]
    assert [check["verdict"] for check in found] == ["pass"]
    assert "trips.driver_id: a drivers row with the same city as `pickup`" == found[0]["name"]


@pytest.mark.parametrize("written, words", [
    ("match: {town: pickup}}", "`drivers` has no column `town`"),
    ("match: {city: dropoff}}", "dropoff"),
    ("match: {city: pickup}, pick: zipf, a: 1}", "does not combine"),
    ("match: {city: pickup, town: pickup}}", "pairs one parent column"),
])
def test_refused_with_a_clear_message(written, words):
    with pytest.raises(SpecError) as raised:
        load_text(TRIPS.replace("match: {city: pickup}}", written))
    assert words in "\n".join(issue.render() for issue in raised.value.issues)
