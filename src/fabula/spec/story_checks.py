"""Checks of the story across the spec: timelines and events named where they are used exist,
windows are in order, event effects land on tables and columns that can carry them."""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from datetime import date
from typing import TYPE_CHECKING

from fabula.errors import Issue, did_you_mean
from fabula.spec.columns import DateColumn, TimestampColumn
from fabula.spec.columns import column_branches as _branches
from fabula.spec.dates import resolve_bound
from fabula.spec.holidays_cache import holiday_countries, holiday_subdivisions
from fabula.spec.story import TimelineRows

if TYPE_CHECKING:
    from fabula.spec.model import DatasetSpec

_NOT_OVERRIDABLE = ("reference", "lookup", "aggregate", "id", "sequence", "uuid")
"""Kinds an event cannot redraw: keys and relations are facts of the row, not of its time."""


def check_story(spec: DatasetSpec, source, *, broken: AbstractSet[tuple[str, str]] = frozenset()) -> list[Issue]:
    """Problems of the story; events that cannot have any effect are added to `source.warnings`
    (when the source keeps warnings) rather than refusing the spec."""
    as_of = spec.as_of or date.today()  # only to compare bounds; the plan pins as_of for real
    issues: list[Issue] = []
    warnings = getattr(source, "warnings", None)
    if warnings is not None:
        warnings.extend(_idle_events(spec, as_of, source))
    for name, timeline in spec.timelines.items():
        if getattr(timeline, "mix", None) is not None:
            issues.extend(_check_mix(spec, name, timeline, source))
            continue
        issues.extend(_check_window(timeline, ("timelines", name), as_of, source, longest=MAX_TIMELINE_DAYS))
        if timeline.holidays is not None:
            issues.extend(_check_holidays(timeline.holidays, ("timelines", name, "holidays"), source))
    for name, event in spec.events.items():
        issues.extend(_check_window(event, ("events", name), as_of, source))
        issues.extend(_check_days(event, ("events", name), ("ramp_up", "decay"), source))
        for volume_table, effect in event.volume.items():
            issues.extend(_check_days(effect, ("events", name, "volume", volume_table), ("delay", "lasting"), source))
            found = list(_check_volume_table(spec, volume_table, ("events", name, "volume", volume_table),
                                             source, effect))
            # an unknown table is an error; a table off every timeline is only a volume with no effect
            issues.extend(issue for issue in found if issue.code != "idle-event")
            if warnings is not None:
                warnings.extend(issue for issue in found if issue.code == "idle-event")
    if spec.events_table is not None and spec.events_table in spec.tables:
        issues.append(source.issue("duplicate-table", ("events_table",),
                                   f"`{spec.events_table}` is already a table of the spec",
                                   hint="give the events table another name"))
    for table_name, table in spec.tables.items():
        path = ("tables", table_name)
        rows = getattr(table, "rows", None)
        if isinstance(rows, TimelineRows) and rows.timeline not in spec.timelines:
            issues.append(_unknown("timeline", rows.timeline, (*path, "rows", "timeline"), spec.timelines, source))
        for column_name, column in table.columns.items():
            column_path = (*path, "columns", column_name)
            for branch_path, branch in _branches(column, column_path):
                timeline_name = getattr(branch, "timeline", None)
                if timeline_name is not None and timeline_name not in spec.timelines:
                    issues.append(_unknown("timeline", timeline_name, (*branch_path, "timeline"),
                                           spec.timelines, source))
            issues.extend(_check_overrides(spec, table, column, column_path, source,
                                           broken={c for t, c in broken if t == table_name}))
    return issues


MAX_TIMELINE_DAYS = 100 * 366
"""A timeline covers at most a century: every day of it is computed (holidays, volume, noise)."""


def _check_window(window, path, as_of: date, source, *, longest: int | None = None) -> Iterator[Issue]:
    try:
        start, end = resolve_bound(window.start, as_of), resolve_bound(window.end, as_of)
    except ValueError as error:
        yield source.issue("bad-value", path, str(error), hint="dates run from 0001-01-01 to 9999-12-31")
        return
    if start > end:
        yield source.issue("inverted-dates", (*path, "start"), f"start {start} is after end {end}",
                           hint="swap `start` and `end`; relative bounds count from `as_of`, so -1y is before -6mo")
    elif longest is not None and (end - start).days + 1 > longest:
        yield source.issue("too-large", path, f"the timeline covers {(end - start).days + 1:,} days, "
                           f"more than {longest:,} (a century)", hint="shorten the window")


def _check_holidays(holidays, path, source) -> Iterator[Issue]:
    countries = holiday_countries()
    if holidays.country not in countries:
        yield source.issue("unknown-country", (*path, "country"), "the holidays package has no such country",
                           value=holidays.country,
                           hint=did_you_mean(holidays.country, countries) or "an ISO code such as US, GB, DE, FR")
        return
    subdivisions = holiday_subdivisions(holidays.country) if holidays.subdiv is not None else ()
    if holidays.subdiv is not None and holidays.subdiv not in subdivisions:
        yield source.issue("unknown-country", (*path, "subdiv"),
                           f"{holidays.country} has no subdivision of that name", value=holidays.subdiv,
                           hint=did_you_mean(holidays.subdiv, subdivisions)
                           or f"{holidays.country} has: {', '.join(subdivisions[:12])}")


def _check_mix(spec, name: str, timeline, source) -> Iterator[Issue]:
    for label, component in timeline.mix.items():
        found = spec.timelines.get(component)
        if found is None:
            yield _unknown("timeline", component, ("timelines", name, "mix", label), spec.timelines, source)
        elif getattr(found, "mix", None) is not None:
            yield source.issue("bad-value", ("timelines", name, "mix", label),
                               f"`{component}` is a mix itself; a mix adds up plain timelines",
                               hint="list the plain timelines of both mixes in one")


def _check_volume_table(spec, table_name: str, path, source, effect=None) -> Iterator[Issue]:
    if table_name in spec.timelines and table_name not in spec.tables:
        if effect is not None and effect.where:
            yield source.issue("bad-value", (*path, "where"), "`where` applies to a table, not a timeline",
                               hint="drop `where`, or name a table on a cadence")
        return  # an event on a timeline changes it for every table that uses it
    table = spec.tables.get(table_name)
    if table is None:
        yield _unknown("table", table_name, path, spec.tables, source)
        return
    from fabula.spec.sequences import check_scoped_volume  # volumes on a cadence, scoped volumes

    found = check_scoped_volume(spec, table_name, table, effect, path, source)
    if found is not None:
        yield from found
        return
    sized = isinstance(getattr(table, "rows", None), TimelineRows)
    drawn = any(getattr(branch, "timeline", None) for column in table.columns.values()
                for _, branch in _branches(column, ()))
    if not (sized or drawn):
        yield source.issue(
            "idle-event", path, f"`{table_name}` has no timeline, so this event does not change its volume",
            hint="size it with rows: {timeline: <name>}, or draw one of its timestamps with timeline: <name>")


def _check_days(model, path, keys, source) -> Iterator[Issue]:
    """Ramps, delays and durations in days: at most a century, like a timeline's window."""
    for key in keys:
        days = getattr(model, key, None)
        if isinstance(days, int) and days > MAX_TIMELINE_DAYS:
            yield source.issue("too-large", (*path, key),
                               f"{days:,} days is more than {MAX_TIMELINE_DAYS:,} (a century)",
                               value=days, hint="use a shorter span")


def _check_overrides(spec, table, column, path, source, *, broken=frozenset()) -> Iterator[Issue]:
    for override in column.during:
        entry = (*path, "during", override.event)
        yield from _check_days(override, entry, ("delay", "lasting"), source)
        if override.event not in spec.events:
            yield _unknown("event", override.event, entry, spec.events, source)
        if column.unique:
            yield source.issue("bad-value", entry, "a unique column cannot change during an event",
                               hint="drop `unique`, or move the change to another column")
        kinds = {branch.kind for _, branch in _branches(column, ())}
        blocked = sorted(kinds & set(_NOT_OVERRIDABLE))
        if blocked:
            yield source.issue("bad-value", entry, f"a {blocked[0]} column cannot change during an event",
                               hint="override a column drawn from a distribution or categories instead")
        if override.at is None and not broken:  # a broken column may be the one timeline column
            yield source.issue(
                "missing-parameter", (*entry, "at"), "which column places each row in time is ambiguous",
                hint="add `at: <date or timestamp column>` to the override, or give the table exactly one "
                     "column drawn from a timeline")
        elif override.at in table.columns and not _is_time(table.columns[override.at]):
            yield source.issue("wrong-type", (*entry, "at"),
                               f"`{override.at}` is not a date or timestamp column", value=override.at,
                               hint="name the column that says when the row happened")


def _idle_events(spec, as_of: date, source) -> Iterator[Issue]:
    """Events whose window lies entirely outside every timeline they could act through: they are
    accepted, and change nothing, which is worth saying."""
    windows = {}
    for name, timeline in spec.timelines.items():
        if getattr(timeline, "mix", None) is not None:
            continue  # a mixture's window is its components'
        try:
            windows[name] = (resolve_bound(timeline.start, as_of), resolve_bound(timeline.end, as_of))
        except ValueError:
            return  # reported as an error
    if not windows:
        return
    for name, event in spec.events.items():
        try:
            start, end = resolve_bound(event.start, as_of), resolve_bound(event.end, as_of)
        except ValueError:
            continue
        # in day numbers: ramps and delays reach beyond the window (and may pass the year 9999)
        reach_start = start.toordinal() - int(event.ramp_up or 0)
        reach_end = end.toordinal() + int(event.decay or 0) + _longest_delay(spec, name)
        if all(reach_end < first.toordinal() or reach_start > last.toordinal() for first, last in windows.values()):
            spans = ", ".join(f"{timeline} {first}..{last}" for timeline, (first, last) in windows.items())
            yield source.issue("idle-event", ("events", name),
                               f"the event ({start}..{end}) lies outside every timeline ({spans}), so it has no effect",
                               hint="move the event into a timeline's window (relative dates count from as_of)")


def _longest_delay(spec, event: str) -> int:
    longest = 0
    for table in spec.tables.values():
        for column in table.columns.values():
            for override in getattr(column, "during", ()):
                if override.event == event:
                    longest = max(longest, int(override.delay or 0) + int(override.lasting or 0))
    for effect in getattr(spec.events.get(event), "volume", {}).values():
        longest = max(longest, int(effect.delay or 0) + int(effect.lasting or 0))
    return min(longest, 10_000 * 366)


def _is_time(column) -> bool:
    from fabula.spec.sequences import CadenceColumn

    return all(isinstance(branch, (DateColumn, TimestampColumn, CadenceColumn)) for _, branch in _branches(column, ()))


def _unknown(what: str, name: str, path, known, source) -> Issue:
    return source.issue(f"unknown-{what}", path, f"no {what} named `{name}`",
                        hint=did_you_mean(name, list(known)) or
                        (f"{what}s: {', '.join(known)}" if known else f"declare it under `{what}s:`"))
