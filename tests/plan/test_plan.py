"""The plan is one finished, frozen value that makes its own blocks and explains itself."""

from __future__ import annotations

import dataclasses
import pickle
import typing

import pytest

import fabula
from fabula.plan import Plan, compile_plan, generate_block
from fabula.plan.relations import PlanRelations
from fabula.story import Story

SPEC = """
name: shop
seed: 5
as_of: 2024-06-30
tables:
  customers:
    rows: 500
    columns:
      customer_id: {kind: id, format: "C-{:05d}"}
      tier: {kind: categorical, values: {Free: 70, Pro: 30}}
  orders:
    rows: {per: customers, count: {kind: poisson, by: tier, cases: {Free: {lam: 2}, Pro: {lam: 6}}}}
    columns:
      order_id: {kind: sequence}
      customer_id: {kind: reference, to: customers.customer_id}
      tier: {kind: lookup, from: customer_id.tier}
"""


@pytest.fixture(scope="module")
def plan() -> Plan:
    return compile_plan(fabula.load_spec(SPEC), block_rows=256)


def test_the_plan_has_typed_fields_only():
    hints = typing.get_type_hints(Plan)
    assert typing.Any not in hints.values()
    assert hints["relations"] is PlanRelations and hints["story"] is Story


def test_the_plan_is_frozen(plan):
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.relations = PlanRelations()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.relations.per_parent = {}  # type: ignore[misc]
    assert not hasattr(plan.relations, "plan"), "relations never point back at a plan"


def test_the_plan_makes_its_own_blocks(plan):
    orders = plan.table("orders")
    assert orders.rows > 0 and orders.n_blocks > 1
    for block in range(orders.n_blocks):
        batch = plan.block("orders", block)
        assert batch.equals(generate_block(plan, orders, block))
        assert plan.columns(orders, block, ["tier"])["tier"].equals(batch.column("tier"))


def test_a_lean_plan_and_a_pickled_plan_make_the_same_blocks(plan):
    lean = plan.without_materialised()
    assert lean.relations.memory_bytes() < plan.relations.memory_bytes()
    assert plan.relations.materialised.values, "the lookup's parent column was materialised at compile time"
    again = pickle.loads(pickle.dumps(plan))
    for other in (lean, again):
        for table in plan.tables:
            for block in range(table.n_blocks):
                assert other.block(table.name, block).equals(plan.block(table, block))


def test_explain_from_the_plan_and_from_fabula(plan):
    text = plan.explain()
    assert text == fabula.explain(plan)
    assert "orders" in text and "poisson" in text
