"""The plan layer: a spec compiled into a frozen description of exactly what to generate,
which makes its own blocks (`plan.block(table, block)`) and explains itself (`plan.explain()`)."""

from fabula.plan.blocks import generate_block, generate_columns
from fabula.plan.compile import compile_plan
from fabula.plan.explain import explain
from fabula.plan.model import BLOCK_ROWS, ColumnPlan, Layout, Plan, TablePlan

__all__ = ["BLOCK_ROWS", "ColumnPlan", "Layout", "Plan", "TablePlan", "compile_plan", "explain",
           "generate_block", "generate_columns"]
