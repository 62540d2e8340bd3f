"""Time zones: a timestamp with `tz:` follows its timeline on each row's local clock, so its facts
are checked there, whatever it stores (UTC instants or local times):

- its rows per local day: the story family's timeline checks (weekdays, holidays, events, the
  window) run on `LocalDailyCounts`, the same statistic read on the local calendar;
- its intraday profile: the rows per local hour against the timeline's profile (days on which
  the clock changes are left out: a skipped hour's rows show an hour later);
- a time censored at `as_of` never falls after the end of `as_of` on its own clock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from fabula.generators.base import TICKS_PER_DAY
from fabula.validate.families.story import Z_LIMIT, DailyCounts
from fabula.validate.report import FAIL, PASS, SKIP, Check, Where
from fabula.validate.statistics import Unreadable

FAMILY = "zones"


def local_ticks(view, column: str, tz: str, stored_local: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A timestamp column on its rows' local clocks: its ticks, which rows are known, and
    whether each row's local day is one on which its clock changes."""
    from fabula.spec.zones import is_zone_name
    from fabula.story.zones import local_seconds, split_ticks, zone_codes

    values = view.batch.column(column)
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    known = np.asarray(values.is_valid()) if values.null_count else np.ones(len(values), dtype=bool)
    ticks = values.view(pa.int64()).fill_null(0).to_numpy()
    per_second = TICKS_PER_DAY[values.type.unit] // 86_400
    zones = None if is_zone_name(tz) else view.column(tz)
    if zones is None and not is_zone_name(tz):
        raise ValueError(f"cannot read the zones in `{tz}`")
    codes, names = zone_codes(zones, tz, len(values))
    seconds, rest = split_ticks(ticks, per_second)
    if stored_local:
        wall = seconds
        utc = _utc_guess(seconds, codes, names)
    else:
        wall, utc = local_seconds(seconds, codes, names), seconds
    return wall * per_second + rest, known, _transition_days(wall, utc, codes, names)


def _utc_guess(wall: np.ndarray, codes: np.ndarray, names: list[str]) -> np.ndarray:
    from fabula.story.zones import utc_seconds

    return utc_seconds(wall, codes, names)


def _transition_days(wall: np.ndarray, utc: np.ndarray, codes: np.ndarray, names: list[str]) -> np.ndarray:
    """Whether the clock changes on each row's local day: its offset at the day's two midnights differ."""
    from fabula.story.zones import local_seconds

    offset = wall - utc
    midnight = np.floor_divide(wall, 86_400) * 86_400 - offset
    before = local_seconds(midnight, codes, names) - midnight
    after = local_seconds(midnight + 86_400, codes, names) - (midnight + 86_400)
    return before != after


@dataclass(frozen=True)
class LocalDailyCounts(DailyCounts):
    """Rows per day of a timeline's window, counted on each row's local calendar."""

    tz: str = ""
    stored_local: bool = False

    def observe(self, view) -> dict:
        ticks, known, _ = local_ticks(view, self.column, self.tz, self.stored_local)
        per_day = TICKS_PER_DAY[view.batch.column(self.column).type.unit]
        index = np.floor_divide(ticks[known], per_day) - self.first_day
        inside = (index >= 0) & (index < self.n_days)
        return {"days": np.bincount(index[inside], minlength=self.n_days).astype(np.int64),
                "outside": int((~inside).sum())}


@dataclass(frozen=True)
class LocalHours:
    """Rows per local hour (per local day and hour for a mix, whose profile changes by day),
    leaving out days on which the row's clock changes."""

    table: str
    column: str
    timeline: str
    tz: str
    stored_local: bool
    first_day: int
    n_days: int
    by_day: bool

    @property
    def key(self) -> str:
        return f"{FAMILY}:{self.table}.{self.column}:hours"

    def observe(self, view) -> dict:
        ticks, known, transition = local_ticks(view, self.column, self.tz, self.stored_local)
        per_hour = TICKS_PER_DAY[view.batch.column(self.column).type.unit] // 24
        hours = np.floor_divide(ticks, per_hour)
        day, hour = np.floor_divide(hours, 24) - self.first_day, hours % 24
        kept = known & ~transition & (day >= 0) & (day < self.n_days)
        if self.by_day:
            cells = day[kept] * 24 + hour[kept]
            return {"cells": np.bincount(cells, minlength=self.n_days * 24).astype(np.int64)}
        return {"cells": np.bincount(hour[kept], minlength=24).astype(np.int64)}


@dataclass(frozen=True)
class LocalEnd:
    """Rows whose local time falls on or after `end` (the first local tick after `as_of`)."""

    table: str
    column: str
    tz: str
    stored_local: bool
    end: int

    @property
    def key(self) -> str:
        return f"{FAMILY}:{self.table}.{self.column}:as_of"

    def observe(self, view) -> dict:
        ticks, known, _ = local_ticks(view, self.column, self.tz, self.stored_local)
        return {"n": int(known.sum()), "bad": int((known & (ticks >= self.end)).sum())}


def statistics(plan) -> list[LocalDailyCounts | LocalHours | LocalEnd]:
    from fabula.generators.temporal import TimestampGenerator

    found: list[LocalDailyCounts | LocalHours | LocalEnd] = []
    for table in plan.tables:
        for column in table.outputs:
            generator = column.generator  # not under `when:`, whose nulls the timeline does not declare
            tz = getattr(generator.spec, "tz", None)
            if not isinstance(generator, TimestampGenerator) or tz is None:
                continue
            local = generator.spec.store == "local"
            timeline = generator.timeline
            assert timeline is not None, "`tz` reads a timeline's calendar: the spec refuses it without `timeline`"
            if generator.intensity is None:
                found.append(LocalDailyCounts(table.name, column.name, timeline.name, timeline.first_day,
                                              timeline.n_days, tz=tz, stored_local=local))
                found.append(LocalHours(table.name, column.name, timeline.name, tz, local, timeline.first_day,
                                        timeline.n_days, by_day=timeline.day_hourly is not None))
            elif generator.censor_at is not None:
                found.append(LocalEnd(table.name, column.name, tz, local, generator.censor_at))
    return found


def checks(evidence) -> list[Check]:
    found = []
    for statistic in evidence.statistics:
        if isinstance(statistic, LocalHours):
            found.append(_hours_check(evidence, statistic, evidence.state(statistic)))
        elif isinstance(statistic, LocalEnd):
            found.append(_end_check(statistic, evidence.state(statistic)))
    return found


def _hours_check(evidence, statistic: LocalHours, state) -> Check:
    name = (f"{statistic.table}.{statistic.column}: intraday profile of {statistic.timeline} "
            f"in local time ({statistic.tz})")
    where: Where = {"table": statistic.table, "column": statistic.column}
    if isinstance(state, Unreadable):
        return Check(FAMILY, name, FAIL, f"could not be read: {state.reason}", **where)
    if state is None or not state["cells"].sum():
        return Check(FAMILY, name, SKIP, "no rows", **where)
    shares = np.diff(np.atleast_2d(evidence.plan.story.timelines[statistic.timeline].cumulative_hours()),
                     axis=1, prepend=0.0)
    cells = state["cells"].astype(np.float64)
    if statistic.by_day:
        per_day = cells.reshape(statistic.n_days, 24)
        observed, expected = per_day.sum(axis=0), (per_day.sum(axis=1)[:, None] * shares).sum(axis=0)
    else:
        observed, expected = cells, cells.sum() * shares[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(expected > 0, (observed - expected) / np.sqrt(expected), np.where(observed > 0, np.inf, 0.0))
    worst = int(np.argmax(np.abs(z)))
    verdict = PASS if abs(z[worst]) <= Z_LIMIT else FAIL
    peak = int(np.argmax(observed))
    message = (f"{int(observed.sum()):,} rows on their local clocks; busiest local hour {peak:02d}:00 "
               f"(declared {int(np.argmax(expected)):02d}:00)")
    if verdict == FAIL:
        message += f"; {worst:02d}:00 is {z[worst]:+.1f} standard errors off the declared profile"
    return Check(FAMILY, name, verdict, message, expected=0.0, observed=round(float(z[worst]), 2), tolerance=Z_LIMIT,
                 details={"plot": "shares", "levels": [f"{hour:02d}" for hour in range(24)],
                          "observed": (observed / observed.sum()).tolist(),
                          "expected": (expected / max(expected.sum(), 1e-12)).tolist()}, **where)


def _end_check(statistic: LocalEnd, state) -> Check:
    name = f"{statistic.table}.{statistic.column}: never after the data's end (as_of) in local time"
    where: Where = {"table": statistic.table, "column": statistic.column}
    if isinstance(state, Unreadable):
        return Check(FAMILY, name, FAIL, f"could not be read: {state.reason}", **where)
    if state is None or not state["n"]:
        return Check(FAMILY, name, SKIP, "no rows to check", **where)
    bad = state["bad"]
    return Check(FAMILY, name, PASS if not bad else FAIL,
                 f"{state['n']:,} rows checked" + (f", {bad:,} past as_of" if bad else ", none past as_of"),
                 expected=0, observed=bad, tolerance=0, **where)
