"""`partition_by:` on a table: Hive-style partition folders (`orders/region=West/part-….parquet`).

    tables:
      orders:
        rows: 100000
        partition_by: [region]     # or one name: partition_by: region
        columns: {...}

A partition column's values become folder names, so the number of folders (and of files:
one per partition and part) must stay small whatever the spec says. It is bounded here, at
load, from what the spec itself declares: a column may be a partition only when its kind has a
known, finite set of values (a categorical, a boolean, a constant, a date between two bounds,
a lookup of one of those), and the product of those counts over a table's partition columns
is at most `MAX_PARTITIONS`. Floats, timestamps, keys, free text and numbers drawn from a
distribution have no such bound and are refused with a hint.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date
from typing import TYPE_CHECKING

from fabula.errors import did_you_mean
from fabula.spec.columns import (
    AnyColumn,
    BooleanColumn,
    CategoricalColumn,
    ColumnSpec,
    ConditionalColumn,
    ConstantColumn,
    DateColumn,
    TimestampColumn,
)
from fabula.spec.dates import resolve_bound
from fabula.spec.relations import LookupColumn, ReferenceColumn, split_target

if TYPE_CHECKING:
    from fabula.spec.model import TableSpec

MAX_PARTITIONS = 1_000
"""The most partition folders one table may have (Hive's default cap on dynamic partitions):
with one file per partition and part, a table of ten part files has at most 10,000 files."""

_FIX = ("partition by a column with a few known values: a categorical, a boolean, a date between "
        "`start` and `end`, or a lookup of one of those")

_BROKEN = "it reads a column that failed to parse"

Problem = tuple[tuple, str, str]
"""(path inside the table, what is wrong, hint)."""


def partition_issues(table: str, spec: TableSpec, tables: Mapping[str, TableSpec], *,
                     as_of: date | None = None, broken: frozenset[tuple[str, str]] = frozenset()) -> list[Problem]:
    """What is wrong with a table's `partition_by:` (nothing when it is fine). Columns in
    `broken` failed to parse: their own issue says what to fix, so nothing is said about them."""
    names = spec.partition_by
    if not names:
        return []
    found: list[Problem] = []
    counts = []
    for position, name in enumerate(names):
        where = ("partition_by", position)
        column = spec.columns.get(name)
        if column is None and (table, name) in broken:
            continue
        if column is None:
            hint = did_you_mean(name, spec.columns) or f"columns of {table}: {', '.join(spec.columns)}"
            found.append((where, f"no column `{name}` in table `{table}` to partition by", hint))
            continue
        if names.index(name) != position:
            found.append((where, f"`{name}` is listed twice", "list each partition column once"))
            continue
        if column.hidden:
            found.append((where, f"`{name}` is hidden (computed, never written), so it cannot name the "
                                 "partition folders", f"drop `hidden: true` from `{name}`, or partition by "
                                                      "a written column"))
            continue
        count, why = value_count(column, spec, tables, as_of or date.today(), broken=broken)
        if count is None and why is _BROKEN:
            continue
        if count is None:
            found.append((where, f"`{name}` cannot be a partition column: {why}", _FIX))
        else:
            counts.append((name, count))
    written = [name for name, column in spec.columns.items() if not column.hidden]
    if not found and set(written) <= set(names):
        found.append((("partition_by",), f"every written column of `{table}` is a partition column, which "
                                         "would leave the files with no columns", "keep at least one column out "
                                                                                  "of partition_by"))
    total = 1
    for _, count in counts:
        total *= count
    if not found and total > MAX_PARTITIONS:
        shown = " × ".join(f"{count:,} ({name})" for name, count in counts)
        found.append((("partition_by",), f"partitioning `{table}` by {', '.join(names)} can make up to "
                                         f"{shown} = {total:,} folders, more than the {MAX_PARTITIONS:,} allowed "
                                         "(each partition holds its own files)",
                      "partition by fewer or coarser columns (a month or a region rather than a day), "
                      "or narrow the date range"))
    return found


def value_count(column: AnyColumn, owner: TableSpec, tables: Mapping[str, TableSpec], as_of: date,
                depth: int = 0, broken: frozenset[tuple[str, str]] = frozenset()) -> tuple[int | None, str]:
    """(the most distinct values a column of table `owner` can hold, counting null as one; or
    None and why not)."""
    if depth > len(tables) + 1:
        return None, "it reads itself through other tables"
    if isinstance(column, ConditionalColumn):
        values: set = set()
        total = 0
        for branch in column.branches():
            count, why = value_count(branch, owner, tables, as_of, depth, broken)
            if count is None:
                return None, why
            total += count
            listed = _listed(branch)
            if listed is not None:
                values |= listed
        # the cases' listed values, when every case lists them; else the sum bounds it
        exact = all(_listed(branch) is not None for branch in column.branches())
        return (len(values) if exact else total) + _null(column), ""
    count, why = _own_count(column, owner, tables, as_of, depth, broken)
    if count is None:
        return None, why
    for override in column.during:  # an event may draw other values
        other, why = value_count(override.column, owner, tables, as_of, depth, broken) if isinstance(
            override.column, (ColumnSpec, ConditionalColumn)) else (None, "an event override changes it")
        if other is None:
            return None, f"during `{override.event}`, {why}" if why else "an event override changes it"
        count += other
    return count + _null(column), ""


def _own_count(column: ColumnSpec, owner, tables, as_of: date, depth: int, broken) -> tuple[int | None, str]:
    if isinstance(column, CategoricalColumn):
        if any(isinstance(value, float) and not float(value).is_integer() for value in column.values):
            return None, "its values are fractional numbers, which make poor folder names"
        if any(value == "" for value in column.values):
            return None, "one of its values is empty text, which a partition folder cannot tell from null"
        return len(column.values), ""
    if isinstance(column, BooleanColumn):
        return 2, ""
    if isinstance(column, ConstantColumn):
        if isinstance(column.value, float) and not column.value.is_integer():
            return None, "it is a fractional number, which makes a poor folder name"
        if column.value == "":
            return None, "it is empty text, which a partition folder cannot tell from null"
        return 1, ""
    if isinstance(column, TimestampColumn):
        return None, ("a timestamp has a value per instant, far too many folders; add a date column "
                      "and partition by that")
    if isinstance(column, DateColumn):
        return _days(column, as_of)
    if isinstance(column, LookupColumn):
        return _through_reference(column, owner, tables, as_of, depth, broken)
    if isinstance(column, ReferenceColumn):
        return None, "a reference has a value per parent row, as many as the parent table's rows"
    if column.key:
        return None, "a key has a different value on every row"
    if column.is_numeric():
        return None, (f"a {column.kind} column draws numbers with no fixed set of values "
                      "(a float would make a folder per value)")
    return None, f"a {column.kind} column has no fixed, small set of values"


def _days(column: DateColumn, as_of: date) -> tuple[int | None, str]:
    if column.after is not None:
        return None, f"its dates follow `{column.after}`, so they have no fixed range"
    if column.timeline is not None:
        return None, "its dates come from a timeline; give it `start` and `end` to bound its days"
    if column.start is None or column.end is None:
        return None, "give it `start` and `end` to bound its days"
    try:
        days = (resolve_bound(column.end, as_of) - resolve_bound(column.start, as_of)).days + 1
    except ValueError as error:
        return None, str(error)
    # a bound in months or years moves with as_of by up to three days (months differ in length)
    slack = 3 if any(isinstance(bound, str) and re.fullmatch(r"[+-]\d+(mo|y)", bound)
                     for bound in (column.start, column.end)) else 0
    return max(days, 1) + slack, ""


def _through_reference(column: LookupColumn, owner, tables, as_of: date, depth: int,
                       broken) -> tuple[int | None, str]:
    reference, parent_column = split_target(column.from_)
    spec = owner.columns.get(reference)
    if not isinstance(spec, ReferenceColumn):
        return None, _BROKEN  # the lookup's own checks name what it should read
    parent, _ = spec.parent
    target = tables.get(parent)
    if target is None or parent_column not in target.columns:
        return None, _BROKEN
    count, why = value_count(target.columns[parent_column], target, tables, as_of, depth + 1, broken)
    if why is _BROKEN:
        return None, why
    if count is None:
        return None, f"it copies {parent}.{parent_column}, and {why}"
    return count + (1 if spec.nulls > 0 or spec.when is not None else 0), ""  # no parent: null


def _listed(column: AnyColumn) -> set | None:
    if isinstance(column, CategoricalColumn):
        return set(column.values)
    if isinstance(column, BooleanColumn):
        return {True, False}
    if isinstance(column, ConstantColumn):
        return {column.value}
    return None


def _null(column: AnyColumn) -> int:
    """One folder more for null (`__HIVE_DEFAULT_PARTITION__`) when the column can be null."""
    return 1 if column.nulls > 0 or column.when is not None else 0


def partition_columns(value) -> tuple[str, ...]:
    """`partition_by` as written: one name or a list of names."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def issues_in(tables: Mapping[str, TableSpec], as_of: date | None,
              broken: frozenset[tuple[str, str]] = frozenset()) -> Iterator[tuple[str, tuple, str, str]]:
    """(table, path inside it, message, hint) over every table."""
    for name, table in tables.items():
        for where, message, hint in partition_issues(name, table, tables, as_of=as_of, broken=broken):
            yield name, where, message, hint
