"""Chronological ids: a key with `order_by:` is numbered in the order of that column, so sorting
by the key sorts by time. Checked over the written files in DuckDB (it needs every row at once,
and DuckDB sorts out of core): in key order, no non-null time is earlier than the one before.
"""

from __future__ import annotations

from fabula.sandbox import quote
from fabula.spec.columns import IdColumn, SequenceColumn
from fabula.validate.evidence import Evidence
from fabula.validate.models import declared_columns
from fabula.validate.report import FAIL, PASS, SKIP, Check, Where

FAMILY = "chronology"


def checks(evidence: Evidence) -> list[Check]:
    found = []
    for table in evidence.plan.tables:
        columns = declared_columns(evidence.plan, table.name)
        for name, spec in columns.items():
            if isinstance(spec, (IdColumn, SequenceColumn)) and spec.order_by and not spec.hidden:
                found.append(_in_order(evidence, table.name, name, spec, columns))
    return found


def _in_order(evidence: Evidence, table: str, column: str, spec, columns: dict) -> Check:
    name = f"{table}.{column}: in the order of {spec.order_by}"
    where: Where = {"table": table, "column": column}
    if getattr(columns.get(spec.order_by), "hidden", False):
        return Check(FAMILY, name, SKIP, f"`{spec.order_by}` is not written", **where)
    key, time = quote(column), quote(spec.order_by)
    if isinstance(spec, IdColumn):  # a longer number is a later id (the text around it is fixed)
        order = f"length({key}), {key}"
    else:
        order = key if spec.step > 0 else f"{key} desc"
    sql = (f"select count(*), count(*) filter (where {time} < previous) from ("
           f"select {time}, lag({time}) over (order by {order}) as previous "
           f"from {quote(table)} where {time} is not null)")
    try:
        checked, bad = evidence.sql().rows(sql)[0]
    except Exception as error:  # noqa: BLE001 - duckdb raises many kinds; each becomes a failed check
        return Check(FAMILY, name, FAIL, f"could not check: {str(error).splitlines()[0][:300]}", **where)
    if not checked:
        return Check(FAMILY, name, SKIP, "no rows to check", **where)
    return Check(FAMILY, name, PASS if not bad else FAIL,
                 f"{checked:,} rows in key order" + (f", {bad:,} earlier than the row before" if bad else
                                                      ", each at or after the one before"),
                 expected=0, observed=bad, tolerance=0, **where)
