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

import numpy as np


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

    def total_at(self, hours: np.ndarray) -> np.ndarray:
        """The running total at moments given in hours since the window's start (clamped to it)."""
        hours = np.clip(hours, 0.0, float(self.hours))
        whole = np.minimum(np.floor(hours).astype(np.int64), self.hours - 1)
        rate = self.running[whole + 1] - self.running[whole]
        return self.running[whole] + (hours - whole) * rate

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
        hour = np.clip(np.searchsorted(self.running, target, side="right") - 1, 0, self.hours - 1)
        rate = self.running[hour + 1] - self.running[hour]
        within = np.divide(target - self.running[hour], rate, out=np.zeros_like(target), where=rate > 0)
        moments = np.clip(hour + np.clip(within, 0.0, 1.0), low, high)
        return moments, drawn
