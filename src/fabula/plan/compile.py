"""Spec → Plan: pin as_of, apply scale, order columns, compile generators (building pools)."""

from __future__ import annotations

from datetime import date

import pyarrow as pa

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
            problem = modifier_problem(table.columns[column_name], generator.arrow_type)
            if problem:
                issues.append(where.issue("bad-modifier", ("tables", name, "columns", column_name), problem,
                                          hint="remove it, or apply it inside the expression"))
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


def modifier_problem(spec, arrow_type: pa.DataType) -> str | None:
    """`round` and `clip` on a column whose type is only known once compiled (expressions)."""
    numeric = pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type)
    temporal = pa.types.is_date(arrow_type) or pa.types.is_timestamp(arrow_type)
    if spec.round is not None and not numeric:
        return f"`round` applies to numbers, and this column produces {arrow_type}"
    if spec.clip is not None and not (numeric or temporal):
        return f"`clip` applies to numbers and dates, and this column produces {arrow_type}"
    return None
