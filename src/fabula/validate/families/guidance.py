"""Guidance: warnings about data that is valid but too thin or too flat to show its story.

These never fail a run (not even with --strict); they say what a dashboard or a model built
on the data will struggle with:

- a fact table (one that references others, or is sized per parent or by a timeline) under
  10,000 rows: too few for weekly or per-segment aggregates to look like anything;
- a group with under 500 rows — a case of a conditional column, or a category of a fact
  table's column: its share or its distribution will not survive aggregation (±5% noise);
- a uniform distribution where real data is skewed: amounts, prices, durations and counts
  drawn uniformly, or a fact table whose rows pick their parent uniformly (every customer
  equally active).
"""

from __future__ import annotations

import re

from fabula.spec.relations import PerParent, ReferenceColumn
from fabula.validate.evidence import Evidence
from fabula.validate.families.columns import ColumnStatistic
from fabula.validate.report import PASS, WARN, Check

FAMILY = "guidance"
FACT_TABLE_ROWS = 10_000
GROUP_ROWS = 500
SKEWED = re.compile(r"amount|price|revenue|cost|salary|income|spend|value|total|fee|balance|duration|latency|"
                    r"size|bytes|quantity|count|sales|time_to|wait", re.IGNORECASE)


def checks(evidence: Evidence) -> list[Check]:
    return [*_fact_tables(evidence), *_small_groups(evidence), *_flat_distributions(evidence)]


def fact_tables(plan) -> list[str]:
    """Tables of events or transactions: they reference other tables or are sized per parent or
    by a timeline (the others describe things: customers, products)."""
    found = []
    for table in plan.tables:
        spec = plan.spec.tables.get(table.name)
        if spec is None:  # a table fabula adds itself (the events)
            continue
        sized = not isinstance(spec.rows, int)
        references = any(isinstance(column, ReferenceColumn) for column in spec.columns.values())
        if sized or references:
            found.append(table.name)
    return found


def _fact_tables(evidence: Evidence):
    for name in fact_tables(evidence.plan):
        rows = evidence.rows.get(name, 0)
        if rows < FACT_TABLE_ROWS:
            yield Check(FAMILY, f"{name}: enough rows for a fact table", WARN,
                        f"{rows:,} rows: a fact table under {FACT_TABLE_ROWS:,} rows is too small for its patterns "
                        "to show in aggregates; raise its rows or --scale", expected=FACT_TABLE_ROWS,
                        observed=rows, table=name)
        else:
            yield Check(FAMILY, f"{name}: enough rows for a fact table", PASS,
                        f"{rows:,} rows (at least {FACT_TABLE_ROWS:,})", expected=FACT_TABLE_ROWS,
                        observed=rows, table=name)


def _small_groups(evidence: Evidence):
    facts = set(fact_tables(evidence.plan))
    small_found = False
    for statistic in evidence.of_type(ColumnStatistic):
        state = evidence.state(statistic)
        model = statistic.model
        if not isinstance(state, dict):
            continue
        small: dict[str, int] = {}
        if model.grouping is not None:
            for group, rows in zip(model.groups[:-1], state["rows"][:-1]):  # the last: rows no case covers
                if (group.numeric is not None or group.levels is not None) and rows < GROUP_ROWS:
                    small[f"{model.grouping.by}={group.label}"] = int(rows)
        elif model.table in facts and model.groups[0].levels is not None and "levels" in state:
            for level, count in zip(model.levels, state["levels"][0]):
                if count < GROUP_ROWS:
                    small[f"{model.column}={level}"] = int(count)
        if small:
            small_found = True
            shown = ", ".join(f"{group} ({rows:,} rows)" for group, rows in small.items())
            yield Check(FAMILY, f"{model.table}.{model.column}: rows per group", WARN,
                        f"too few rows for the pattern to survive aggregation: {shown}; aim for "
                        f"{GROUP_ROWS:,}+ per group", expected=GROUP_ROWS, observed=small,
                        table=model.table, column=model.column)
    if not small_found:
        yield Check(FAMILY, "rows per group", PASS,
                    f"every case and every category of a fact table has at least {GROUP_ROWS:,} rows",
                    expected=GROUP_ROWS)


def _flat_distributions(evidence: Evidence):
    plan = evidence.plan
    facts = set(fact_tables(plan))
    flat = []
    for table in plan.tables:
        spec = plan.spec.tables.get(table.name)
        if spec is None:
            continue
        per = spec.rows.per if isinstance(spec.rows, PerParent) else None
        for name, column in spec.columns.items():
            if getattr(column, "kind", None) == "uniform" and SKEWED.search(name) and not column.unique:
                flat.append(Check(FAMILY, f"{table.name}.{name}: skewed where usual", WARN,
                                  f"`{name}` is uniform, and real {name.replace('_', ' ')} values are usually "
                                  "skewed: a few large, many small; consider lognormal, gamma or pareto",
                                  table=table.name, column=name))
            elif (isinstance(column, ReferenceColumn) and column.pick == "uniform" and table.name in facts
                  and column.parent[0] != per):
                flat.append(Check(FAMILY, f"{table.name}.{name}: skewed where usual", WARN,
                                  f"every {column.parent[0]} row is equally likely to be picked; real activity is "
                                  "skewed (a few very active parents); consider pick: zipf, hotspot or weighted",
                                  table=table.name, column=name))
    yield from flat
    if not flat:
        yield Check(FAMILY, "skewed where usual", PASS, "no amount, duration or parent pick is drawn uniformly")
