"""Spec → Plan: pin as_of, apply scale, order columns, compile generators (building pools)."""

from __future__ import annotations

from datetime import date

from fabula.errors import Issue, SpecError
from fabula.generators import CompileEnv, compile_column
from fabula.plan.model import BLOCK_ROWS, ColumnPlan, Layout, Plan, TablePlan
from fabula.spec import DatasetSpec, column_order
from fabula.spec.expressions import ExpressionError
from fabula.spec.load import SourceMap


def compile_plan(spec: DatasetSpec, *, seed: int | None = None, scale: float = 1.0,
                 as_of: date | None = None, block_rows: int = BLOCK_ROWS,
                 layout: Layout | None = None) -> Plan:
    """The plan for a spec. `as_of` defaults to the spec's, then to today — read once, here.

    >>> from fabula.spec import load_text
    >>> spec = load_text("name: d\\nseed: 1\\ntables:\\n  t:\\n    rows: 10\\n    columns:\\n      id: {kind: sequence}")
    >>> compile_plan(spec, scale=2.5).table("t").rows
    25
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    pinned = as_of or spec.as_of or date.today()
    root_seed = spec.seed if seed is None else seed
    issues: list[Issue] = []
    where = spec.where or SourceMap(None)
    tables = []
    for name, table in spec.tables.items():
        rows = int(round(table.rows * scale))
        order = column_order(table)
        compiled = {}
        types = {}
        for column_name in order:
            if not table.columns[column_name].depends_on() <= set(compiled):
                continue  # an input failed: its own issue says why
            env = CompileEnv(seed=root_seed, as_of=pinned, table=name, column=column_name, column_types=types)
            try:
                generator = compile_column(table.columns[column_name], env)
            except (ExpressionError, ValueError) as error:
                issues.append(where.issue("bad-column", ("tables", name, "columns", column_name),
                                          getattr(error, "message", str(error)), hint=getattr(error, "hint", None)))
                continue
            compiled[column_name] = generator
            types[column_name] = generator.arrow_type
        columns = tuple(
            ColumnPlan(column_name, compiled[column_name], tuple(sorted(table.columns[column_name].depends_on())))
            for column_name in table.columns if column_name in compiled
        )
        tables.append(TablePlan(name, rows, columns, tuple(order), block_rows))
    if issues:
        raise SpecError(issues)
    return Plan(name=spec.name, seed=root_seed, as_of=pinned, scale=scale, spec_hash=spec.spec_hash(),
                tables=tuple(tables), spec=spec, layout=layout or Layout())
