"""Events survive into the Parquet files: volume uplift inside the window, ramps on the days
around it, an outage with no rows, category and parameter overrides for rows inside it, a
conditional override that falls back to the column's own rule, lagged effects in exactly the
shifted window, a table drawn from the timeline's shape, and the events table.

Bounds are derived from the sample size (see support.py). The timeline is flat within the day
(`intraday: flat`), so on a ramp day the mean strength of an override over the day's rows is the
strength at midday, which is what the day's volume uses too.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pytest

from story.support import (
    binomial_bounds,
    check,
    check_mix,
    counts_per_day,
    dataset,
    day_index,
    days,
    mean_bounds,
    poisson_bounds,
    ratio_bounds,
    table,
    write,
)
from story.incident import (
    AUDITS,
    CALM,
    DECAY,
    EVENTS_SPEC,
    FIRST,
    HOURS_SCALE,
    HOURS_SCALE_DURING,
    INCIDENT,
    LAST,
    OUTAGE,
    QUIET,
    RAMP_STRENGTH,
    RAMP_UP,
    RATE,
    SHARE_A,
    SHARE_A_DURING,
    UPSET,
    WINDOW,
)

@pytest.fixture(scope="module")
def events_out(tmp_path_factory):
    return write(EVENTS_SPEC, tmp_path_factory.mktemp("events") / "out")


@pytest.fixture(scope="module")
def tickets(events_out) -> dict[str, np.ndarray]:
    """The tickets as numpy columns, plus `day` (0 = FIRST)."""
    read = table(events_out, "tickets")
    columns = {name: read.column(name).to_numpy(zero_copy_only=False) for name in read.column_names}
    columns["day"] = day_index(read.column("created_at"), FIRST)
    return columns


def _on(day_values: np.ndarray, dates: list[date]) -> np.ndarray:
    return np.isin(day_values, [(day - FIRST).days for day in dates])


# -- volume --------------------------------------------------------------------------------------------


def test_volume_triples_inside_the_window(tickets):
    per_day = counts_per_day(tickets["created_at"], FIRST, LAST)
    inside = per_day[[(day - FIRST).days for day in WINDOW]].mean()
    outside = per_day[[(day - FIRST).days for day in QUIET]].mean()
    check(inside / outside, ratio_bounds(3, 3 * RATE * len(WINDOW), RATE * len(QUIET)),
          wrong={"no uplift": 1.0, "uplift of 2": 2.0})


@pytest.mark.parametrize("ramp", ["ramp_up", "decay"])
def test_ramp_days_sit_between_outside_and_inside(tickets, ramp):
    ramp_days = RAMP_UP if ramp == "ramp_up" else DECAY[::-1]  # decay mirrors the ramp up
    per_day = counts_per_day(tickets["created_at"], FIRST, LAST)
    on_ramp = per_day[[(day - FIRST).days for day in ramp_days]]
    expected = [RATE * (1 + 2 * strength) for strength in RAMP_STRENGTH]
    check(on_ramp.sum(), poisson_bounds(sum(expected)),
          wrong={"no ramp": RATE * len(ramp_days), "full effect on ramp days": 3 * RATE * len(ramp_days)})
    # the first half of a ramp is lower than the second (the effect builds up, or fades out)
    check(on_ramp[2:].sum() - on_ramp[:2].sum(),
          (sum(expected[2:]) - sum(expected[:2]) - 5 * np.sqrt(sum(expected)),
           sum(expected[2:]) - sum(expected[:2]) + 5 * np.sqrt(sum(expected))), wrong={"flat ramp": 0})


def test_an_outage_leaves_no_rows(tickets):
    per_day = counts_per_day(tickets["created_at"], FIRST, LAST)
    outage = days(*OUTAGE)
    assert per_day[[(day - FIRST).days for day in outage]].sum() == 0
    for neighbour in (date(2024, 3, 9), date(2024, 3, 13)):
        check(per_day[(neighbour - FIRST).days], poisson_bounds(RATE))


# -- overrides ---------------------------------------------------------------------------------------


def test_category_shifts_inside_the_window(tickets):
    inside = _on(tickets["day"], WINDOW)
    quiet = _on(tickets["day"], QUIET)
    check(np.mean(tickets["category"][inside] == "A"), binomial_bounds(inside.sum(), SHARE_A_DURING),
          wrong={"override ignored": SHARE_A})
    check(np.mean(tickets["category"][quiet] == "A"), binomial_bounds(quiet.sum(), SHARE_A),
          wrong={"override everywhere": SHARE_A_DURING})


def test_category_on_ramp_days_mixes_with_the_strength(tickets):
    """A row on a ramp day is redrawn with the strength at its time: the share of A is
    0.25 + 0.4 × (mean strength over the ramp days' rows)."""
    ramp_days = RAMP_UP + DECAY[::-1]
    strength = RAMP_STRENGTH * 2
    per_day = counts_per_day(tickets["created_at"], FIRST, LAST)
    counts = per_day[[(day - FIRST).days for day in ramp_days]]
    mean_strength = float(np.dot(counts, strength) / counts.sum())
    expected = SHARE_A + (SHARE_A_DURING - SHARE_A) * mean_strength
    on_ramps = _on(tickets["day"], ramp_days)
    check(np.mean(tickets["category"][on_ramps] == "A"), binomial_bounds(on_ramps.sum(), expected),
          wrong={"no ramp": SHARE_A, "full effect": SHARE_A_DURING})


def test_a_parameter_override_inherits_the_columns_modifiers(tickets):
    """`during: {incident: {scale: 30}}` keeps the exponential kind, `round: 1` and `clip`."""
    inside = _on(tickets["day"], WINDOW)
    quiet = _on(tickets["day"], QUIET)
    hours = tickets["hours"]
    clipped_mean = {scale: 1 + scale * np.exp(-1 / scale) for scale in (HOURS_SCALE, HOURS_SCALE_DURING)}
    check(hours[inside].mean(), mean_bounds(clipped_mean[HOURS_SCALE_DURING], HOURS_SCALE_DURING, inside.sum(), slack=0.05),
          wrong={"override ignored": clipped_mean[HOURS_SCALE]})
    check(hours[quiet].mean(), mean_bounds(clipped_mean[HOURS_SCALE], HOURS_SCALE, quiet.sum(), slack=0.05),
          wrong={"override everywhere": clipped_mean[HOURS_SCALE_DURING]})
    assert hours[inside].min() >= 1, "the override inherits clip: {min: 1}"
    assert np.allclose(hours[inside] * 10, np.round(hours[inside] * 10)), "the override inherits round: 1"


def test_a_conditional_override_changes_only_its_cases(tickets):
    """mood during the incident: A tickets are all `angry`; B tickets keep the column's own rule
    (calm 80 / upset 20), and outside the window nobody is angry."""
    inside = _on(tickets["day"], WINDOW)
    mood, category = tickets["mood"], tickets["category"]
    assert (mood[inside & (category == "A")] == "angry").all()
    check_mix(mood[inside & (category == "B")], {"calm": CALM, "upset": UPSET}, "B tickets during the incident")
    outside = ~_on(tickets["day"], RAMP_UP + WINDOW + DECAY)
    check_mix(mood[outside], {"calm": CALM, "upset": UPSET}, "tickets outside the incident")


# -- a table drawn from the timeline's shape ---------------------------------------------------------------


def test_a_shape_only_table_follows_the_events_on_it(events_out):
    """`audits` has a fixed size; its timestamps follow the timeline's shape including the
    incident's ×3 on audits, but not the outage, which is only on tickets."""
    per_day = counts_per_day(table(events_out, "audits").column("at"), FIRST, LAST)
    assert per_day.sum() == AUDITS
    window = days(FIRST, LAST)
    volume = np.full(len(window), float(RATE))
    for day, strength in zip(RAMP_UP + DECAY[::-1], RAMP_STRENGTH * 2):
        volume[(day - FIRST).days] *= 1 + 2 * strength
    volume[[(day - FIRST).days for day in WINDOW]] *= 3
    share = volume / volume.sum()
    inside = [(day - FIRST).days for day in WINDOW]
    check(per_day[inside].sum() / AUDITS, binomial_bounds(AUDITS, share[inside].sum()),
          wrong={"events ignored": len(WINDOW) / len(window)})
    outage = [(day - FIRST).days for day in days(*OUTAGE)]
    check(per_day[outage].sum() / AUDITS, binomial_bounds(AUDITS, share[outage].sum()),
          wrong={"the outage of tickets applied to audits": 0.0})


# -- lagged effects -----------------------------------------------------------------------------------------

LAG_RATE = 200
CAUSE = (date(2024, 2, 1), date(2024, 2, 5))
SIGNUP_LAG = days(date(2024, 2, 22), date(2024, 3, 6))  # 21 days after the start, for 14 days
CHURN_LAG = days(date(2024, 2, 8), date(2024, 2, 17))  # 1 week after the start, for 10 days
CHURN, CHURN_DURING = 0.05, 0.40

LAGGED_SPEC = dataset(
    "lagged",
    timelines={"daily": {"start": str(FIRST), "end": str(LAST), "rate": LAG_RATE, "intraday": "flat"}},
    events={"incident": {"start": str(CAUSE[0]), "end": str(CAUSE[1]),
                         "volume": {"signups": {"factor": 2, "delay": "21d", "lasting": "14d"}}}},
    tables={"signups": {"rows": {"timeline": "daily"}, "columns": {
        "at": {"kind": "timestamp", "timeline": "daily"},
        "churned": {"kind": "boolean", "p": CHURN,
                    "during": {"incident": {"p": CHURN_DURING, "delay": "1w", "lasting": 10}}},
    }}},
)


@pytest.fixture(scope="module")
def signups(tmp_path_factory) -> pa.Table:
    return table(write(LAGGED_SPEC, tmp_path_factory.mktemp("lagged") / "out"), "signups")


def test_a_lagged_volume_effect_rises_exactly_in_the_shifted_window(signups):
    """Each day's count is within the bound of either the base rate or double it (the bounds do
    not overlap), and the doubled days are exactly 21 days after the start, for 14 days."""
    per_day = counts_per_day(signups.column("at"), FIRST, LAST)
    base, doubled = poisson_bounds(LAG_RATE), poisson_bounds(2 * LAG_RATE)
    assert base[1] < doubled[0]
    found = []
    for day, count in zip(days(FIRST, LAST), per_day):
        assert base[0] <= count <= base[1] or doubled[0] <= count <= doubled[1], f"{day}: {count}"
        if count >= doubled[0]:
            found.append(day)
    assert found == SIGNUP_LAG, "the rise is in the shifted window, not the event's own"


def test_a_lagged_override_applies_exactly_in_its_own_window(signups):
    """`delay: 1w, lasting: 10`: churn is 40% on exactly those days; before, during the event
    itself and after, it is the column's 5%."""
    day = day_index(signups.column("at"), FIRST)
    churned = signups.column("churned").to_numpy(zero_copy_only=False)
    elevated = []
    for offset, when in enumerate(days(FIRST, LAST)):
        rows = churned[day == offset]
        low_share, high_share = binomial_bounds(len(rows), CHURN), binomial_bounds(len(rows), CHURN_DURING)
        assert low_share[1] < high_share[0], "the bounds tell the two apart"
        share = rows.mean()
        assert low_share[0] <= share <= low_share[1] or high_share[0] <= share <= high_share[1], f"{when}: {share}"
        if share >= high_share[0]:
            elevated.append(when)
    assert elevated == CHURN_LAG


# -- the events table ---------------------------------------------------------------------------------------


def test_the_events_table_has_one_row_per_event(events_out):
    events = table(events_out, "events")
    assert events.schema.field("start").type == pa.date32() and events.schema.field("end").type == pa.date32()
    assert events.to_pylist() == [
        {"name": "incident", "start": INCIDENT[0], "end": INCIDENT[1], "description": "logins failing"},
        {"name": "outage", "start": OUTAGE[0], "end": OUTAGE[1], "description": None},
    ]
