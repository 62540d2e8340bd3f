"""Expectations declared in the spec (`expect:`): each a number from SQL over the written tables
(DuckDB, each table a view named after it) that must fall within its bounds.

The readable forms are SQL underneath (`expectation_sql` shows it): a ratio of two aggregates,
the share of a category within a filter, and the uplift of daily volume inside a window of
days. A spec's SQL is untrusted: the query must be one SELECT and each `value:`/`where:` one
expression, both read by DuckDB's parser, and the fragments are spliced as the parser writes
them back, never as given; every query runs in the sandbox (`fabula.sandbox`), which sees only
the output's tables. Before anything is generated, `check_queries` binds every query (without
running it) against empty in-memory tables of the plan's columns and types, so a typo in a
column name or bad SQL is refused with the rest of the spec (code `bad-expectation`), not
discovered after a long run.
"""

from __future__ import annotations

from datetime import date
from typing import SupportsFloat

import pyarrow as pa

from fabula.errors import Issue
from fabula.plan.model import Plan
from fabula.sandbox import (
    QueryTimeout,
    UnsafeSQL,
    connect,
    first_line,
    parse_expression,
    parse_query,
    quote,
    run_limited,
)
from fabula.spec.dates import resolve_bound
from fabula.spec.expectation_checks import sql_pieces
from fabula.spec.expectations import Expectation
from fabula.validate.evidence import Evidence
from fabula.validate.report import FAIL, PASS, Check

FAMILY = "expectations"


def checks(evidence: Evidence) -> list[Check]:
    return [_check(evidence, expectation) for expectation in evidence.plan.spec.expect]


def _check(evidence: Evidence, expectation: Expectation) -> Check:
    try:
        sql = expectation_sql(expectation, evidence.plan.as_of)
    except UnsafeSQL as refused:  # a spec that skipped the checks (a hand-edited manifest): never run it
        return Check(FAMILY, expectation.name, FAIL, f"not run: its SQL is refused ({refused})",
                     expected=list(expectation.between), details={"form": expectation.form})
    low, high = expectation.between
    expected = [low, high]
    details = {"form": expectation.form, "sql": sql}
    try:
        rows, width = run_limited(evidence.sql().connection, sql)
    except QueryTimeout as error:
        return Check(FAMILY, expectation.name, FAIL, f"the query failed: {error}; make it cheaper "
                     "(join on keys, filter early)", expected=expected, details=details)
    except Exception as error:  # noqa: BLE001 - any DuckDB error fails this check, with its words
        # (the sandbox opens no file outside the output, so they can quote only the output's rows)
        return Check(FAMILY, expectation.name, FAIL, f"the query failed: {first_line(error)}",
                     expected=expected, details=details)
    if width != 1 or len(rows) != 1:
        shape = f"{len(rows)}{'+' if len(rows) == 2 else ''} rows of {width} columns"
        return Check(FAMILY, expectation.name, FAIL, f"the query must return one number, and it returned {shape}",
                     expected=expected, details=details)
    value = rows[0][0]
    # a number is what float() takes: DuckDB's int, float and Decimal (never a bool)
    if value is None or isinstance(value, bool) or not isinstance(value, SupportsFloat):
        return Check(FAMILY, expectation.name, FAIL, f"the query returned {value!r}, not a number"
                     + (" (no rows matched?)" if value is None else ""), expected=expected, details=details)
    value = float(value)
    inside = (low is None or value >= low) and (high is None or value <= high)
    return Check(FAMILY, expectation.name, PASS if inside else FAIL,
                 f"{value:.4g}, {'within' if inside else 'outside'} {_bounds(low, high)}",
                 expected=expected, observed=value, details=details)


def _bounds(low, high) -> str:
    if low is None:
        return f"at most {high:g}"
    if high is None:
        return f"at least {low:g}"
    return f"[{low:g}, {high:g}]"


def expectation_sql(expectation: Expectation, as_of: date) -> str:
    """The SQL an expectation runs (the readable forms written out). Raises UnsafeSQL when its
    query is not one SELECT or a fragment not one expression: fragments go in as DuckDB's parser
    writes them back, never as the text they came as.

    >>> from fabula.spec.expectations import Expectation
    >>> e = Expectation(name="x", share={"table": "orders", "column": "status", "value": "done",
    ...                                  "where": "amount > 10 -- big ones"}, between=[0, 1])
    >>> print(expectation_sql(e, date(2024, 12, 31)))
    select avg(case when "status" in ('done') then 1.0 else 0.0 end) from "orders" where ((amount > 10))
    """
    if expectation.sql is not None:
        return parse_query(expectation.sql)
    if expectation.ratio is not None:
        ratio = expectation.ratio
        sides = []
        for side in (ratio.numerator, ratio.denominator):
            sides.append(f"(select cast({parse_expression(side.value)} as double) from {quote(ratio.side_table(side))}"
                         f"{_where(ratio.where, side.where)})")
        return f"select {sides[0]} / nullif({sides[1]}, 0)"
    if expectation.share is not None:
        share = expectation.share
        values = ", ".join(_literal(value) for value in share.values)
        return (f"select avg(case when {quote(share.column)} in ({values}) then 1.0 else 0.0 end) "
                f"from {quote(share.table)}{_where(share.where)}")
    uplift = expectation.uplift
    assert uplift is not None, "an expectation has exactly one form (Expectation._one_form), and it is uplift"
    first, last = (resolve_bound(bound, as_of) for bound in uplift.window)
    start, end = _literal(first), _literal(last)
    time = quote(uplift.time)
    inside_days = f"greatest(0, date_diff('day', greatest(span.first, {start}), least(span.last, {end})) + 1)"
    return (f"with days as (select cast({time} as date) as day, count(*) as n from {quote(uplift.table)}"
            f"{_where(uplift.where, own=f'{time} is not null')} group by 1), "
            "span as (select min(day) as first, max(day) as last from days), "
            f"counts as (select coalesce(sum(n) filter (where day between {start} and {end}), 0) as inside, "
            f"coalesce(sum(n) filter (where day not between {start} and {end}), 0) as outside from days) "
            f"select (counts.inside / nullif({inside_days}, 0)) / "
            f"nullif(counts.outside / nullif(date_diff('day', span.first, span.last) + 1 - {inside_days}, 0), 0) "
            "from counts, span")


def _where(*conditions: str | None, own: str | None = None) -> str:
    """A WHERE clause: fabula's `own` condition and the spec's, each parsed and written back by DuckDB."""
    given = ([f"({own})"] if own else []) + [f"({parse_expression(condition)})"
                                             for condition in conditions if condition]
    return f" where {' and '.join(given)}" if given else ""


def _literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return f"date '{value.isoformat()}'"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


# -- before generating: does every query bind? ----------------------------------------------------


def check_queries(plan: Plan) -> list[Issue]:
    """Issues for expectations DuckDB cannot bind against the plan's tables (empty, same types).

    The queries are bound, never run, in the sandbox over in-memory tables: `fabula check`,
    `plan` and `preview` execute no spec SQL and open no file for it."""
    if not plan.spec.expect:
        return []
    import duckdb

    from fabula.spec.load import SourceMap

    where = plan.spec.where or SourceMap(None)
    connection = connect({table.name: _empty(table) for table in plan.tables})
    issues = []
    try:
        for index, expectation in enumerate(plan.spec.expect):
            path = ("expect", index, expectation.form)
            try:
                columns = connection.sql(expectation_sql(expectation, plan.as_of)).types
            except UnsafeSQL as refused:  # the spec's checks said where; a plan of an unchecked spec stops here
                issues.append(where.issue("bad-sql", path, str(refused), hint=refused.hint))
                continue
            except duckdb.Error as error:
                issues.append(where.issue("bad-expectation", path, f"DuckDB cannot run it: {first_line(error)}",
                                          hint=_SANDBOX_HINT if isinstance(error, duckdb.PermissionException)
                                          else _hint(expectation)))
                continue
            if len(columns) != 1:
                issues.append(where.issue("bad-expectation", path, f"the query returns {len(columns)} columns; "
                                          "an expectation is one number", hint="select one aggregate, e.g. "
                                          "select avg(amount) from orders"))
                continue
            issues.extend(_conditions(connection, expectation, ("expect", index), where))
    finally:
        connection.close()
    return issues


def _empty(table) -> pa.Table:
    return pa.schema([pa.field(field.name, field.type.value_type if pa.types.is_dictionary(field.type)
                               else field.type) for field in table.schema]).empty_table()


def _conditions(connection, expectation: Expectation, path: tuple, where) -> list[Issue]:
    """Each `where:` of a query that binds must be a condition, true or false: DuckDB would take
    1 as true, and refuse 'yes' only once rows arrive."""
    issues = []
    for key, text, _ in sql_pieces(expectation):
        if key[-1] != "where":
            continue
        try:
            kind = str(connection.sql(f"select {parse_expression(text)} from {quote(_table_of(expectation, key))}")
                       .types[0])
        except Exception:  # noqa: BLE001 - the whole query bound; a side of it alone need not say more
            continue
        if kind not in ("BOOLEAN", '"NULL"'):
            issues.append(where.issue("bad-expectation", (*path, *key), f"`where` is a condition, and this is "
                                      f"{kind}, not true or false", value=text,
                                      hint="compare something, e.g. status = 'completed' or amount > 100"))
    return issues


def _table_of(expectation: Expectation, key: tuple) -> str:
    ratio = expectation.ratio
    if ratio is None:
        form = expectation.share or expectation.uplift
        assert form is not None, "only a ratio, share or uplift has a `where` (sql_pieces)"
        return form.table
    if key[1] in ("numerator", "denominator"):
        return ratio.side_table(getattr(ratio, key[1]))
    table = ratio.table or ratio.numerator.table  # a shared `where` with no shared `table`: the numerator's
    assert table is not None, "a ratio names `table`, or a table on each side (Ratio._tables_named)"
    return table


_SANDBOX_HINT = "an expectation reads only the spec's tables, each a view named after it: files, URLs, " \
                "databases and extensions are out of its reach (docs/validation.md)"


def _hint(expectation: Expectation) -> str:
    if expectation.form == "sql":
        return "each table is a view named after it, with the spec's column names, e.g. " \
               "select avg(amount) from orders where status = 'completed'"
    return "`value` is an SQL aggregate such as avg(amount) or count(*), `where` an SQL condition " \
           "such as status = 'completed'; columns are the table's own"
