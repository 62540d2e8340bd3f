"""The Spark engine produces the local engine's tables: the same values in the same order,
whatever the partitioning, for the built-in specs, every column kind and relation, and every
documented example."""

from __future__ import annotations

import pytest
from spark.compare import assert_same_rows
from spark.specs import clean_builtin_names, every_kind_spec, kinds_of
from test_docs import column_examples, example_id, example_spec

import fabula
from helpers import SMALL_SPEC
from fabula.engine.spark import table_dataframe, to_dataframes
from fabula.engine.spark_executor import Shipment
from fabula.plan.compile import compile_plan
from fabula.spec import COLUMN_KINDS, build_spec

PARTITIONS = (1, 2, 5)
SMALL_BLOCKS = 700
"""Block size for the tests: odd, and small enough that every table spans several blocks."""


def assert_matches_local(frames: dict, plan, local_tables, what: str) -> None:
    local = local_tables(plan)
    assert list(frames) == [table.name for table in plan.tables]
    for table in plan.tables:
        assert_same_rows(local[table.name], frames[table.name].toArrow(), table.schema, f"{what} {table.name}")


@pytest.fixture(scope="module")
def every_kind_plan():
    return compile_plan(build_spec(every_kind_spec()), block_rows=SMALL_BLOCKS)


_BUILTIN_PLANS: dict = {}


def builtin_plan(name: str):
    """A built-in spec at a tenth of its size, in blocks that cut its biggest table in about
    eight (compiled once)."""
    if name not in _BUILTIN_PLANS:
        spec = fabula.load_spec(name)
        biggest = max(table.rows for table in compile_plan(spec, scale=0.1).tables)
        _BUILTIN_PLANS[name] = compile_plan(spec, scale=0.1, block_rows=max(64, biggest // 8))
    return _BUILTIN_PLANS[name]


@pytest.mark.parametrize("partitions", PARTITIONS)
@pytest.mark.parametrize("name", clean_builtin_names())
def test_builtin_spec_matches_local(spark, local_tables, name, partitions):
    plan = builtin_plan(name)
    assert max(table.n_blocks for table in plan.tables) > max(PARTITIONS), "the test needs several blocks"
    assert_matches_local(to_dataframes(plan, spark, partitions=partitions), plan, local_tables,
                         f"{name} on {partitions} partitions:")


def test_every_kind_spec_uses_every_kind():
    missing = set(COLUMN_KINDS) - kinds_of(every_kind_spec())
    assert not missing, f"add a column of each kind {sorted(missing)} to tests/spark/specs.py (MISC)"


@pytest.mark.parametrize("partitions", (*PARTITIONS, None))
def test_every_kind_and_relation_matches_local(spark, local_tables, every_kind_plan, partitions):
    assert_matches_local(to_dataframes(every_kind_plan, spark, partitions=partitions), every_kind_plan,
                         local_tables, f"every_kind on {partitions or 'default'} partitions:")


def test_parent_values_recomputed_on_executors_match(spark, local_tables, every_kind_plan):
    """Above SHIP_MATERIALISED_BYTES the plan ships without the parent columns children read,
    and each executor recomputes them: the data must not change."""
    shipped = Shipment.build(every_kind_plan)
    lean = Shipment.build(every_kind_plan, ship_materialised_bytes=0)
    assert len(lean.payload) < len(shipped.payload)
    frames = {table.name: table_dataframe(spark, lean, table, partitions=3) for table in every_kind_plan.tables}
    assert_matches_local(frames, every_kind_plan, local_tables, "recomputed parents:")


def test_full_size_blocks_match(spark, local_tables):
    """The real block size (65,536 rows), several blocks per table."""
    plan = fabula.compile_plan(SMALL_SPEC, scale=16)
    assert plan.table("events").n_blocks == 3
    assert_matches_local(to_dataframes(plan, spark, partitions=2), plan, local_tables, "65,536-row blocks:")


@pytest.mark.parametrize("block", column_examples(), ids=example_id)
def test_documented_example_matches_local(spark, local_tables, block):
    """Every example in docs/columns.md (so every kind, as it is documented) through Spark."""
    plan = fabula.compile_plan(example_spec(block))
    assert_matches_local(to_dataframes(plan, spark), plan, local_tables, f"{example_id(block)}:")
