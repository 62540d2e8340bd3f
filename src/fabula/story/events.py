"""Event windows in day units, and how strongly an event acts at a moment (0..1, with ramps)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from fabula.spec.dates import resolve_bound
from fabula.spec.story import EventSpec

EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class EventWindow:
    """Days since 1970-01-01: the effect is full from `first` to `last` (inclusive), builds up
    linearly over `ramp_up` days before and fades over `decay` days after."""

    name: str
    first: int
    last: int
    ramp_up: int = 0
    decay: int = 0

    def shifted(self, delay: int = 0, lasting: int | None = None) -> EventWindow:
        """The window of a lagged effect: `delay` days after the start, for `lasting` days."""
        first = self.first + delay
        last = first + lasting - 1 if lasting else self.last + delay
        return replace(self, first=first, last=last)

    def strength(self, days: np.ndarray) -> np.ndarray:
        """The effect's strength at moments given in (fractional) days since the epoch.

        >>> w = EventWindow("x", first=10, last=11, ramp_up=2, decay=4)
        >>> w.strength(np.array([7.5, 9.0, 10.5, 11.9, 12.0, 14.0, 16.0])).tolist()
        [0.0, 0.5, 1.0, 1.0, 1.0, 0.5, 0.0]
        """
        days = np.asarray(days, dtype=np.float64)
        start, stop = float(self.first), float(self.last + 1)
        strength = ((days >= start) & (days < stop)).astype(np.float64)
        if self.ramp_up:
            rising = (days >= start - self.ramp_up) & (days < start)
            strength[rising] = (days[rising] - (start - self.ramp_up)) / self.ramp_up
        if self.decay:
            fading = (days >= stop) & (days < stop + self.decay)
            strength[fading] = 1.0 - (days[fading] - stop) / self.decay
        return strength

    @property
    def start_date(self) -> date:
        return date.fromordinal(EPOCH_ORDINAL + self.first)

    @property
    def end_date(self) -> date:
        return date.fromordinal(EPOCH_ORDINAL + self.last)


def resolve_event(name: str, event: EventSpec, as_of: date) -> EventWindow:
    first = resolve_bound(event.start, as_of).toordinal() - EPOCH_ORDINAL
    last = resolve_bound(event.end, as_of).toordinal() - EPOCH_ORDINAL
    return EventWindow(name, first, last, event.ramp_up, event.decay)
