"""Per-entity sequences, time after time in a timeline's shape, `when:`, hidden columns, durations,
counts from categoricals and booleans, and events scoped to a subset (issue 15)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import fabula
from fabula.errors import SpecError
from fabula.plan import compile_plan
from fabula.spec import load_text

IOT = """
name: iot
seed: 3
as_of: 2024-06-30
timelines:
  field: {start: -6d, end: today, rate: 1, intraday: daytime}
events:
  west_outage:
    start: -3d
    end: -2d
    volume:
      readings: {factor: 0.1, where: "region == 'West'"}
tables:
  devices:
    rows: 60
    columns:
      device_id: {kind: id, format: "DEV-{:05d}"}
      region: {kind: categorical, values: {West: 30, East: 40, North: 30}}
  readings:
    rows: {per: devices, every: 15m, start: -6d, end: today, jitter: 1m, dropout: 0.02, timeline: field}
    columns:
      device_id: {kind: reference, to: devices.device_id}
      region: {kind: lookup, from: device_id.region}
      read_at: {kind: cadence, unit: s}
      seq: {kind: position}
      drain: {kind: exponential, scale: 0.3, hidden: true}
      step: {kind: expression, expr: "-drain", hidden: true}
      battery: {kind: running, fn: level, of: step, low: 5, high: 100}
      kwh: {kind: exponential, scale: 0.2}
      kwh_total: {kind: running, fn: sum, of: kwh}
      previous_kwh: {kind: running, fn: previous, of: kwh}
      delta: {kind: normal, mean: -1, std: 5, hidden: true}
      balance: {kind: running, fn: balance, of: delta, start: 3, floor: 0}
      temperature:
        kind: normal
        mean: 21
        std: 1
        during:
          west_outage: {mean: 40, where: "region == 'West'"}
"""


def table(plan, name: str) -> pa.Table:
    plan_table = plan.table(name)
    return pa.Table.from_batches([plan.block(plan_table, block) for block in range(plan_table.n_blocks)],
                                 schema=plan_table.schema)


@pytest.fixture(scope="module")
def readings():
    return table(compile_plan(load_text(IOT), block_rows=4096), "readings").to_pandas()


def test_hidden_columns_are_read_but_not_written(readings):
    assert "drain" not in readings and "step" not in readings and "delta" not in readings
    assert {"battery", "balance"} <= set(readings)


def test_cadence_rows_are_in_time_order_per_device_and_numbered(readings):
    for _, group in readings.groupby("device_id", sort=False):
        assert group.read_at.is_monotonic_increasing
        assert group.seq.tolist() == list(range(1, len(group) + 1))
    gaps = readings.groupby("device_id").read_at.diff().dropna().dt.total_seconds()
    assert gaps.min() >= 15 * 60 - 120  # never closer than a slot minus twice the jitter
    assert abs(gaps.median() - 900) <= 120


def test_cadence_follows_the_timeline_intraday_shape(readings):
    hours = readings[readings.region != "West"].read_at.dt.hour.value_counts()
    assert hours.loc[11] > 4 * hours.loc[3]  # daytime profile: 1.3 at 11:00, 0.08 at 3:00


def test_scoped_outage_thins_only_the_matching_rows(readings):
    day = readings.read_at.dt.strftime("%Y-%m-%d")
    counts = readings.groupby([day, "region"]).size().unstack()
    west = counts["West"]
    inside, outside = west.loc[["2024-06-27", "2024-06-28"]].mean(), west.loc[["2024-06-25", "2024-06-26"]].mean()
    assert 0.05 < inside / outside < 0.2
    east = counts["East"]
    assert 0.85 < east.loc[["2024-06-27", "2024-06-28"]].mean() / east.loc[["2024-06-25", "2024-06-26"]].mean() < 1.15


def test_scoped_override_changes_only_the_matching_rows(readings):
    window = readings.read_at.between("2024-06-27", "2024-06-28 23:59:59")
    assert readings[window & (readings.region == "West")].temperature.mean() > 35
    assert readings[window & (readings.region != "West")].temperature.mean() < 25


def test_running_values_per_device(readings):
    for _, group in readings.groupby("device_id", sort=False):
        assert np.allclose(group.kwh_total.to_numpy(), np.cumsum(group.kwh.to_numpy()))
        assert np.isnan(group.previous_kwh.iloc[0])
        assert np.allclose(group.previous_kwh.to_numpy()[1:], group.kwh.to_numpy()[:-1])
    assert readings.balance.min() >= 0
    assert readings.battery.between(5, 100).all()


def test_any_block_size_gives_the_same_hash_placed_rows():
    """Which slot is kept is hashed from (parent row, slot): blocks of any size agree."""
    spec = load_text(IOT)
    small, large = (table(compile_plan(spec, block_rows=rows), "readings") for rows in (1000, 65536))
    assert small.num_rows == large.num_rows
    assert small.column("seq").equals(large.column("seq"))
    seconds = [np.asarray(t.column("read_at").to_numpy().astype("datetime64[s]").astype(np.int64)) // 900
               for t in (small, large)]
    assert np.abs(seconds[0] - seconds[1]).max() <= 1  # the same slot; only the jitter draws differ


def test_generated_output_is_identical_for_any_workers(tmp_path):
    for workers in (1, 3):
        fabula.generate(load_text(IOT), tmp_path / str(workers), workers=workers, validate=False)
    import pyarrow.parquet as pq

    one = pq.read_table(tmp_path / "1" / "readings")
    three = pq.read_table(tmp_path / "3" / "readings")
    assert one.equals(three)


ORDERS = """
name: shop
seed: 5
as_of: 2024-03-31
timelines:
  shop: {start: 2024-01-01, end: 2024-03-31, rate: 300, weekday: {weekend: 0.3}, intraday: business_hours}
tables:
  orders:
    rows: {timeline: shop}
    columns:
      order_id: {kind: id, format: "O-{:06d}"}
      ordered_at: {kind: timestamp, timeline: shop, unit: s}
      status: {kind: categorical, values: {delivered: 80, cancelled: 20}}
      shipped_at: {kind: timestamp, timeline: shop, after: ordered_at, within: 5d, unit: s,
                   when: "status == 'delivered'"}
      returned_at: {kind: timestamp, timeline: shop, after: shipped_at, unit: s}
      days_to_ship: {kind: duration, from: ordered_at, to: shipped_at, unit: days}
  returns:
    rows: {per: orders, count: {kind: boolean, p: 0.1}}
    columns:
      order_id: {kind: reference, to: orders.order_id}
  lines:
    rows: {per: orders, count: {kind: categorical, values: {1: 60, 2: 30, 3: 10}}}
    columns:
      order_id: {kind: reference, to: orders.order_id}
"""


@pytest.fixture(scope="module")
def shop():
    plan = compile_plan(load_text(ORDERS))
    return plan, {name: table(plan, name).to_pandas() for name in ("orders", "returns", "lines")}


def test_time_after_another_in_the_timeline_shape(shop):
    _, tables = shop
    orders = tables["orders"]
    shipped = orders.dropna(subset=["shipped_at"])
    assert (shipped.shipped_at >= shipped.ordered_at).all()
    assert ((shipped.shipped_at - shipped.ordered_at).dt.days <= 5).all()
    weekday = shipped.shipped_at.dt.day_of_week
    assert (weekday < 5).mean() > 0.85  # weekends are 0.3 of a weekday: shipping follows the calendar
    assert shipped.shipped_at.dt.hour.between(8, 18).mean() > 0.7


def test_status_dependent_time_and_censoring(shop):
    _, tables = shop
    orders = tables["orders"]
    assert orders[orders.status == "cancelled"].shipped_at.isna().all()
    delivered = orders[orders.status == "delivered"]
    assert delivered.shipped_at.notna().mean() > 0.97  # only the last evenings are censored
    assert (orders.returned_at.dropna() < "2024-04-01").all()  # never past as_of
    late = orders[orders.ordered_at >= "2024-03-31 18:00"]
    assert late.shipped_at.isna().any()


def test_censored_seconds_pass_validation_of_the_written_files(tmp_path):
    """Parquet has no seconds unit: `unit: s` reads back as milliseconds, and the check that a
    censored time never passes `as_of` must still hold on the files, not only while generating."""
    fabula.generate(load_text(ORDERS), tmp_path / "shop")
    report = fabula.validate_output(tmp_path / "shop", strict=True)
    assert not report.failed


def test_duration_is_a_number_of_days(shop):
    _, tables = shop
    orders = tables["orders"]
    expected = (orders.shipped_at - orders.ordered_at).dt.total_seconds() / 86_400
    assert np.allclose(orders.days_to_ship.dropna(), expected.dropna())
    assert orders.days_to_ship.isna().sum() == orders.shipped_at.isna().sum()


def test_counts_from_a_boolean_and_a_categorical(shop):
    plan, tables = shop
    orders = len(tables["orders"])
    assert 0.08 < len(tables["returns"]) / orders < 0.12
    per_order = tables["lines"].groupby("order_id").size()
    assert set(per_order.unique()) <= {1, 2, 3}
    assert abs(per_order.mean() - 1.5) < 0.05


@pytest.mark.parametrize("edit, fragment", [
    ("readings: {factor: 0.1, where: \"region == 'West'\"}", None),
    ("readings: {factor: 0.1, where: \"zone == 'West'\"}", "no such column"),
    ("devices: {factor: 0.1, where: \"region == 'West'\"}", "sized by a cadence"),
])
def test_a_scoped_volume_is_checked_where_it_is_declared(edit, fragment):
    text = IOT.replace("readings: {factor: 0.1, where: \"region == 'West'\"}", edit)
    if fragment is None:
        load_text(text)
        return
    with pytest.raises(SpecError) as raised:
        load_text(text)
    assert fragment in str(raised.value)


def test_a_bad_when_is_reported_at_its_column():
    with pytest.raises(SpecError) as raised:
        load_text(ORDERS.replace("when: \"status == 'delivered'\"", "when: \"status = 'delivered'\""))
    assert "shipped_at" in str(raised.value)


def test_within_needs_after():
    with pytest.raises(SpecError) as raised:
        load_text(ORDERS.replace("after: ordered_at, within: 5d", "within: 5d"))
    assert "within" in str(raised.value)


def test_validation_checks_the_new_facts(tmp_path):
    fabula.generate(load_text(ORDERS.replace("rate: 300", "rate: 60")), tmp_path / "shop", workers=2)
    fabula.generate(load_text(IOT), tmp_path / "iot", workers=2)
    import json

    names = {}
    for out in ("shop", "iot"):
        report = json.loads((tmp_path / out / "report.json").read_text())
        checks = [check for check in report["checks"] if check["family"] == "sequences"]
        names.update({check["name"]: check["verdict"] for check in checks})
    assert names["orders.shipped_at: null where `status == 'delivered'` is false"] == "pass"
    assert names["orders.returned_at: never after the data's end (as_of)"] == "pass"
    assert names["readings.read_at: in time order within each parent"] == "pass"
    assert names["readings.balance: never below its floor 0"] == "pass"
    assert names["readings.battery: within [5, 100]"] == "pass"


@pytest.mark.parametrize("key", ["{kind: id, format: 'CUST-{:05d}'}", "{kind: uuid}", "{kind: sequence, start: 1}"])
def test_a_template_with_a_key_part_is_proved_unique(key):
    spec = load_text(f"""
name: people
seed: 1
tables:
  customers:
    rows: 3000
    columns:
      key: {key}
      first: {{kind: faker, provider: first_name, pool: 20}}
      last: {{kind: faker, provider: last_name, pool: 20}}
      email: {{kind: template, template: "{{slug(first)}}.{{slug(last)}}.{{key}}@example.com", unique: true}}
""")
    emails = table(compile_plan(spec), "customers").column("email").to_pylist()
    assert len(set(emails)) == len(emails)


def test_a_monthly_cadence_falls_on_the_same_day_each_month():
    spec = load_text("""
name: payroll
seed: 2
as_of: 2024-06-30
tables:
  employees:
    rows: 30
    columns:
      employee_id: {kind: id, format: "E{:04d}"}
  salaries:
    rows: {per: employees, every: 1mo, start: 2024-01-31, end: today, jitter: 2h}
    columns:
      employee_id: {kind: reference, to: employees.employee_id}
      paid_at: {kind: cadence}
      month_number: {kind: position}
""")
    paid = table(compile_plan(spec), "salaries").to_pandas()
    assert len(paid) == 30 * 6
    days = paid.paid_at.dt.round("1D")  # jitter of two hours either side of midnight
    assert sorted(days.dt.strftime("%m-%d").unique()) == ["01-31", "02-29", "03-31", "04-30", "05-31", "06-30"]


CARDS = (Path(__file__).parents[2] / "docs" / "story.md").read_text(encoding="utf-8").split(
    "name: card_payments", 1)[1].split("```", 1)[0]


def test_a_mix_of_timelines_holds_two_labelled_behaviours():
    plan = compile_plan(load_text("name: card_payments" + CARDS))
    payments = table(plan, "payments").to_pandas()
    assert payments.paid_at.is_monotonic_increasing
    fraud = payments[payments.is_fraud]
    assert 0.005 < len(fraud) / len(payments) < 0.05
    night = fraud.paid_at.dt.hour.isin([22, 23, 0, 1, 2, 3, 4, 5])
    assert night.mean() > 0.85  # fraud labels land where the fraud timeline is
    assert payments[~payments.is_fraud].paid_at.dt.hour.between(8, 20).mean() > 0.7
    burst = fraud.paid_at.between("2024-02-10", "2024-02-12 23:59:59")
    per_day_in, per_day_out = burst.sum() / 3, (~burst).sum() / (91 - 3)
    assert 8 < per_day_in / per_day_out < 25  # the event on the timeline: ×15
    assert fraud.amount.median() > 3 * payments[~payments.is_fraud].amount.median()


def test_a_mix_names_timelines_that_exist():
    with pytest.raises(SpecError) as raised:
        load_text("name: card_payments" + CARDS.replace("fraud: night_fraud}", "fraud: night_frau}"))
    assert "night_frau" in str(raised.value)


def test_jitter_never_takes_a_reading_outside_the_window():
    """The first slot sits on the window's start and the last near its end: jitter reflects at
    both edges (only those readings move) instead of crossing them."""
    text = """
name: edges
seed: 5
tables:
  devices:
    rows: 400
    columns:
      device_id: {kind: id, format: "D-{:04d}"}
  readings:
    rows: {per: devices, every: 10m, start: 2024-06-01, end: 2024-06-01, jitter: 5m}
    columns:
      read_at: {kind: cadence, unit: s}
      seq: {kind: position}
"""
    readings = table(compile_plan(load_text(text)), "readings").to_pandas()
    assert readings.read_at.min() >= pd.Timestamp("2024-06-01")
    assert readings.read_at.max() <= pd.Timestamp("2024-06-01 23:59:59")
    first = readings[readings.seq == 1].read_at
    assert (first < pd.Timestamp("2024-06-01 00:05:01")).all() and first.nunique() > 200  # spread, not piled up
    middle = readings[readings.seq == 70].read_at - pd.Timestamp("2024-06-01 11:30")
    assert middle.min() < pd.Timedelta(minutes=-4) and middle.max() > pd.Timedelta(minutes=4)  # untouched


def test_running_values_restart_when_a_column_changes():
    """Units produced today per machine: the sum starts afresh each day, across block edges."""
    text = """
name: restart
seed: 2
tables:
  machines:
    rows: 7
    columns:
      machine_id: {kind: id, format: "M-{:03d}"}
  telemetry:
    rows: {per: machines, every: 5m, start: 2024-03-01, end: 2024-03-04, dropout: 0.2}
    columns:
      machine_id: {kind: reference, to: machines.machine_id}
      read_at: {kind: cadence, unit: s}
      units: {kind: poisson, lam: 12}
      day: {kind: expression, expr: "date(read_at)", hidden: true}
      units_today: {kind: running, fn: sum, of: units, restart: day}
      readings_today: {kind: running, fn: count, restart: day}
      last_units: {kind: running, fn: previous, of: units, restart: day}
"""
    frame = table(compile_plan(load_text(text), block_rows=500), "telemetry").to_pandas()
    groups = frame.groupby(["machine_id", frame.read_at.dt.date])
    assert (frame.units_today == groups.units.cumsum()).all()
    assert (frame.readings_today == groups.cumcount() + 1).all()
    assert frame.last_units.isna().sum() == groups.ngroups


@pytest.mark.parametrize("kind", ["s", "ms", "us", "ns", "date"])
def test_the_as_of_check_counts_whole_days_exactly(kind):
    """The last instant of as_of's day is within the data; the first of the next day is not, in
    every unit — nanoseconds too, where a float of the ticks would round onto the next day."""
    from types import SimpleNamespace

    from fabula.validate.families.sequences import Fact

    day = 20_000  # the first day after as_of, in days since the epoch
    per_day = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000, "date": 1}[kind]
    values = pa.array([day * per_day - 1, day * per_day, None, (day - 3) * per_day],
                      pa.date32() if kind == "date" else pa.timestamp(kind))
    state = Fact("orders", "t", "as_of", high=float(day)).observe(SimpleNamespace(batch=pa.record_batch({"t": values})))
    assert state == {"n": 3, "bad": 1}
