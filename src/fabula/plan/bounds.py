"""The size guard and key ranges of a plan, checked before (and right after) rows are counted.

`compile_plan` calls `refuse_absurd_size` before resolving timelines or running the count pass,
from the declared row counts, `--scale` and an estimate of the children per parent, so a spec
asking for 10^20 rows is refused in milliseconds; then `refuse_absurd_size` again with the real
counts, and `key_range_issues` once every table's rows are known. The numbers are in
`fabula.spec.bounds` and docs/security.md.
"""

from __future__ import annotations

import math
from datetime import date

from fabula.errors import Issue, SpecError
from fabula.spec.bounds import INT64_MAX, MAX_OUTPUT_BYTES, MAX_ROWS
from fabula.spec.columns import ConditionalColumn
from fabula.spec.dates import resolve_bound
from fabula.spec.graph import topological_order
from fabula.spec.relation_checks import table_dependencies
from fabula.spec.relations import PerParent
from fabula.spec.story import TimelineRows


def estimate_rows(spec, scale: float, as_of: date) -> dict[str, float]:
    """Rows per table as floats (no rounding, no overflow): declared × scale, timelines as
    rate × days × scale × the largest event volume, per-parent tables as parent rows × the
    count's mean (its largest case)."""
    rows: dict[str, float] = {}
    order = topological_order(table_dependencies(spec))
    names = order if order and isinstance(order[0], str) else list(spec.tables)
    for name in names:
        declared = spec.tables[name].rows
        if isinstance(declared, PerParent):
            mean = expected_value(declared.count)
            rows[name] = rows.get(declared.per, 0.0) * (mean if mean is not None else 1.0)
        elif isinstance(declared, TimelineRows):
            rows[name] = _timeline_rows(spec, declared.timeline, name, as_of) * scale
        else:
            rows[name] = float(declared) * scale
    return rows


def _timeline_rows(spec, timeline_name: str, table: str, as_of: date) -> float:
    timeline = spec.timelines.get(timeline_name)
    if timeline is None:
        return 0.0
    mix = getattr(timeline, "mix", None)
    if mix is not None:  # the sum of its components (checked to be plain timelines)
        return sum(_timeline_rows(spec, component, table, as_of) for component in mix.values()
                   if component != timeline_name)
    try:
        days = (resolve_bound(timeline.end, as_of) - resolve_bound(timeline.start, as_of)).days + 1
    except ValueError:
        return 0.0  # reported by the checks
    surge = max([1.0, *(float(getattr(event.volume.get(table), "factor", 1.0)) for event in spec.events.values())])
    return timeline.rate * max(days, 0) * surge


def expected_value(column) -> float | None:
    """The mean of a count spec (the largest over its cases), or None when unknown."""
    if isinstance(column, ConditionalColumn):
        means = [expected_value(branch) for branch in column.branches()]
        known = [mean for mean in means if mean is not None]
        return max(known) if known else None
    kind = getattr(column, "kind", None)
    try:
        if kind == "constant":
            return float(column.value)
        if kind == "poisson":
            return float(column.lam)
        if kind == "uniform":
            return (float(column.low) + float(column.high)) / 2
        if kind == "normal":
            return max(float(column.mean), 0.0) + float(column.std)
        if kind == "lognormal":
            return math.exp(min(float(column.mean) + float(column.sigma) ** 2 / 2, 700))
        if kind in ("exponential", "gamma", "weibull", "pareto"):
            scale = float(getattr(column, "scale", 1.0))
            shape = float(getattr(column, "shape", getattr(column, "alpha", 1.0)))
            return scale * max(shape, 1.0)
    except (TypeError, ValueError, OverflowError):
        return None
    return None


def bytes_per_row(table) -> int:
    """A rough, generous estimate of one row's uncompressed size, from its column kinds."""
    total = 0
    for column in table.columns.values():
        branches = column.branches() if isinstance(column, ConditionalColumn) else [column]
        total += max(_bytes_per_value(branch) for branch in branches) if branches else 8
    return max(total, 1)


def _bytes_per_value(column) -> int:
    kind = getattr(column, "kind", None)
    if kind == "uuid":
        return 36
    if kind == "id":
        return len(column.format) + 12
    if kind == "template":
        return len(column.template) + 16
    if kind == "constant" and isinstance(column.value, str):
        return len(column.value) + 4
    if kind == "boolean":
        return 1
    if kind == "date":
        return 4
    return 8


def refuse_absurd_size(spec, rows: dict[str, float], *, allow_large: bool, where) -> None:
    """Refuse a plan beyond int64 rows in any table (always), or beyond MAX_ROWS rows or
    MAX_OUTPUT_BYTES bytes in all (unless `allow_large`), saying how big it would be."""
    issues: list[Issue] = []
    for name, count in rows.items():
        if not count <= INT64_MAX:  # also nan
            issues.append(where.issue("too-large", ("tables", name, "rows"),
                                      f"`{name}` would have {_count(count)} rows, beyond a 64-bit row count",
                                      hint="ask for fewer rows, or a smaller --scale"))
    if issues:
        raise SpecError(issues)
    total_rows = sum(rows.values())
    total_bytes = sum(count * bytes_per_row(spec.tables[name]) for name, count in rows.items()
                      if name in spec.tables)
    if allow_large or (total_rows <= MAX_ROWS and total_bytes <= MAX_OUTPUT_BYTES):
        return
    biggest = max(rows, key=rows.__getitem__)
    raise SpecError([where.issue(
        "too-large", ("tables", biggest, "rows"),
        f"the plan would write about {_count(total_rows)} rows, roughly {_bytes(total_bytes)} before "
        f"compression (limits: {MAX_ROWS:,} rows, {_bytes(MAX_OUTPUT_BYTES)}); `{biggest}` alone has "
        f"{_count(rows[biggest])} rows",
        hint="lower `rows` or --scale; if you really mean it, pass `fabula --allow-large ...` "
             "(or allow_large=True)")])


def key_range_issues(plan, where) -> list[Issue]:
    """Sequences and ids whose last key would run past the 64-bit integer range."""
    issues = []
    for table in plan.tables:
        declared = plan.spec.tables.get(table.name)
        if declared is None or table.rows == 0:
            continue
        for name, column in declared.columns.items():
            kind = getattr(column, "kind", None)
            if kind not in ("sequence", "id"):
                continue
            step = column.step if kind == "sequence" else 1
            last = column.start + (table.rows - 1) * step
            if not -(2**63) <= last <= INT64_MAX:
                issues.append(where.issue(
                    "overflow", ("tables", table.name, "columns", name, "start"),
                    f"with {table.rows:,} rows the last key would be {last:,}, outside 64-bit integers",
                    value=column.start,
                    hint="start lower, or use a smaller step; keys never wrap around"))
    return issues


def _count(value: float) -> str:
    if not math.isfinite(value):
        return "infinitely many"
    return f"{value:,.0f}" if value < 1e15 else f"{value:.2e}"


def _bytes(value: float) -> str:
    if not math.isfinite(value):
        return "infinitely many bytes"
    for unit in ("B", "KB", "MB", "GB", "TB", "PB", "EB"):
        if value < 1000 or unit == "EB":
            return f"{value:,.1f} {unit}" if unit != "B" else f"{value:,.0f} B"
        value /= 1000
    return f"{value:.2e} B"
