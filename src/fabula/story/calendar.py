"""A timeline resolved to numbers: the expected volume of every day of its window, and the
profile of activity within a day.

The day's volume is the product of the spec's factors — base rate, weekday, public holiday,
season, trend, seeded day-level noise — each a pure function of the date (and of the seed for
the noise), so the same spec and `as_of` always give the same calendar.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np

from fabula.spec.dates import resolve_bound
from fabula.spec.holidays_cache import holiday_ordinals
from fabula.spec.story import Seasonality, TimelineSpec
from fabula.story.events import EPOCH_ORDINAL
from fabula.streams import rng_for


@dataclass(frozen=True)
class ResolvedTimeline:
    name: str
    first_day: int
    """The window's first day, in days since 1970-01-01."""
    volume: np.ndarray
    """Expected rows on each day of the window at the base rate (before events and --scale)."""
    hourly: np.ndarray
    """Cumulative share of a day's activity at the end of each hour (24 values, the last is 1)."""
    day_hourly: np.ndarray | None = None
    """For a mix: the cumulative intraday profile of each day (days × 24), which changes with
    the components' volumes that day."""
    components: tuple = ()
    """For a mix: (label, volume per day of this window, hourly shares) of each component."""

    @property
    def n_days(self) -> int:
        return len(self.volume)

    @property
    def last_day(self) -> int:
        return self.first_day + self.n_days - 1

    def days(self) -> np.ndarray:
        return np.arange(self.first_day, self.first_day + self.n_days, dtype=np.int64)

    def cumulative_hours(self) -> np.ndarray:
        """The cumulative intraday profile: 24 values, or one row of 24 per day for a mix."""
        return self.day_hourly if self.day_hourly is not None else self.hourly

    def seconds_in_day(self, u: np.ndarray, day: np.ndarray | None = None) -> np.ndarray:
        """Seconds after midnight for quantiles `u` in [0, 1) of the intraday profile (inverse
        CDF, uniform within an hour); increasing in `u`, so sorted quantiles give sorted times.
        `day` (index in the window) picks each row's profile for a mix."""
        if self.day_hourly is not None and day is not None:
            profile = self.day_hourly[day]
            hour = np.minimum((profile <= u[:, None]).sum(axis=1), 23)
            rows = np.arange(len(u))
            below = np.where(hour > 0, profile[rows, np.maximum(hour - 1, 0)], 0.0)
            width = profile[rows, hour] - below
            within = np.divide(u - below, width, out=np.zeros_like(u), where=width > 0)
            return (hour + np.clip(within, 0.0, 1.0 - 1e-12)) * 3600.0
        hour = np.minimum(np.searchsorted(self.hourly, u, side="right"), 23)
        below = np.where(hour > 0, self.hourly[hour - 1], 0.0)
        width = self.hourly[hour] - below
        within = np.divide(u - below, width, out=np.zeros_like(u), where=width > 0)
        return (hour + np.clip(within, 0.0, 1.0 - 1e-12)) * 3600.0


def resolve_timeline(name: str, spec: TimelineSpec, as_of: date, seed: int) -> ResolvedTimeline:
    """The calendar of a timeline for a given `as_of` and root seed.

    >>> from fabula.spec.story import TimelineSpec
    >>> t = resolve_timeline("s", TimelineSpec(start="2024-01-01", end="2024-01-07", rate=10,
    ...                                        weekday={"weekend": 0.5}), date(2024, 12, 31), 1)
    >>> t.volume.tolist()
    [10.0, 10.0, 10.0, 10.0, 10.0, 5.0, 5.0]
    """
    first = resolve_bound(spec.start, as_of)
    last = resolve_bound(spec.end, as_of)
    ordinals = np.arange(first.toordinal(), last.toordinal() + 1, dtype=np.int64)
    dates = [date.fromordinal(int(ordinal)) for ordinal in ordinals]
    volume = np.full(len(ordinals), float(spec.rate))
    # 0001-01-01 was a Monday, so (ordinal - 1) % 7 is the weekday with Monday = 0
    volume *= np.asarray(spec.weekday_factors())[(ordinals - 1) % 7]
    if spec.holidays is not None:
        volume *= np.where(holiday_mask(spec, dates), spec.holidays.factor, 1.0)
    if spec.seasonality is not None:
        volume *= season_factors(spec.seasonality, dates)
    if spec.trend is not None:
        years = (ordinals - ordinals[0]) / 365.25
        growth = spec.trend.growth
        volume *= 1.0 + growth * years if spec.trend.shape == "linear" else (1.0 + growth) ** years
    if spec.noise:
        rng = rng_for(seed, f"timeline:{name}", "", "noise", 0)
        volume *= rng.uniform(1.0 - spec.noise, 1.0 + spec.noise, len(ordinals))
    hourly = np.asarray(spec.intraday_factors(), dtype=np.float64)
    return ResolvedTimeline(name, int(ordinals[0] - EPOCH_ORDINAL) if len(ordinals) else 0,
                            np.maximum(volume, 0.0), np.cumsum(hourly) / hourly.sum())


def resolve_mix(name: str, mix: dict[str, str], timelines: dict[str, ResolvedTimeline]) -> ResolvedTimeline:
    """The sum of timelines over the union of their windows: each day's volumes added up, and
    that day's intraday profile the volume-weighted mix of the components' profiles."""
    parts = [(label, timelines[component]) for label, component in mix.items()]
    first = min(part.first_day for _, part in parts)
    last = max(part.last_day for _, part in parts)
    days = last - first + 1
    components = []
    for label, part in parts:
        volume = np.zeros(days)
        volume[part.first_day - first:part.first_day - first + part.n_days] = part.volume
        components.append((label, volume, np.diff(np.concatenate([[0.0], part.hourly]))))
    per_hour: np.ndarray = sum(volume[:, None] * shares[None, :] for _, volume, shares in components)  # type: ignore[assignment]  # a mix has parts
    total = per_hour.sum(axis=1)
    flat = np.full(24, 1.0 / 24)
    shares = np.where(total[:, None] > 0, per_hour / np.where(total > 0, total, 1.0)[:, None], flat)
    day_hourly = np.cumsum(shares, axis=1)
    day_hourly[:, -1] = 1.0
    overall = per_hour.sum(axis=0)
    hourly = np.cumsum(overall / overall.sum()) if overall.sum() > 0 else np.cumsum(flat)
    return ResolvedTimeline(name, first, total, hourly, day_hourly, tuple(components))


def holiday_mask(spec: TimelineSpec, dates: list[date]) -> np.ndarray:
    assert spec.holidays is not None  # called only for timelines with holidays
    if not dates:
        return np.zeros(0, dtype=bool)
    years = [day.year for day in dates]  # any order: validation asks about the days it saw
    found = holiday_ordinals(spec.holidays.country, spec.holidays.subdiv, min(years), max(years))
    return np.array([day.toordinal() in found for day in dates], dtype=bool)


def season_factors(seasonality, dates: list[date]) -> np.ndarray:
    """Monthly factors as written, or a cosine over the year peaking mid-`peak` month."""
    if not isinstance(seasonality, Seasonality):
        return np.asarray(seasonality, dtype=np.float64)[[day.month - 1 for day in dates]]
    peak_day = (seasonality.peak - 0.5) * 365.25 / 12
    day_of_year = np.array([day.timetuple().tm_yday for day in dates], dtype=np.float64)
    return 1.0 + seasonality.amplitude * np.cos(2 * math.pi * (day_of_year - peak_day) / 365.25)
