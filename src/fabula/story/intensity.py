"""A timeline's intensity hour by hour, to draw a time after another one in the timeline's shape.

A return follows its order, a reply follows its ticket — and both still happen on busy days
and in office hours. `HourlyIntensity` is the timeline's expected volume per hour of its window
(the day's volume, events included, spread by the intraday profile); a time after `t` is drawn
from that intensity restricted to the interval from `t` to a bound (the window's end, `as_of`,
or `t + within`), by the inverse of its running total. No row is placed before `t`, none after
the bound, and a row whose interval has no intensity at all is censored (null).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

BUCKETS_PER_HOUR = 8
"""Buckets of the running total per hour of the window, to find the hour of a moment (`hour_of`)."""
MAX_BUCKETS = 1 << 20
"""At most 8 MB of buckets: a window longer than 15 years gets fewer per hour, and more of its
rows fall back to the binary search."""


@dataclass(frozen=True)
class HourlyIntensity:
    first_day: int
    """The window's first day, in days since 1970-01-01."""
    running: np.ndarray
    """Running total of the expected volume at the start of each hour of the window (hours + 1
    values, from 0)."""

    @classmethod
    def of(cls, first_day: int, day_volume: np.ndarray, hourly_cdf: np.ndarray) -> HourlyIntensity:
        cumulative = np.atleast_2d(hourly_cdf)  # one profile, or one per day (a mix)
        shares = np.diff(cumulative, axis=1, prepend=0.0)
        per_hour = (np.asarray(day_volume, dtype=np.float64)[:, None] * shares).ravel()
        return cls(first_day, np.concatenate([[0.0], np.cumsum(per_hour)]))

    @property
    def hours(self) -> int:
        return len(self.running) - 1

    def __getstate__(self) -> dict:
        """The timeline alone: the lookups below are remade where blocks are drawn (a Spark
        task unpickles the plan), not shipped with it."""
        return {"first_day": self.first_day, "running": self.running}

    @cached_property
    def _rates(self) -> np.ndarray:
        """The volume of each hour: `running[h + 1] - running[h]`, the same float."""
        return np.diff(self.running)

    @cached_property
    def _buckets(self) -> tuple[float, np.ndarray]:
        """(buckets per unit of running total, the hour each bucket's lower edge falls in): the
        running total cut into equal buckets, several per hour, so that most moments find their
        hour in the bucket's hour or the next one."""
        count = int(min(BUCKETS_PER_HOUR * self.hours, MAX_BUCKETS))
        total = float(self.running[-1])
        if not 0 < total < np.inf:
            return 0.0, np.zeros(0, dtype=np.int64)
        edges = np.arange(count) * (total / count)
        return count / total, np.clip(np.searchsorted(self.running, edges, side="right") - 1, 0, self.hours - 1)

    def total_at(self, hours: np.ndarray) -> np.ndarray:
        """The running total at moments given in hours since the window's start (clamped to it)."""
        hours = np.clip(hours, 0.0, float(self.hours))
        whole = np.minimum(np.floor(hours).astype(np.int64), self.hours - 1)
        return self.running[whole] + (hours - whole) * self._rates[whole]

    def hour_of(self, total: np.ndarray) -> np.ndarray:
        """The hour of the window in which the running total reaches `total`: the last hour
        whose start is at or below it, clamped to the window's hours.

        The same as `np.clip(np.searchsorted(running, total, side="right") - 1, 0, hours - 1)`,
        which a draw of a block spent most of its time on (a binary search per row): here the
        hour is looked up in equal buckets of the running total, stepped once, and checked;
        the few rows the check refuses (a bucket that spans more hours) are searched.

        >>> flat = HourlyIntensity.of(0, np.array([24.0, 24.0]), np.arange(1, 25) / 24)
        >>> flat.hour_of(np.array([-1.0, 0.0, 0.5, 1.0, 47.0, 48.0, 99.0, np.nan])).tolist()
        [0, 0, 0, 1, 47, 47, 47, 47]
        """
        last = self.hours - 1
        scale, first = self._buckets
        if not scale:  # no volume at all in the window: nothing to cut into buckets
            return np.clip(np.searchsorted(self.running, total, side="right") - 1, 0, last)
        bucket = np.fmin(np.fmax(total * scale, 0.0), len(first) - 1).astype(np.int64)  # NaN: bucket 0
        hour = first[bucket]
        hour += (self.running[hour + 1] <= total) & (hour < last)
        # the hour is right when its start is at or below the total and the next start above it
        # (the first and last hours also take what lies before and after the window)
        right = ((hour == 0) | (self.running[hour] <= total)) & ((hour == last) | (total < self.running[hour + 1]))
        if not right.all():
            wrong = np.flatnonzero(~right)
            hour[wrong] = np.clip(np.searchsorted(self.running, total[wrong], side="right") - 1, 0, last)
        return hour

    def draw_between(self, low: np.ndarray, high: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Moments (hours since the window's start) in [low, high] in proportion to the
        intensity, for uniforms `u`; and where the interval had any intensity (else censored).

        >>> flat = HourlyIntensity.of(0, np.array([24.0, 24.0]), np.arange(1, 25) / 24)
        >>> moments, drawn = flat.draw_between(np.array([10.0, 47.5]), np.array([20.0, 48.0]), np.array([0.5, 0.5]))
        >>> moments.round(3).tolist(), drawn.tolist()
        ([15.0, 47.75], [True, True])
        """
        below, above = self.total_at(low), self.total_at(high)
        drawn = above > below
        target = below + u * (above - below)
        hour = self.hour_of(target)
        rate = self._rates[hour]
        within = np.divide(target - self.running[hour], rate, out=np.zeros_like(target), where=rate > 0)
        moments = np.clip(hour + np.clip(within, 0.0, 1.0), low, high)
        return moments, drawn

