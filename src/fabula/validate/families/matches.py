"""Matched references: a reference with `match:` points only at parents whose column equals the
row's (a trip's driver works in the trip's city). Checked in DuckDB over the written files, by
joining each row to the parent its key names."""

from __future__ import annotations

from fabula.sandbox import quote
from fabula.spec.relations import ReferenceColumn
from fabula.validate.evidence import Evidence
from fabula.validate.models import declared_columns
from fabula.validate.report import FAIL, PASS, SKIP, Check, Where

FAMILY = "matches"


def checks(evidence: Evidence) -> list[Check]:
    found = []
    for table in evidence.plan.tables:
        columns = declared_columns(evidence.plan, table.name)
        for name, spec in columns.items():
            if isinstance(spec, ReferenceColumn) and (matched := spec.matched) and not spec.hidden:
                found.append(_matched(evidence, table.name, name, spec, matched, columns))
    return found


def _matched(evidence: Evidence, table: str, column: str, spec: ReferenceColumn, matched: tuple[str, str],
             columns: dict) -> Check:
    """A row's parent has the same value in `matched` = (parent column, own column) as the row."""
    parent, key = spec.parent
    parent_column, own_column = matched
    name = f"{table}.{column}: a {parent} row with the same {parent_column} as `{own_column}`"
    where: Where = {"table": table, "column": column}
    parent_columns = declared_columns(evidence.plan, parent)
    if getattr(columns.get(own_column), "hidden", False) or getattr(parent_columns.get(parent_column), "hidden", False):
        return Check(FAMILY, name, SKIP, "the matched columns are not both written", **where)
    sql = (f"select count(*), count(*) filter (where c.{quote(own_column)} is distinct from p.{quote(parent_column)}) "
           f"from {quote(table)} c join {quote(parent)} p on c.{quote(column)} = p.{quote(key)}")
    try:
        checked, bad = evidence.sql().rows(sql)[0]
    except Exception as error:  # noqa: BLE001 - duckdb raises many kinds; each becomes a failed check
        return Check(FAMILY, name, FAIL, f"could not check: {str(error).splitlines()[0][:300]}", **where)
    if not checked:
        return Check(FAMILY, name, SKIP, "no rows with a key", **where)
    return Check(FAMILY, name, PASS if not bad else FAIL,
                 f"{checked:,} rows" + (f", {bad:,} point at a {parent} row with another {parent_column}" if bad
                                        else f", each pointing at a {parent} row with the same {parent_column}"),
                 expected=0, observed=bad, tolerance=0, **where)
