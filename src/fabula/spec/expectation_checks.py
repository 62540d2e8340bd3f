"""Checks of `expect:` against the spec's tables: the SQL is one query and every fragment one
expression (DuckDB's parser reads them here, so `fabula check` refuses a COPY or a `where:`
that closes fabula's parenthesis with every other problem, before any SQL runs), the tables and
columns a named form reads exist, an uplift counts days of a date or time column, and names are
distinct (the report and a CI log tell expectations apart by name). Whether the SQL runs is
checked once the plan knows every column's type (`fabula.validate.check_queries`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from fabula.errors import Issue, did_you_mean
from fabula.sandbox import UnsafeSQL, parse_expression, parse_query
from fabula.spec.columns import ConditionalColumn, DateColumn, TimestampColumn

if TYPE_CHECKING:
    from fabula.spec.model import DatasetSpec


def check_expectations(spec: DatasetSpec, source) -> list[Issue]:
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
        issues.extend(_check_sql(expectation, path, source))
        issues.extend(_check_form(spec, expectation, path, source))
    return issues


def _check_sql(expectation, path, source) -> Iterator[Issue]:
    """Every piece of SQL the expectation carries, read by DuckDB's parser (nothing runs)."""
    for key, text, parse in sql_pieces(expectation):
        try:
            parse(text)
        except UnsafeSQL as refused:
            yield source.issue("bad-sql", (*path, *key), str(refused), value=text, hint=refused.hint)


def sql_pieces(expectation) -> Iterator[tuple[tuple[str, ...], str, Callable[[str], object]]]:
    """(key path, text, parser) of each piece of SQL in an expectation: the query of `sql:`, the
    `value:` and `where:` expressions of the readable forms."""
    if expectation.sql is not None:
        yield ("sql",), expectation.sql, parse_query
    ratio = expectation.ratio
    if ratio is not None:
        if ratio.where:
            yield ("ratio", "where"), ratio.where, parse_expression
        for side in ("numerator", "denominator"):
            aggregate = getattr(ratio, side)
            yield ("ratio", side, "value"), aggregate.value, parse_expression
            if aggregate.where:
                yield ("ratio", side, "where"), aggregate.where, parse_expression
    for form in ("share", "uplift"):
        found = getattr(expectation, form)
        if found is not None and found.where:
            yield (form, "where"), found.where, parse_expression


def _check_form(spec: DatasetSpec, expectation, path, source) -> Iterator[Issue]:
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
        yield source.issue("bad-value", where,
                           f"an uplift counts rows per day, and `{name}` is not a date or timestamp",
                           value=name, hint=f"use one of: {', '.join(times)}" if times else
                           f"`{form.table}` has no date or timestamp column to count days by")


def _is_time(column) -> bool:
    branches = column.branches() if isinstance(column, ConditionalColumn) else [column]
    return all(isinstance(branch, (DateColumn, TimestampColumn)) for branch in branches)
