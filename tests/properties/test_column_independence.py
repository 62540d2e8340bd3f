"""Adding, removing or reordering another column never moves a column's values: every stream
is addressed by (table, column, purpose, block), never by position."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabula.plan import compile_plan
from fabula.spec import build_spec

from properties.strategies import column, columns

ROWS = 300
BLOCK_ROWS = 128
"""Small blocks, so a table has several and block boundaries are crossed too."""


def values_of(table_columns: dict, name: str) -> list:
    spec = build_spec({"name": "prop", "seed": 11, "as_of": "2024-06-30",
                       "tables": {"t": {"rows": ROWS, "columns": table_columns}}})
    plan = compile_plan(spec, block_rows=BLOCK_ROWS)
    table = plan.table("t")
    return [value for block in range(table.n_blocks) for value in plan.block(table, block).column(name).to_pylist()]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(others=columns, target=column(), extra=column(), data=st.data())
def test_other_columns_never_move_a_column(others, target, extra, data):
    others = {name: spec for name, spec in others.items() if name not in ("x", "added")}
    table = {**others, "x": target}
    expected = values_of(table, "x")
    order = data.draw(st.permutations(list(table)))
    assert values_of({name: table[name] for name in order}, "x") == expected, "reordered"
    assert values_of({**table, "added": extra}, "x") == expected, "a column added"
    if others:
        dropped = data.draw(st.sampled_from(sorted(others)))
        assert values_of({name: spec for name, spec in table.items() if name != dropped}, "x") == expected, \
            "a column removed"
