"""Checks of `expect:` against the spec's tables: the tables and columns a named form reads
exist, an uplift counts days of a date or time column, and names are distinct (the report and
a CI log tell expectations apart by name). Whether the SQL itself runs is checked once the
plan knows every column's type (`fabula.validate.check_queries`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from fabula.errors import Issue, did_you_mean
from fabula.spec.columns import ConditionalColumn, DateColumn, TimestampColumn

if TYPE_CHECKING:
    from fabula.spec.model import DatasetSpec


def check_expectations(spec: "DatasetSpec", source) -> list[Issue]:
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    for index, expectation in enumerate(getattr(spec, "expect", ())):
        path = ("expect", index)
        if expectation.name in seen:
            issues.append(source.issue(
                "duplicate-name", (*path, "name"), f"expectation {index + 1} has the same name as expectation "
                f"{seen[expectation.name] + 1}", value=expectation.name,
                hint="give each expectation its own name: the report shows them by name"))
        seen.setdefault(expectation.name, index)
        issues.extend(_check_form(spec, expectation, path, source))
    return issues


def _check_form(spec: "DatasetSpec", expectation, path, source) -> Iterator[Issue]:
    for table, key in expectation.tables():
        if table not in spec.tables:
            yield source.issue("unknown-table", (*path, *key), f"no table named `{table}`", value=table,
                               hint=did_you_mean(table, spec.tables) or f"tables: {', '.join(spec.tables)}")
            return
    form = expectation.share or expectation.uplift
    if form is None:
        return
    column_key = "column" if expectation.share is not None else "time"
    name = getattr(form, column_key)
    columns = spec.tables[form.table].columns
    column = columns.get(name)
    where = (*path, expectation.form, column_key)
    if column is None:
        yield source.issue("unknown-column", where, f"`{form.table}` has no column `{name}`", value=name,
                           hint=did_you_mean(name, columns) or f"columns of {form.table}: {', '.join(columns)}")
    elif expectation.uplift is not None and not _is_time(column):
        times = [other for other, spec_ in columns.items() if _is_time(spec_)]
        yield source.issue("bad-value", where, f"an uplift counts rows per day, and `{name}` is not a date or timestamp",
                           value=name, hint=f"use one of: {', '.join(times)}" if times else
                           f"`{form.table}` has no date or timestamp column to count days by")


def _is_time(column) -> bool:
    branches = column.branches() if isinstance(column, ConditionalColumn) else [column]
    return all(isinstance(branch, (DateColumn, TimestampColumn)) for branch in branches)
