"""The plan layer: a spec compiled into a frozen description of exactly what to generate."""

from fabula.plan.compile import compile_plan
from fabula.plan.model import BLOCK_ROWS, ColumnPlan, Layout, Plan, TablePlan

__all__ = ["BLOCK_ROWS", "ColumnPlan", "Layout", "Plan", "TablePlan", "compile_plan"]
