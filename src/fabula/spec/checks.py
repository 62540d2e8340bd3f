"""Checks across columns of a parsed spec: references, cycles, cases, modifiers, dates, Faker.

Run by the loader on whatever parsed, so one broken column never hides other problems.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from datetime import date
from typing import TYPE_CHECKING

from fabula.errors import Issue, did_you_mean
from fabula.spec.bounds import MAX_NAME_LENGTH, check_name, check_size
from fabula.spec.columns import (
    AnyColumn,
    BooleanColumn,
    CategoricalColumn,
    ColumnSpec,
    ConditionalColumn,
    DateColumn,
    FakerColumn,
    TimestampColumn,
    column_branches,
)
from fabula.spec.dates import resolve_bound
from fabula.spec.expectation_checks import check_expectations
from fabula.spec.faker_facts import faker_locales, faker_providers
from fabula.spec.graph import topological_order
from fabula.spec.relation_checks import check_relations
from fabula.spec.story_checks import check_story
from fabula.spec.zones import check_zones

if TYPE_CHECKING:
    from fabula.spec.load import SourceMap
    from fabula.spec.model import DatasetSpec, TableSpec

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_dataset(spec: DatasetSpec, *, source: SourceMap, broken: set[tuple[str, str]],
                  broken_tables: AbstractSet[str] = frozenset()) -> list[Issue]:
    """Checks across columns and tables. `broken` columns and `broken_tables` failed to parse and
    have their own issues: what refers to them is not also told they do not exist."""
    issues: list[Issue] = []
    as_of = spec.as_of or date.today()  # only to compare bounds; the plan pins as_of for real
    issues.extend(check_size(spec, source))
    issues.extend(_check_story_names(spec, source))
    for table_name, table in spec.tables.items():
        path = ("tables", table_name)
        if not _NAME.match(table_name):
            unsafe = check_name(table_name, "table")
            issues.append(source.issue("bad-name", path, unsafe[0] if unsafe else
                                       f"table name `{table_name}` is not a plain identifier",
                                       hint="use letters, digits and _ (it becomes a folder and a SQL name)"))
        elif len(table_name) > MAX_NAME_LENGTH:
            issues.append(source.issue("bad-name", path, (check_name(table_name, "table") or ("",))[0],
                                       hint="use a shorter name (it becomes a folder and a SQL name)"))
        known = set(table.columns) | {column for table_, column in broken if table_ == table_name}
        for column_name, column in table.columns.items():
            column_path = (*path, "columns", column_name)
            if not _NAME.match(column_name) or len(column_name) > MAX_NAME_LENGTH:
                unsafe = check_name(column_name, "column")
                issues.append(source.issue(
                    "bad-name", column_path, unsafe[0] if unsafe else
                    f"column name `{column_name}` is not a plain identifier",
                    hint="use letters, digits and _ so expressions and SQL can name it"))
            issues.extend(_check_references(column, column_path, known, source))
            issues.extend(_check_cases(column, column_path, table, source, spec.tables))
            for override in column.during:  # rows an override's cases leave out keep the column's rule
                issues.extend(_check_cases(override.column, (*column_path, "during", override.event), table,
                                           source, spec.tables, every_value=False))
            for branch_path, branch in _branches(column, column_path):
                issues.extend(_check_finite(branch, branch_path, source))
                issues.extend(_check_modifiers(branch, branch_path, source))
                issues.extend(_check_dates(branch, branch_path, as_of, source))
                issues.extend(_check_faker(branch, branch_path, source))
            if isinstance(column, ConditionalColumn):
                issues.extend(_check_modifiers(column, column_path, source))
        order = topological_order({name: column.depends_on() for name, column in table.columns.items()})
        if order and isinstance(order[0], list):
            for cycle in order:
                if len(cycle) == 2:
                    continue  # a column reading itself: _check_references already said so
                issues.append(source.issue(
                    "cycle", (*path, "columns", cycle[0]),
                    f"columns depend on each other in a cycle: {' -> '.join(cycle)}",
                    hint="one of them must be drawn without reading the others",
                ))
    issues.extend(check_relations(spec, source, broken=broken, broken_tables=broken_tables))
    issues.extend(check_story(spec, source, broken=broken))
    issues.extend(check_zones(spec, source))
    issues.extend(check_expectations(spec, source))
    return issues


def _check_story_names(spec: DatasetSpec, source) -> Iterator[Issue]:
    """Timeline and event names are shown and written as values; the events table is a folder."""
    for key, what in (("timelines", "timeline"), ("events", "event")):
        for name in getattr(spec, key, {}) or {}:
            unsafe = check_name(name, what)
            if unsafe:
                yield source.issue("bad-name", (key, name), unsafe[0], hint=unsafe[1])
    name = getattr(spec, "events_table", None)
    if name is not None and (not _NAME.match(name) or len(name) > MAX_NAME_LENGTH):
        unsafe = check_name(name, "events table")
        yield source.issue("bad-name", ("events_table",),
                           unsafe[0] if unsafe else f"the events table name `{name}` is not a plain identifier",
                           hint="use letters, digits and _ (it becomes a folder and a SQL name)")


def column_order(table: TableSpec) -> list[str]:
    """The order to compute a table's columns in (dependencies first); the spec is checked."""
    order = topological_order({name: column.depends_on() for name, column in table.columns.items()})
    assert not order or isinstance(order[0], str), "cycles are rejected when the spec loads"
    return order  # type: ignore[return-value]


def _branches(column: AnyColumn, path) -> Iterator[tuple[tuple, ColumnSpec]]:
    """Every column spec inside a column: its cases, and the cases of its event overrides."""
    yield from column_branches(column, path)
    for override in column.during:
        yield from column_branches(override.column, (*path, "during", override.event))


def _check_references(column: AnyColumn, path, known: set[str], source) -> Iterator[Issue]:
    name = path[-1]
    # `fk.column` reads are checked with the relations (the reference and the parent's column)
    for ref in sorted(ref for ref in column.refs() if "." not in ref):
        if ref == name:
            yield source.issue("cycle", path, f"column `{name}` reads itself",
                               hint="a column cannot depend on its own value")
        elif ref not in known:
            where, value = _reference_key(column, path, ref)
            yield source.issue(
                "unknown-column", where, f"refers to column `{ref}`, which this table does not have",
                hint=did_you_mean(ref, known) or f"columns here: {', '.join(sorted(known))}",
                **({} if value is None else {"value": value}),
            )


_REFERENCE_KEYS = {"expression": "expr", "template": "template", "python": "depends"}


def _reference_key(column: AnyColumn, path, ref: str) -> tuple[tuple, object]:
    """The key that names `ref` (`by`, `expr`, `template`) and what is written there."""
    if isinstance(column, ConditionalColumn):
        if ref == column.by:
            return (*path, "by"), column.by
        for branch_path, branch in _branches(column, path):
            if ref in branch.depends_on():
                return _reference_key(branch, branch_path, ref)
        return path, None
    key = _REFERENCE_KEYS.get(column.kind)
    return ((*path, key), getattr(column, key)) if key else (path, None)


def _check_cases(column: AnyColumn, path, table: TableSpec, source, tables=None, *,
                 every_value: bool = True) -> Iterator[Issue]:
    """Case keys must be values the `by` column can take, and every value needs a case."""
    if not isinstance(column, ConditionalColumn):
        return
    if column.bins:
        labels = column.bin_labels()
        for key, _ in column.cases:
            if str(key) not in labels:
                yield source.issue("unknown-case", (*path, "cases", key),
                                   f"{key!r} is not one of the bins of `{column.by}`",
                                   hint=did_you_mean(str(key), labels)
                                   or f"bins {list(column.bins)} make the cases: {', '.join(labels)}")
        missing = [level for level in labels if level not in {str(key) for key, _ in column.cases}]
        if missing and column.default is None and every_value:  # else those rows would silently be null
            yield source.issue("missing-case", (*path, "cases"),
                               f"no case for {', '.join(map(repr, missing))} of `{column.by}`",
                               hint="add those cases, or a `default:` for every value not listed")
        return
    by = table.columns.get(column.by)
    if "." in column.by:  # read through a reference: the parent's column decides the values
        reference, parent_column = column.by.split(".", 1)
        target = getattr(table.columns.get(reference), "to", None)
        parent = tables.get(target.split(".")[0]) if target else None
        by = parent.columns.get(parent_column) if parent is not None else None
    levels = _levels(by)
    if levels is None:
        return
    keys = [key for key, _ in column.cases]
    for key in keys:
        if key not in levels:
            yield source.issue(
                "unknown-case", (*path, "cases", key),
                f"`{column.by}` never takes the value {key!r}",
                hint=did_you_mean(str(key), [str(level) for level in levels])
                or f"`{column.by}` takes: {', '.join(map(str, levels))}",
            )
    missing = [level for level in levels if level not in keys]
    if missing and column.default is None and every_value:
        yield source.issue(
            "missing-case", (*path, "cases"),
            f"no case for {', '.join(map(repr, missing))} of `{column.by}`",
            hint="add those cases, or a `default:` for every value not listed",
        )


def _levels(column: AnyColumn | None) -> list | None:
    if isinstance(column, CategoricalColumn):
        return list(column.values)
    if isinstance(column, BooleanColumn):
        return [True, False]
    if isinstance(column, ConditionalColumn) and all(
            isinstance(branch, CategoricalColumn) for branch in column.branches()):
        return list(dict.fromkeys(value for branch in column.branches()
                                  for value in branch.values))  # type: ignore[attr-defined]  # all categorical, above
    return None


def _check_modifiers(column: AnyColumn, path, source) -> Iterator[Issue]:
    if column.round is not None and not column.is_numeric():
        yield source.issue("bad-modifier", (*path, "round"),
                           f"`round` applies to numbers, and a {column.kind} column is not numeric",
                           hint="remove `round`, or round inside an expression")
    clip = column.clip
    if clip is None:
        return
    branches = column.branches() if isinstance(column, ConditionalColumn) else [column]
    is_date = all(isinstance(branch, (DateColumn, TimestampColumn)) for branch in branches)
    for side in ("min", "max"):
        bound = getattr(clip, side)
        if bound is None:
            continue
        if is_date and not isinstance(bound, date):
            yield source.issue("bad-modifier", (*path, "clip", side), "clip bounds of a date column must be dates",
                               value=bound, hint="e.g. clip: {min: 2024-01-01}")
        elif not is_date and not column.is_numeric():
            yield source.issue("bad-modifier", (*path, "clip"),
                               f"`clip` applies to numbers and dates, and a {column.kind} column is neither",
                               hint="remove `clip`")
            return
        elif not is_date and isinstance(bound, date):
            yield source.issue("bad-modifier", (*path, "clip", side), "clip bounds of a numeric column must be numbers",
                               value=bound.isoformat(), hint="e.g. clip: {min: 0}")


def _check_dates(column: ColumnSpec, path, as_of: date, source) -> Iterator[Issue]:
    if not isinstance(column, (DateColumn, TimestampColumn)) or column.timeline is not None:
        return
    try:
        assert column.start is not None and column.end is not None  # the spec requires both without a timeline
        start, end = resolve_bound(column.start, as_of), resolve_bound(column.end, as_of)
    except ValueError as error:
        yield source.issue("bad-value", path, str(error), hint="dates run from 0001-01-01 to 9999-12-31")
        return
    if start > end:
        relative = any(isinstance(bound, str) for bound in (column.start, column.end))
        def shown(bound, day):  # a relative bound also shows the date it means
            return f"{bound} ({day})" if isinstance(bound, str) else str(day)
        yield source.issue(
            "inverted-dates", (*path, "start"),
            f"start {shown(column.start, start)} is after end {shown(column.end, end)}"
            + (f" with as_of {as_of}" if relative else ""),
            hint="swap `start` and `end`"
            + ("; relative bounds count from `as_of`, so -1y is before -6mo" if relative else ""),
        )


def _check_finite(column: ColumnSpec, path, source) -> Iterator[Issue]:
    """YAML reads `.inf` and `.nan` as numbers; no parameter or weight works with them."""
    for name in type(column).model_fields:
        value = getattr(column, name)
        if isinstance(value, float) and not math.isfinite(value):
            yield source.issue("bad-value", (*path, name), f"`{name}` must be a finite number",
                               value=value, hint="write an ordinary number; .inf and .nan are not usable here")
    if isinstance(column, CategoricalColumn):
        for key, weight in column.values.items():
            if not math.isfinite(weight):
                yield source.issue("bad-value", (*path, "values", key),
                                   f"the weight of {key!r} must be a finite number",
                                   value=weight, hint="weights are relative: e.g. {a: 60, b: 30, c: 10}")
    clip = column.clip
    for side in ("min", "max"):
        bound = getattr(clip, side, None)
        if isinstance(bound, float) and not math.isfinite(bound):
            yield source.issue("bad-value", (*path, "clip", side), "clip bounds must be finite numbers",
                               value=bound, hint=f"leave `{side}` out for no bound on that side")


def _check_faker(column: ColumnSpec, path, source) -> Iterator[Issue]:
    if not isinstance(column, FakerColumn):
        return
    locales = faker_locales()
    if column.locale not in locales:
        yield source.issue("unknown-locale", (*path, "locale"), "Faker has no such locale",
                           value=column.locale, hint=did_you_mean(column.locale, locales) or "e.g. en_US, de_DE, fr_FR")
        return
    providers = faker_providers(column.locale)
    if column.provider not in providers:
        yield source.issue("unknown-provider", (*path, "provider"),
                           f"Faker ({column.locale}) has no provider method of that name",
                           value=column.provider,
                           hint=did_you_mean(column.provider, providers) or "e.g. name, company, city, phone_number")


