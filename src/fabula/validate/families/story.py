"""The story: timelines and events recovered from the data against what the spec declares.

Per block, a table whose rows or timestamps come from a timeline keeps its rows per day of the
window (and how many fell outside it); a column that changes during an event keeps its value
counts inside and outside the event's window (per case, for an override with `by:`). Both add up
exactly across blocks.

What the day counts are compared with is exact, not estimated: the plan knows each day's
expected volume — the seeded noise and the events included — so a day's count is Poisson around
it (or multinomial, for a fixed total or a timestamp drawn from the timeline's shape). A group of
days (a weekday, the holidays, a month, an event's window) is checked by the z-score of its
total against its expected total, within ±4 (about 6 in 100,000 for a correct timeline). Shares
during an event use the share tolerance of `tolerance.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from fabula.generators.base import TICKS_PER_DAY, Generator
from fabula.generators.conditional import ConditionalGenerator
from fabula.generators.laws import Shares
from fabula.generators.story import DuringGenerator
from fabula.story.events import EventWindow
from fabula.validate.evidence import Evidence
from fabula.validate.report import FAIL, PASS, SKIP, Check
from fabula.validate.statistics import Unreadable, case_index
from fabula.validate.tolerance import share_tolerance

FAMILY = "story"
Z_LIMIT = 4.0
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
EPOCH = date(1970, 1, 1)


# -- what is kept of each block -------------------------------------------------------------------


@dataclass(frozen=True)
class DailyCounts:
    """Rows per day of a timeline's window, by the column that places them in time."""

    table: str
    column: str
    timeline: str
    first_day: int
    n_days: int

    @property
    def key(self) -> str:
        return f"{FAMILY}:{self.table}.{self.column}:days"

    def observe(self, view) -> dict:
        times = view.batch.column(self.column)
        if isinstance(times, pa.ChunkedArray):
            times = times.combine_chunks()
        index = _day_numbers(times) - self.first_day
        if times.null_count:
            index = index[np.asarray(times.is_valid())]
        if len(index) and index.min() >= 0 and index.max() < self.n_days:  # the usual case: no mask
            return {"days": np.bincount(index, minlength=self.n_days).astype(np.int64), "outside": 0}
        inside = (index >= 0) & (index < self.n_days)
        return {"days": np.bincount(index[inside], minlength=self.n_days).astype(np.int64),
                "outside": int((~inside).sum())}


@dataclass(frozen=True)
class EventMix:
    """Value counts of a column inside and outside an event's window (ramps left out), per case
    of the override's `by` column when it has one."""

    table: str
    column: str
    at: str
    window: EventWindow
    by: str | None = None
    cases: tuple = ()

    @property
    def key(self) -> str:
        return f"{FAMILY}:{self.table}.{self.column}:during:{self.window.name}"

    def observe(self, view) -> dict:
        values = view.batch.column(self.column)
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        when = view.shared((FAMILY, "when", self.at, self.window), lambda: self._when(view))
        names, slot = [""], when
        if self.by is not None:
            by = view.column(self.by)
            if by is None:
                raise ValueError(f"cannot read `{self.by}` for this block")
            names = [str(key) for key in self.cases]
            slot = case_index(by, list(self.cases), uncovered=len(names)) * 3 + when
        counts, labels = _value_counts(values, slot, len(names) * 3)
        return {name: {"inside": _counted(labels, counts[3 * index]),
                       "outside": _counted(labels, counts[3 * index + 1])} for index, name in enumerate(names)}

    def _when(self, view) -> np.ndarray:
        """0 inside the window (full strength), 1 outside it, 2 on a ramp: once per block for
        every column that changes during this event."""
        days = _fractional_days(view.batch.column(self.at))
        window = self.window
        if not window.ramp_up and not window.decay:  # the strength is 1 inside, else 0 (NaN too)
            return ((days < window.first) | ~(days < window.last + 1)).view(np.int8)
        strength = window.strength(days)
        return np.where(strength >= 1.0, 0, np.where(strength <= 0.0, 1, 2)).astype(np.int8)


def _value_counts(values: pa.Array, slot: np.ndarray, slots: int) -> tuple[np.ndarray, list]:
    """Non-null values counted per slot (rows with a slot of `slots` or more are left out): one
    bincount of dictionary codes (or of small whole numbers, as they are), rather than a filter
    and a count per slot."""
    if pa.types.is_integer(values.type) and values.type != pa.uint64() and len(values):
        counted = _integer_counts(values, slot, slots)
        if counted is not None:
            return counted
    encoded = values if isinstance(values, pa.DictionaryArray) else values.dictionary_encode()
    labels = encoded.dictionary.to_pylist()
    codes = (encoded.indices.fill_null(0) if encoded.null_count else encoded.indices).to_numpy()
    return _slot_counts(slot, slots, codes, len(labels), encoded), labels


def _integer_counts(values: pa.Array, slot: np.ndarray, slots: int) -> tuple[np.ndarray, list] | None:
    """`_value_counts` of whole numbers within a small range (a score from 1 to 5), without
    hashing them; None for a wide range."""
    numbers = (values.fill_null(0) if values.null_count else values).to_numpy().astype(np.int64, copy=False)
    low, high = int(numbers.min()), int(numbers.max())
    if high - low >= 4096:
        return None
    width = high - low + 1
    return _slot_counts(slot, slots, numbers - low, width, values), list(range(low, high + 1))


def _slot_counts(slot: np.ndarray, slots: int, codes: np.ndarray, width: int, values: pa.Array) -> np.ndarray:
    """(slot, code) pairs counted for slots below `slots`: rows of a higher slot (no case, on a
    ramp) or a null value are counted too, in slots past the end that are then dropped, which
    costs less than leaving them out."""
    if values.null_count:
        slot = np.where(np.asarray(values.is_valid()), slot, slots)
    top = max(int(slot.max(initial=0)), slots - 1)
    counts = np.bincount(slot.astype(np.int64) * width + codes, minlength=(top + 1) * width)
    return counts.reshape(top + 1, width)[:slots]


def _counted(labels: list, counts: np.ndarray) -> dict[str, int]:
    """{value: count} of the values seen (a value listed twice in a dictionary: added up)."""
    found: dict[str, int] = {}
    for label, count in zip(labels, counts.tolist()):
        if count and label is not None:
            found[str(label)] = found.get(str(label), 0) + count
    return found


def _day_numbers(times: pa.Array) -> np.ndarray:
    """Whole days since the epoch (nulls: the smallest int64)."""
    if isinstance(times, pa.ChunkedArray):
        times = times.combine_chunks()
    if pa.types.is_date32(times.type):
        days = times.view(pa.int32()).fill_null(0).to_numpy().astype(np.int64)
    else:
        days = times.view(pa.int64()).fill_null(0).to_numpy() // TICKS_PER_DAY[times.type.unit]
    if times.null_count:
        days[~np.asarray(times.is_valid())] = np.iinfo(np.int64).min
    return days


def _fractional_days(times: pa.Array) -> np.ndarray:
    from fabula.generators.story import _days

    return _days(times.combine_chunks() if isinstance(times, pa.ChunkedArray) else times)


def statistics(plan) -> list[DailyCounts | EventMix]:
    found: list[DailyCounts | EventMix] = []
    for table in plan.tables:
        for column in table.outputs:
            generator = column.generator
            if getattr(generator, "intensity", None) is not None:
                pass  # drawn after another time in the timeline's shape: the sequences family checks it
            elif getattr(getattr(generator, "spec", None), "tz", None) is not None:
                pass  # on each row's local clock: the zones family counts its local days
            elif getattr(generator, "timeline", None) is not None:  # dates and times drawn from a timeline
                timeline = generator.timeline
                found.append(DailyCounts(table.name, column.name, timeline.name, timeline.first_day, timeline.n_days))
            if isinstance(generator, DuringGenerator):
                found.extend(_mixes(table.name, column.name, generator))
    return found


def _mixes(table: str, column: str, generator: DuringGenerator) -> list[EventMix]:
    mixes = []
    for override in generator.overrides:
        inner = override.generator
        if isinstance(inner, ConditionalGenerator) and not inner.spec.bins:
            cases = tuple(key for key, branch in inner.cases if branch.shares() is not None)
            if cases:
                mixes.append(EventMix(table, column, override.at, override.window, inner.spec.by, cases))
        elif inner.shares() is not None:  # a kind with declared levels and weights
            mixes.append(EventMix(table, column, override.at, override.window))
    return mixes


# -- checks -------------------------------------------------------------------------------------


def checks(evidence: Evidence) -> list[Check]:
    found: list[Check] = []
    for statistic in evidence.statistics:
        state = evidence.state(statistic)
        if isinstance(statistic, DailyCounts):
            found.extend(_timeline_checks(evidence, statistic, state))
        elif isinstance(statistic, EventMix):
            found.extend(_mix_checks(evidence, statistic, state))
    return found


def _unreadable(statistic, state) -> Check | None:
    if isinstance(state, Unreadable):
        return Check(FAMILY, f"{statistic.table}.{statistic.column}: readable", FAIL,
                     f"could not be read: {state.reason}", table=statistic.table, column=statistic.column)
    if state is None:
        return Check(FAMILY, f"{statistic.table}.{statistic.column}: story", SKIP, "no rows",
                     table=statistic.table, column=statistic.column)
    return None


def _timeline_checks(evidence: Evidence, statistic: DailyCounts, state) -> list[Check]:
    problem = _unreadable(statistic, state)
    if problem is not None:
        return [problem]
    plan, name = evidence.plan, statistic.table
    observed = state["days"].astype(np.float64)
    expected = _expected_days(plan, statistic, observed.sum())
    days = plan.story.timelines[statistic.timeline].days()
    spec = plan.spec.timelines[statistic.timeline]
    subject = f"{name}.{statistic.column}"
    windows = [(window, factor) for window, factor in plan.story.volume_effects.get(name, ())]
    found = [_inside_window(statistic, state, subject)]
    ordinary = np.ones(len(days), dtype=bool)
    for window, _ in windows:
        ordinary &= window.strength(days + 0.5) <= 0
    weekday = (days - 4) % 7  # 1970-01-01 was a Thursday: Monday = 0
    groups = {WEEKDAYS[day]: weekday == day for day in range(7)}
    found.append(_grouped(f"{subject}: weekday profile of timeline {statistic.timeline}", name, statistic.column,
                          observed, expected, groups, _weekday_message(observed, expected, weekday, ordinary),
                          details=_daily_details(statistic, observed, expected, windows)))
    if spec.holidays is not None:
        holidays = _holiday_days(spec, days)
        if holidays.any():
            found.append(_grouped(f"{subject}: holiday dip ({spec.holidays.country})", name, statistic.column,
                                  observed, expected, {"holidays": holidays},
                                  _ratio_message("a holiday", observed, holidays, ~holidays & ordinary,
                                                 expected, "other days")))
    if spec.seasonality is not None or spec.trend is not None:
        months = np.array([(EPOCH + timedelta(days=int(day))).strftime("%Y-%m") for day in days])
        groups = {month: months == month for month in dict.fromkeys(months)}
        found.append(_grouped(f"{subject}: monthly shape of timeline {statistic.timeline}", name, statistic.column,
                              observed, expected, groups, "rows per month against the seasonality and trend"))
    for window, factor in windows:
        core = window.strength(days + 0.5) >= 1.0
        if core.any():
            found.append(_grouped(f"{subject}: volume during {window.name} (×{factor:g})", name, statistic.column,
                                  observed, expected, {window.name: core},
                                  _ratio_message(f"during {window.name}", observed, core, ordinary, expected,
                                                 "outside every event", spike=True)))
    return found


def _expected_days(plan, statistic: DailyCounts, observed_total: float) -> np.ndarray:
    """Expected rows per day: the timeline's volume as this table sees it, times --scale for a
    table it sizes; spread over the observed total for a fixed total or a drawn timestamp."""
    volume = plan.story.day_volume(statistic.timeline, statistic.table)
    arrivals = plan.story.arrivals.get(statistic.table)
    sized = arrivals is not None and arrivals.timeline == statistic.timeline
    if sized and plan.spec.tables[statistic.table].rows.total is None:
        return volume * plan.scale
    return volume / volume.sum() * observed_total if volume.sum() > 0 else volume


def _grouped(name, table, column, observed, expected, groups, message, *, details=None) -> Check:
    """Each group of days' total against its expected total: the largest |z| must be within 4."""
    worst, worst_group = 0.0, None
    for group, mask in groups.items():
        want = float(expected[mask].sum())
        got = float(observed[mask].sum())
        z = (got - want) / np.sqrt(want) if want > 0 else (np.inf if got else 0.0)
        if abs(z) > abs(worst):
            worst, worst_group = z, group
    verdict = PASS if abs(worst) <= Z_LIMIT else FAIL
    if verdict == FAIL:
        message = f"{message}; {worst_group} is {worst:+.1f} standard errors off what the timeline declares"
    return Check(FAMILY, name, verdict, message, expected=0.0, observed=round(float(worst), 2), tolerance=Z_LIMIT,
                 table=table, column=column, details=details or {})


def _weekday_message(observed, expected, weekday, ordinary) -> str:
    weekend, weekdays = ordinary & (weekday >= 5), ordinary & (weekday < 5)
    if not weekend.any() or not weekdays.any():
        return "rows per day of the week as declared"
    seen = observed[weekend].mean() / max(observed[weekdays].mean(), 1e-12)
    want = expected[weekend].mean() / max(expected[weekdays].mean(), 1e-12)
    return (f"{observed[weekdays].mean():,.1f}/weekday, {observed[weekend].mean():,.1f}/weekend day: "
            f"weekend ×{seen:.2f} (declared ×{want:.2f})")


def _ratio_message(label, observed, inside, outside, expected, other, *, spike=False) -> str:
    if not outside.any():
        return f"{observed[inside].mean():,.1f} rows/day {label}"
    seen = observed[inside].mean() / max(observed[outside].mean(), 1e-12)
    want = expected[inside].mean() / max(expected[outside].mean(), 1e-12)
    words = "spike" if spike else "ratio"
    return (f"{observed[outside].mean():,.1f}/day {other}, {observed[inside].mean():,.1f}/day {label}: "
            f"{words} ×{seen:.2f} (expected ×{want:.2f})")


def _inside_window(statistic: DailyCounts, state, subject: str) -> Check:
    outside = state["outside"]
    return Check(FAMILY, f"{subject}: inside the window of {statistic.timeline}", PASS if outside == 0 else FAIL,
                 "every value inside the timeline's window" if outside == 0 else
                 f"{outside:,} values outside the timeline's window", expected=0, observed=outside, tolerance=0,
                 table=statistic.table, column=statistic.column)


def _holiday_days(spec, days: np.ndarray) -> np.ndarray:
    from fabula.story.calendar import holiday_mask

    return holiday_mask(spec, [EPOCH + timedelta(days=int(day)) for day in days])


def _daily_details(statistic: DailyCounts, observed, expected, windows) -> dict:
    return {"plot": "daily", "first_day": (EPOCH + timedelta(days=statistic.first_day)).isoformat(),
            "observed": observed.astype(int).tolist(), "expected": np.round(expected, 3).tolist(),
            "windows": [[window.first - statistic.first_day, window.last - statistic.first_day, window.name]
                        for window, _ in windows]}


def _declared_shares(override: Generator, group: str) -> Shares:
    """The levels and weights an event's override declares for the rows of case `group` (all its
    rows for ''): `_mixes` makes a mix only of overrides, or their cases, that declare them."""
    inner = override
    if group:
        assert isinstance(override, ConditionalGenerator), "a mix per case is made only of a conditional override"
        inner = dict((str(k), g) for k, g in override.cases)[group]
    shares = inner.shares()
    assert shares is not None, "a mix is made only of what declares levels and weights"
    return shares


def _mix_checks(evidence: Evidence, statistic: EventMix, state) -> list[Check]:
    problem = _unreadable(statistic, state)
    if problem is not None:
        return [problem]
    during = next(column.generator for column in evidence.plan.table(statistic.table).outputs
                  if column.name == statistic.column)
    assert isinstance(during, DuringGenerator), "event mixes are made only for columns with `during:` (_mixes)"
    override = next(o.generator for o in during.overrides if o.window == statistic.window and o.at == statistic.at)
    found = []
    for group, counts in state.items():
        shares = _declared_shares(override, group)
        declared = {str(level): weight for level, weight in zip(shares.levels, shares.weights)}
        inside, outside = counts["inside"], counts["outside"]
        n_in, n_out = sum(inside.values()), sum(outside.values())
        subject = f"{statistic.table}.{statistic.column}" + (f" ({statistic.by} = {group})" if group else "")
        name = f"{subject}: mix during {statistic.window.name}"
        if not n_in:
            found.append(Check(FAMILY, name, SKIP, "no rows inside the window", table=statistic.table,
                               column=statistic.column))
            continue
        worst, verdict = 0.0, PASS
        for value, share in declared.items():
            gap = abs(inside.get(value, 0) / n_in - share)
            if gap > share_tolerance(share, n_in):
                verdict = FAIL
            worst = max(worst, gap)
        shown = ", ".join(f"{value} {inside.get(value, 0) / n_in:.0%} (declared {share:.0%}"
                          + (f", {outside.get(value, 0) / n_out:.0%} outside)" if n_out else ")")
                          for value, share in declared.items())
        found.append(Check(FAMILY, name, verdict, f"{n_in:,} rows inside: {shown}", expected=declared,
                           observed={value: inside.get(value, 0) / n_in for value in declared},
                           tolerance=round(max(share_tolerance(share, n_in) for share in declared.values()), 4),
                           table=statistic.table, column=statistic.column,
                           details={"plot": "shares", "levels": list(declared),
                                    "observed": [inside.get(value, 0) / n_in for value in declared],
                                    "expected": list(declared.values())}))
    return found
