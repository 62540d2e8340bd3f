"""The whole story of a spec resolved for one plan: timelines, events, and the day-by-day row
counts of tables whose rows come from a timeline."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np

from fabula.spec.model import DatasetSpec
from fabula.spec.story import MixSpec, TimelineRows
from fabula.story.calendar import ResolvedTimeline, resolve_mix, resolve_timeline
from fabula.story.events import EventWindow, resolve_event
from fabula.streams import rng_for


@dataclass(frozen=True)
class Arrivals:
    """A table whose rows come from a timeline: rows of day d (0-based in the window) are
    `prefix[d]:prefix[d+1]`, in time order."""

    timeline: str
    first_day: int
    prefix: np.ndarray

    @property
    def rows(self) -> int:
        return int(self.prefix[-1])

    def counts(self) -> np.ndarray:
        return np.diff(self.prefix)

    def place(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For row numbers: the day index in the window, the row's rank within its day, and
        how many rows that day has."""
        day = np.searchsorted(self.prefix, rows, side="right") - 1
        rank = rows - self.prefix[day]
        return day, rank, self.prefix[day + 1] - self.prefix[day]


@dataclass(frozen=True)
class Story:
    timelines: dict[str, ResolvedTimeline] = field(default_factory=dict)
    events: dict[str, EventWindow] = field(default_factory=dict)
    volume_effects: dict[str, tuple[tuple[EventWindow, float], ...]] = field(default_factory=dict)
    """Per table: the (lagged) windows of events that multiply its volume, with their factors."""
    arrivals: dict[str, Arrivals] = field(default_factory=dict)
    scoped_effects: dict[str, tuple[tuple[EventWindow, float, str], ...]] = field(default_factory=dict)
    """Per table: volume effects on the rows matching a condition only (window, factor, `where`)."""

    def day_volume(self, timeline: str, table: str) -> np.ndarray:
        """A timeline's expected volume per day as `table` sees it: with the events that change
        that table's volume (strength taken at midday, so a ramp day counts partly)."""
        resolved = self.timelines[timeline]
        volume = resolved.volume.copy()
        middays = resolved.days() + 0.5
        for window, factor in self.volume_effects.get(table, ()):
            volume *= 1.0 + (factor - 1.0) * window.strength(middays)
        return volume


def resolve_story(spec: DatasetSpec, *, as_of: date, seed: int, scale: float) -> Story:
    events = {name: resolve_event(name, event, as_of) for name, event in spec.events.items()}
    timelines = {name: resolve_timeline(name, timeline, as_of, seed) for name, timeline in spec.timelines.items()
                 if getattr(timeline, "mix", None) is None}
    for name, event in spec.events.items():  # an event on a timeline changes it for every table on it
        for target, effect in event.volume.items():
            if target in timelines and target not in spec.tables:
                window, resolved = events[name].shifted(effect.delay, effect.lasting), timelines[target]
                volume = resolved.volume * (1.0 + (effect.factor - 1.0) * window.strength(resolved.days() + 0.5))
                timelines[target] = replace(resolved, volume=volume)
    for name, timeline in spec.timelines.items():
        if isinstance(timeline, MixSpec):
            timelines[name] = resolve_mix(name, timeline.mix, timelines)
    timelines = {name: timelines[name] for name in spec.timelines}  # in the spec's order
    effects: dict[str, list[tuple[EventWindow, float]]] = {}
    scoped: dict[str, list[tuple[EventWindow, float, str]]] = {}
    for name, event in spec.events.items():
        for table, effect in event.volume.items():
            if table in spec.timelines and table not in spec.tables:
                continue  # already in the timeline's own volume
            window = events[name].shifted(effect.delay, effect.lasting)
            if effect.where is None:
                effects.setdefault(table, []).append((window, effect.factor))
            else:
                scoped.setdefault(table, []).append((window, effect.factor, effect.where))
    story = Story(timelines, events, {table: tuple(found) for table, found in effects.items()},
                  scoped_effects={table: tuple(found) for table, found in scoped.items()})
    arrivals = {name: _arrivals(story, name, table.rows, seed, scale)
                for name, table in spec.tables.items() if isinstance(table.rows, TimelineRows)}
    return replace(story, arrivals=arrivals)


def _arrivals(story: Story, table: str, rows: TimelineRows, seed: int, scale: float) -> Arrivals:
    """Each day's row count: Poisson around the day's volume, or a fixed total spread over the
    days in proportion to it (multinomial); one named stream per table."""
    volume = story.day_volume(rows.timeline, table)
    rng = rng_for(seed, table, "#rows", "counts", 0)
    if rows.total is None:
        counts = rng.poisson(volume * scale)
    else:
        total = int(round(rows.total * scale))
        weights = volume.sum()
        if total and not weights > 0:
            raise ValueError(f"timeline `{rows.timeline}` has no volume on any day, so `{table}` cannot "
                             f"spread {total} rows over it")
        counts = rng.multinomial(total, volume / weights) if total else np.zeros(len(volume), dtype=np.int64)
    prefix = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return Arrivals(rows.timeline, story.timelines[rows.timeline].first_day, prefix)
