"""Time zones (issue 15): a timeline's calendar on each row's local clock, stored as UTC or local
time, with daylight saving as clocks keep it — checked against Python's own `zoneinfo`."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import fabula
from fabula.errors import SpecError
from fabula.plan import compile_plan
from fabula.spec import load_text
from fabula.story.zones import zone

SHOP = """
name: tz_shop
seed: 7
as_of: 2024-12-31
timelines:
  shop: {start: 2024-01-01, end: 2024-12-31, rate: 150, weekday: {weekend: 1.5}, intraday: evening}
tables:
  customers:
    rows: 600
    columns:
      customer_id: {kind: id, format: "C-{:05d}"}
      country: {kind: categorical, values: {US: 40, DE: 35, JP: 25}}
      zone: {by: country, cases: {US: America/New_York, DE: Europe/Berlin, JP: Asia/Tokyo}}
  orders:
    rows: {timeline: shop}
    columns:
      order_id: {kind: id, format: "O-{:07d}"}
      customer_id: {kind: reference, to: customers.customer_id}
      country: {kind: lookup, from: customer_id.country}
      zone: {kind: lookup, from: customer_id.zone}
      ordered_at: {kind: timestamp, timeline: shop, tz: zone, unit: s}
      ordered_local: {kind: timestamp, timeline: shop, tz: customer_id.zone, store: local, unit: s}
      shipped_at: {kind: timestamp, timeline: shop, tz: zone, after: ordered_at, within: 2d, unit: s}
  visits:
    rows: 20000
    columns:
      seen_at: {kind: timestamp, timeline: shop, tz: Europe/Berlin}
"""
ZONES = {"US": "America/New_York", "DE": "Europe/Berlin", "JP": "Asia/Tokyo"}
EVENING_PEAK = 20  # the `evening` preset is highest at 20:00


def table(plan, name: str) -> pd.DataFrame:
    found = plan.table(name)
    return pa.Table.from_batches([plan.block(found, block) for block in range(found.n_blocks)],
                                 schema=found.schema).to_pandas()


@pytest.fixture(scope="module")
def orders():
    return table(compile_plan(load_text(SHOP), block_rows=8192), "orders")


def local(times: pd.Series, zone_name: str) -> pd.Series:
    return times.dt.tz_localize("UTC").dt.tz_convert(zone_name).dt.tz_localize(None)


# -- the conversions, against zoneinfo -------------------------------------------------------------


@pytest.mark.parametrize("name", ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata",
                                  "America/Santiago", "Europe/London"])
def test_utc_to_local_agrees_with_zoneinfo(name):
    rng = np.random.default_rng(1)
    utc = rng.integers(631_152_000, 2_208_988_800, 2000)  # 1990 .. 2040
    found = zone(name, 1989, 2041).to_local(utc)
    info = ZoneInfo(name)
    expected = [int(datetime.fromtimestamp(int(t), info).replace(tzinfo=timezone.utc).timestamp()) for t in utc]
    assert found.tolist() == expected


@pytest.mark.parametrize("name", ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago"])
def test_local_to_utc_agrees_with_zoneinfo_folds_and_gaps(name):
    """fold=0 / fold=1 of Python's datetime: the first or second of a repeated time; a skipped
    time moves forward by the gap, as `fold=0` of a skipped time does."""
    rng = np.random.default_rng(2)
    info = ZoneInfo(name)
    found = zone(name, 2019, 2031)
    # every transition of the years, and a few minutes around each, plus random times
    walls = list(rng.integers(1_577_836_800, 1_893_456_000, 1000))
    for start, offset in zip(found.starts[1:], found.offsets[1:]):
        walls += [int(start) + int(offset) + minutes * 60 for minutes in range(-90, 91, 7)]
    walls = np.array(walls, dtype=np.int64)
    for second in (False, True):
        utc = found.to_utc(walls, np.full(len(walls), second))
        expected = [int(datetime(1970, 1, 1).__add__(timedelta(seconds=int(w))).replace(tzinfo=info, fold=int(second))
                        .timestamp()) for w in walls]
        skipped = found.to_local(utc) != walls
        # zoneinfo's fold=1 of a skipped time moves it back; fabula always moves it forward
        agree = np.array(expected) == utc
        assert agree[~skipped].all() and (found.to_local(utc)[skipped] > walls[skipped]).all()
        if not second:
            assert agree.all()


# -- the calendar on local clocks ------------------------------------------------------------------


def test_each_zone_follows_the_intraday_profile_on_its_own_clock(orders):
    for country, name in ZONES.items():
        rows = orders[orders.country == country]
        assert local(rows.ordered_at, name).dt.hour.value_counts().idxmax() == EVENING_PEAK
    tokyo = orders[orders.country == "JP"].ordered_at.dt.hour.value_counts()
    assert tokyo.idxmax() == EVENING_PEAK - 9  # stored as UTC: 20:00 in Tokyo is 11:00 UTC


def test_stored_local_times_are_the_wall_clock_and_always_exist(orders):
    for country, name in ZONES.items():
        rows = orders[orders.country == country]
        assert rows.ordered_local.dt.hour.value_counts().idxmax() == EVENING_PEAK
        exists = rows.ordered_local.dt.tz_localize(name, ambiguous="NaT", nonexistent="NaT")
        ambiguous = rows.ordered_local.dt.tz_localize(name, ambiguous="NaT", nonexistent="shift_forward").isna()
        assert exists.notna().sum() + ambiguous.sum() == len(rows)  # no time the clock skipped


def test_weekdays_are_local_days(orders):
    """Weekends ×1.5 on the local calendar: Tokyo's Saturday starts on Friday 15:00 UTC."""
    tokyo = orders[orders.country == "JP"]
    days = local(tokyo.ordered_at, "Asia/Tokyo").dt.day_of_week
    counts = days.value_counts()
    assert 1.35 < counts.loc[[5, 6]].mean() / counts.loc[[0, 1, 2, 3, 4]].mean() < 1.65
    assert local(tokyo.ordered_at, "Asia/Tokyo").dt.year.eq(2024).all()  # the window is local too
    assert (tokyo.ordered_at < "2024-01-01").any()  # ... so UTC reaches into 2023


def test_daylight_saving_days_in_new_york(orders):
    new_york = orders[orders.country == "US"]
    wall = local(new_york.ordered_at, "America/New_York")
    spring = wall[wall.dt.date == pd.Timestamp("2024-03-10").date()]
    assert not spring.dt.hour.eq(2).any()  # the skipped hour has no rows
    fall = new_york.ordered_at[wall.dt.date == pd.Timestamp("2024-11-03").date()]
    fall_local = local(fall, "America/New_York")
    repeated = fall[fall_local.dt.hour == 1]
    assert set(repeated.dt.hour) == {5, 6}  # 01:xx happened twice: at 05:xx and at 06:xx UTC
    assert (local(new_york.ordered_at, "America/New_York") - new_york.ordered_at).dt.total_seconds().isin(
        [-4 * 3600, -5 * 3600]).all()


def test_after_in_local_time(orders):
    shipped = orders.dropna(subset=["shipped_at"])
    assert (shipped.shipped_at >= shipped.ordered_at).all()
    assert ((shipped.shipped_at - shipped.ordered_at) <= pd.Timedelta(days=2)).all()
    for country, name in ZONES.items():
        rows = shipped[shipped.country == country]
        wall = local(rows.shipped_at, name)
        assert wall.max() < pd.Timestamp("2025-01-01")  # censored at as_of on the local clock
        assert wall.dt.hour.value_counts().idxmax() in (19, 20, 21)


def test_the_same_for_any_number_of_workers(tmp_path):
    from helpers import content_digest, read_table

    plan = compile_plan(load_text(SHOP), block_rows=4096)
    digests = []
    for workers in (1, 3):
        fabula.generate(plan, tmp_path / str(workers), workers=workers, validate=False)
        digests.append(content_digest(read_table(tmp_path / str(workers), "orders")))
    assert digests[0] == digests[1]


def test_the_manifest_records_the_tzdata_release(tmp_path):
    """A new tzdata release can move a zone's offsets, and so the rows: the manifest says which
    one made them (and only when a timestamp reads local time)."""
    from importlib.metadata import version

    from fabula.manifest import read_manifest

    fabula.generate(load_text(SHOP), tmp_path / "zoned", validate=False)
    assert read_manifest(tmp_path / "zoned").versions["tzdata"] == version("tzdata")
    utc = {"name": "utc", "seed": 1, "tables": {"t": {"rows": 10, "columns": {
        "at": {"kind": "timestamp", "start": "2024-01-01", "end": "2024-01-31"}}}}}
    fabula.generate(utc, tmp_path / "utc", validate=False)
    assert "tzdata" not in read_manifest(tmp_path / "utc").versions


def test_other_columns_do_not_move():
    """Adding `tz` changes only that column: the fold coin has a stream of its own."""
    plain = SHOP.replace(", tz: Europe/Berlin", "")
    with_zone, without = (table(compile_plan(load_text(text)), "orders") for text in (SHOP, plain))
    pd.testing.assert_frame_equal(with_zone, without)


# -- validation ------------------------------------------------------------------------------------


def test_validation_checks_the_local_calendar(tmp_path):
    fabula.generate(load_text(SHOP), tmp_path / "out", workers=2)
    checks = json.loads((tmp_path / "out" / "report.json").read_text())["checks"]
    zones = [check for check in checks if check["family"] == "zones"]
    names = " ".join(check["name"] for check in zones)
    assert "orders.ordered_at: intraday profile of shop in local time (zone)" in names
    assert "visits.seen_at: intraday profile" in names and "shipped_at: never after" in names
    weekday = [check for check in checks if check["name"].startswith("orders.ordered_local: weekday profile")]
    assert weekday and weekday[0]["verdict"] == "pass"
    assert {check["verdict"] for check in checks if check["family"] in ("zones", "story")} == {"pass"}


def test_the_intraday_check_fails_on_the_wrong_clock():
    """Read in the wrong zone, the same rows break the declared profile."""
    from fabula.validate.families import zones as family
    from fabula.validate.statistics import BlockView

    plan = compile_plan(load_text(SHOP))
    visits = plan.table("visits")
    batch = plan.block(visits, 0)
    timeline = plan.story.timelines["shop"]

    def verdict(tz: str) -> str:
        statistic = family.LocalHours("visits", "seen_at", "shop", tz, False, timeline.first_day, timeline.n_days,
                                      by_day=False)
        state = statistic.observe(BlockView(plan, visits, 0, batch))
        evidence = type("Evidence", (), {"plan": plan})()
        return family._hours_check(evidence, statistic, state).verdict

    assert verdict("Europe/Berlin") == "pass"
    assert verdict("America/Los_Angeles") == "fail"


# -- what is refused -------------------------------------------------------------------------------


@pytest.mark.parametrize("column, words", [
    ("{kind: timestamp, start: 2024-01-01, end: 2024-01-31, tz: Europe/Berlin}", "add `timeline:`"),
    ("{kind: timestamp, timeline: shop, store: local}", "add `tz:`"),
    ("{kind: timestamp, timeline: shop, tz: Mars/Olympus}", "not a time zone"),
    ("{kind: timestamp, timeline: shop, tz: nowhere}", "unknown-column"),
    ("{kind: timestamp, timeline: shop, tz: Europe/Berlin, store: local, after: ordered_at}",
     "needs `ordered_at` stored as local time in the same zone"),
])
def test_refused_with_a_clear_message(column, words):
    text = SHOP.replace("      seen_at: {kind: timestamp, timeline: shop, tz: Europe/Berlin}",
                        f"      seen_at: {{kind: timestamp, timeline: shop}}\n") \
        .replace("      shipped_at:", f"      odd: {column}\n      shipped_at:")
    with pytest.raises(SpecError) as raised:
        load_text(text)
    shown = "\n".join(f"{issue.code} {issue.render()}" for issue in raised.value.issues)
    assert words in shown
    assert "odd" in shown


def test_a_zone_column_holding_something_else_is_refused_while_generating():
    text = SHOP.replace("zone: {kind: lookup, from: customer_id.zone}", "zone: {kind: faker, provider: city}")
    with pytest.raises(Exception, match="`zone` holds `.*`, which is not a time zone"):
        fabula.preview(load_text(text), rows=5)


# -- local_time and utc_time in expressions ---------------------------------------------------------


def test_local_time_and_utc_time_in_expressions(orders):
    from fabula.generators.evaluate import evaluate
    from fabula.spec.expressions import parse_expression

    times = pa.array(orders.ordered_at.to_numpy(), type=pa.timestamp("s"))
    zones = pa.array(orders.zone.astype(str).tolist())
    shown = evaluate(parse_expression("local_time(t, z)"), {"t": times, "z": zones}, len(times)).to_pandas()
    for name in ZONES.values():
        mine = (orders.zone == name).to_numpy()
        assert (shown[mine].reset_index(drop=True) == local(orders.ordered_at[mine], name).reset_index(drop=True)).all()
    back = evaluate(parse_expression("utc_time(local_time(t, z), z)"), {"t": times, "z": zones}, len(times))
    repeated = 0
    for name in ZONES.values():  # back to the same instant, except the first of a repeated hour
        mine = (orders.zone == name).to_numpy()
        repeated += (back.to_pandas()[mine] != orders.ordered_at[mine]).sum()
    assert repeated < len(orders) / 1000
    fixed = evaluate(parse_expression("hour(local_time(t, 'Asia/Tokyo'))"), {"t": times}, len(times))
    assert fixed.to_pandas().equals(local(orders.ordered_at, "Asia/Tokyo").dt.hour.astype(fixed.to_pandas().dtype))


@pytest.mark.parametrize("expr, words", [
    ("local_time(ordered_at, 'Mars/Base')", "not a time zone"),
    ("local_time(ordered_at, 3)", "takes the zone as text"),
    ("local_time(day, 'UTC')", "needs a timestamp"),
])
def test_zone_functions_refuse_what_is_not_a_zone_or_a_time(expr, words):
    text = SHOP.replace("      shipped_at:", f"      day: {{kind: expression, expr: \"date(ordered_at)\"}}\n"
                                            f"      odd: {{kind: expression, expr: \"{expr}\"}}\n      shipped_at:")
    with pytest.raises(Exception, match=words):
        fabula.preview(load_text(text), rows=5)
