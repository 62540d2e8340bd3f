"""A timeline's calendar survives into the Parquet files: weekday profile, public holidays,
seasonality (monthly factors and the annual curve), trend, the intraday profile, day-level
noise, and how `--scale` and `total:` size a table.

One spec with a table per timeline, written once; every table's rows are the timeline's
arrivals (Poisson counts per day around its volume), so each day's count is Poisson and the
bounds follow from the expected counts (see support.py).
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
import yaml

from fabula.spec.story import INTRADAY_PRESETS
from story.support import (
    binomial_bounds,
    check,
    counts_per_day,
    dataset,
    days,
    hours,
    mean_bounds,
    poisson_bounds,
    ratio_bounds,
    run_cli,
    simulated_bounds,
    table,
    write,
)

H1 = {"start": "2024-01-01", "end": "2024-06-30"}  # 26 whole weeks from a Monday
YEAR = {"start": "2024-01-01", "end": "2024-12-31"}  # a leap year: 366 days

WEEKDAY_RATE, WEEKEND, FRIDAY = 100, 0.6, 1.2
HOLIDAY_RATE, HOLIDAY_FACTOR = 100, 0.3
US_HOLIDAYS_2024 = [date(2024, 1, 1), date(2024, 1, 15), date(2024, 2, 19), date(2024, 5, 27), date(2024, 6, 19),
                    date(2024, 7, 4), date(2024, 9, 2), date(2024, 10, 14), date(2024, 11, 11),
                    date(2024, 11, 28), date(2024, 12, 25)]
"""The federal holidays of 2024 (all on weekdays), written out rather than asked of the
`holidays` package, so the test does not share the implementation's source."""
SEASON_RATE = 50
MONTHLY = (0.5, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.4, 1.2, 1.0, 0.8, 2.0)
PEAK, AMPLITUDE = 7, 0.5
TREND_RATE, GROWTH = 20, 3.0
NIGHT = [0.0] * 24
NIGHT[2], NIGHT[3] = 1.0, 3.0
DRAWN_ROWS = 20_000

TIMELINES = {
    "weekly": {**H1, "rate": WEEKDAY_RATE, "weekday": {"weekend": WEEKEND, "fri": FRIDAY},
               "intraday": "business_hours"},
    "holiday": {**YEAR, "rate": HOLIDAY_RATE, "weekday": {"weekend": WEEKEND}, "intraday": "flat",
                "holidays": {"country": "US", "factor": HOLIDAY_FACTOR}},
    "monthly": {**YEAR, "rate": SEASON_RATE, "seasonality": list(MONTHLY)},
    "curve": {**YEAR, "rate": SEASON_RATE, "seasonality": {"peak": PEAK, "amplitude": AMPLITUDE}},
    "linear": {**YEAR, "rate": TREND_RATE, "trend": {"growth": GROWTH}},
    "exponential": {**YEAR, "rate": TREND_RATE, "trend": {"growth": GROWTH, "shape": "exponential"}},
    "night": {"start": "2024-01-01", "end": "2024-01-31", "rate": 200, "intraday": NIGHT},
}


def _arrivals(timeline: str) -> dict:
    return {"rows": {"timeline": timeline}, "columns": {"at": {"kind": "timestamp", "timeline": timeline}}}


CALENDAR = dataset("calendar", timelines=TIMELINES, tables={
    **{name: _arrivals(name) for name in TIMELINES},
    # a table of fixed size whose timestamps follow the weekly timeline's shape
    "drawn": {"rows": DRAWN_ROWS, "columns": {"at": {"kind": "timestamp", "timeline": "weekly"}}},
    "fixed_total": {"rows": {"timeline": "weekly", "total": 5000},
                    "columns": {"at": {"kind": "timestamp", "timeline": "weekly"}}},
})


@pytest.fixture(scope="module")
def calendar(tmp_path_factory):
    return write(CALENDAR, tmp_path_factory.mktemp("calendar") / "out")


def _counts(out, name: str, first: date, last: date) -> np.ndarray:
    return counts_per_day(table(out, name).column("at"), first, last)


# -- weekday profile ---------------------------------------------------------------------------------


def test_weekend_and_friday_factors_are_recovered(calendar):
    counts = _counts(calendar, "weekly", date(2024, 1, 1), date(2024, 6, 30))
    by_weekday = np.array([counts[weekday::7].sum() for weekday in range(7)])  # 2024-01-01 is a Monday
    mon_to_thu, friday, weekend = by_weekday[:4].sum(), by_weekday[4], by_weekday[5:].sum()
    weeks = 26
    base = 4 * weeks * WEEKDAY_RATE
    check((weekend / (2 * weeks)) / (mon_to_thu / (4 * weeks)),
          ratio_bounds(WEEKEND, 2 * weeks * WEEKDAY_RATE * WEEKEND, base), wrong={"no weekday profile": 1.0})
    check((friday / weeks) / (mon_to_thu / (4 * weeks)),
          ratio_bounds(FRIDAY, weeks * WEEKDAY_RATE * FRIDAY, base),
          wrong={"`fri` ignored": 1.0, "`weekend` applied to Friday": WEEKEND})
    for weekday, factor in enumerate((1, 1, 1, 1, FRIDAY, WEEKEND, WEEKEND)):
        check(by_weekday[weekday], poisson_bounds(weeks * WEEKDAY_RATE * factor))


def test_a_fixed_total_follows_the_shape_and_sums_exactly(calendar):
    """`rows: {timeline, total}` spreads exactly `total` rows over the days in proportion to the
    volume (a multinomial): weekend days get their share, not a seventh each."""
    counts = _counts(calendar, "fixed_total", date(2024, 1, 1), date(2024, 6, 30))
    assert counts.sum() == 5000
    weekend_share = (2 * WEEKEND) / (4 + FRIDAY + 2 * WEEKEND)
    weekend = sum(counts[weekday::7].sum() for weekday in (5, 6))
    check(weekend / 5000, binomial_bounds(5000, weekend_share), wrong={"uniform over days": 2 / 7})


# -- holidays -----------------------------------------------------------------------------------------


def test_holidays_dip_to_their_factor(calendar):
    window = days(date(2024, 1, 1), date(2024, 12, 31))
    counts = _counts(calendar, "holiday", window[0], window[-1])
    holiday = np.array([day in US_HOLIDAYS_2024 for day in window])
    weekday = np.array([day.weekday() < 5 for day in window])
    assert holiday.sum() == 11 and (holiday <= weekday).all()
    on_holidays = counts[holiday].mean()
    on_ordinary_weekdays = counts[weekday & ~holiday].mean()
    check(on_holidays / on_ordinary_weekdays,
          ratio_bounds(HOLIDAY_FACTOR, holiday.sum() * HOLIDAY_RATE * HOLIDAY_FACTOR,
                       (weekday & ~holiday).sum() * HOLIDAY_RATE),
          wrong={"holidays ignored": 1.0, "holidays as weekend days": WEEKEND})


# -- seasonality and trend ---------------------------------------------------------------------------


def _by_month(values: np.ndarray, window: list[date]) -> np.ndarray:
    months = np.array([day.month for day in window])
    return np.array([values[months == month].sum() for month in range(1, 13)])


def test_monthly_factors(calendar):
    window = days(date(2024, 1, 1), date(2024, 12, 31))
    observed = _by_month(_counts(calendar, "monthly", window[0], window[-1]), window)
    length = _by_month(np.ones(len(window)), window)
    for month, factor in enumerate(MONTHLY):
        flat = length[month] * SEASON_RATE
        check(observed[month], poisson_bounds(flat * factor),
              wrong={"no seasonality": flat} if factor != 1.0 else {})


def _curve_by_month(peak: int, window: list[date]) -> np.ndarray:
    """Expected rows per month: rate × (1 + amplitude × cos), highest in the middle of `peak`."""
    day_of_year = np.array([day.timetuple().tm_yday for day in window])
    peak_day = (peak - 0.5) * 365.25 / 12
    return _by_month(SEASON_RATE * (1 + AMPLITUDE * np.cos(2 * math.pi * (day_of_year - peak_day) / 365.25)), window)


def test_annual_curve_peaks_in_its_month(calendar):
    window = days(date(2024, 1, 1), date(2024, 12, 31))
    observed = _by_month(_counts(calendar, "curve", window[0], window[-1]), window)
    expected = _curve_by_month(PEAK, window)
    mistakes = {"no seasonality": _by_month(np.full(len(window), SEASON_RATE), window),
                "peak in January": _curve_by_month(1, window)}
    for month in range(12):
        wrong = {name: values[month] for name, values in mistakes.items()
                 if abs(values[month] - expected[month]) > 0.25 * expected[month]}
        check(observed[month], poisson_bounds(expected[month]), wrong=wrong)


@pytest.mark.parametrize("shape,other", [("linear", "exponential"), ("exponential", "linear")])
def test_trend_grows_by_its_shape(calendar, shape, other):
    """growth 3 a year: × (1 + 3t) linearly, × 4^t exponentially (t in years from the start);
    each quarter matches its own shape, and the middle quarters tell the two apart."""
    window = days(date(2024, 1, 1), date(2024, 12, 31))
    counts = _counts(calendar, shape, window[0], window[-1])
    years = np.arange(len(window)) / 365.25
    factors = {"linear": 1 + GROWTH * years, "exponential": (1 + GROWTH) ** years}
    quarters = [(0, 91), (91, 182), (182, 274), (274, 366)]
    for number, (start, stop) in enumerate(quarters, start=1):
        expected = TREND_RATE * factors[shape][start:stop].sum()
        wrong = {f"{other} growth": TREND_RATE * factors[other][start:stop].sum()} if number in (2, 3) else {}
        check(counts[start:stop].sum(), poisson_bounds(expected), wrong={**wrong, "no trend": TREND_RATE * (stop - start)})


# -- intraday profile ---------------------------------------------------------------------------------


def _profile_share(profile, first_hour: int, stop_hour: int) -> float:
    return sum(profile[first_hour:stop_hour]) / sum(profile)


@pytest.mark.parametrize("name", ["weekly", "drawn"], ids=["arrivals", "shape-only"])
def test_business_hours_profile(calendar, name):
    """The share of rows in 9:00-17:00 (and in every hour) is the profile's share; for a table
    sized by the timeline and for one that only draws its timestamps from it."""
    hour = hours(table(calendar, name).column("at"))
    n = len(hour)
    profile = INTRADAY_PRESETS["business_hours"]
    check(np.mean((hour >= 9) & (hour < 17)), binomial_bounds(n, _profile_share(profile, 9, 17)),
          wrong={"flat day": 8 / 24, "daytime preset": _profile_share(INTRADAY_PRESETS["daytime"], 9, 17)})
    for each in range(24):
        check(np.mean(hour == each), binomial_bounds(n, _profile_share(profile, each, each + 1)))


def test_custom_hourly_factors(calendar):
    hour = hours(table(calendar, "night").column("at"))
    assert set(np.unique(hour)) == {2, 3}, "hours with factor 0 get no rows"
    check(np.mean(hour == 3), binomial_bounds(len(hour), 0.75), wrong={"flat within the active hours": 0.5})


def test_shape_only_table_keeps_its_size_and_follows_the_weekdays(calendar):
    counts = _counts(calendar, "drawn", date(2024, 1, 1), date(2024, 6, 30))
    assert counts.sum() == DRAWN_ROWS
    weekend = sum(counts[weekday::7].sum() for weekday in (5, 6))
    check(weekend / DRAWN_ROWS, binomial_bounds(DRAWN_ROWS, (2 * WEEKEND) / (4 + FRIDAY + 2 * WEEKEND)),
          wrong={"uniform over days": 2 / 7})


# -- noise ---------------------------------------------------------------------------------------------

NOISE_RATE = 300
NOISE_WINDOW = {"start": "2024-01-01", "end": "2024-04-29"}  # 120 days
NOISES = {"quiet": 0.0, "noisy": 0.2, "noisier": 0.5}


@pytest.fixture(scope="module")
def noise_counts(tmp_path_factory) -> dict[str, np.ndarray]:
    spec = dataset("noise", timelines={name: {**NOISE_WINDOW, "rate": NOISE_RATE, "noise": noise}
                                       for name, noise in NOISES.items()},
                   tables={name: _arrivals(name) for name in NOISES})
    out = write(spec, tmp_path_factory.mktemp("noise") / "out")
    return {name: _counts(out, name, date(2024, 1, 1), date(2024, 4, 29)) for name in NOISES}


def _dispersion(counts: np.ndarray) -> float:
    """Variance over mean of the daily counts: 1 for Poisson counts around a fixed volume."""
    return counts.var(ddof=1) / counts.mean()


def _expected_dispersion(noise: float) -> float:
    """Poisson around rate × uniform(1 ± noise): variance rate + rate² noise²/3."""
    return 1 + NOISE_RATE * noise ** 2 / 3


@pytest.mark.parametrize("name", list(NOISES))
def test_noise_widens_day_to_day_dispersion(noise_counts, name):
    noise = NOISES[name]
    n_days = len(noise_counts[name])
    bounds = simulated_bounds(_dispersion, lambda rng: rng.poisson(NOISE_RATE * rng.uniform(1 - noise, 1 + noise, n_days)))
    others = {f"noise {other}": _expected_dispersion(value) for other, value in NOISES.items() if value != noise}
    check(_dispersion(noise_counts[name]), bounds, wrong=others)
    # the noise is centred: the mean volume stays the rate
    check(noise_counts[name].mean(), mean_bounds(NOISE_RATE, math.sqrt(_expected_dispersion(noise) * NOISE_RATE), n_days))


# -- --scale -------------------------------------------------------------------------------------------


def test_scale_multiplies_the_daily_volume_and_a_fixed_total(tmp_path):
    """`fabula generate --scale 3`: three times the rows per day; a `total` is scaled exactly."""
    spec = dataset("scaled", timelines={"january": {"start": "2024-01-01", "end": "2024-01-31", "rate": 50}},
                   tables={"arrivals": _arrivals("january"),
                           "fixed": {"rows": {"timeline": "january", "total": 1000},
                                     "columns": {"at": {"kind": "timestamp", "timeline": "january"}}}})
    path = tmp_path / "scaled.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    run_cli("generate", str(path), "--out", str(out), "--scale", "3", "--quiet")
    counts = _counts(out, "arrivals", date(2024, 1, 1), date(2024, 1, 31))
    check(counts.sum(), poisson_bounds(3 * 50 * 31), wrong={"unscaled": 50 * 31})
    assert table(out, "fixed").num_rows == 3000
