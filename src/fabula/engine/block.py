"""The block function: every engine calls this and nothing else to make data."""

from __future__ import annotations

from typing import Iterable

import pyarrow as pa

from fabula.generators import BlockContext
from fabula.plan.model import Plan, TablePlan


def generate_block(plan: Plan, table: TablePlan, block: int) -> pa.RecordBatch:
    """Rows of one block of one table: a pure function of (plan, table, block index).

    >>> from fabula.spec import load_text
    >>> from fabula.plan import compile_plan
    >>> plan = compile_plan(load_text("name: d\\nseed: 7\\ntables:\\n  t:\\n    rows: 3\\n    columns:\\n      id: {kind: id, format: 'T-{:03d}'}"))
    >>> generate_block(plan, plan.table("t"), 0).column(0).to_pylist()
    ['T-000', 'T-001', 'T-002']
    """
    outputs = table.outputs
    computed = generate_columns(plan, table, block, [column.name for column in outputs])
    return pa.RecordBatch.from_arrays([computed[column.name] for column in outputs], schema=table.schema)


def generate_columns(plan: Plan, table: TablePlan, block: int, names: Iterable[str]) -> dict[str, pa.Array]:
    """Some columns of a block, and whatever they read: the same values as the full block
    (every stream is named), at the cost of only what is asked for."""
    by_name = {column.name: column for column in table.columns}
    needed = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending.extend(by_name[name].depends_on)
    start, n = table.block_span(block)
    computed: dict[str, pa.Array] = {}
    base = BlockContext(seed=plan.seed, table=table.name, column="", block=block, start=start, n=n,
                        columns=computed, relations=plan.relations)
    for name in table.order:
        if name in needed:
            computed[name] = by_name[name].generator.generate(base.for_column(name))
    return computed
