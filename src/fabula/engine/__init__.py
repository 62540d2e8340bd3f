"""Engines run the plan's blocks and hand them to a sink: local threads (`local`) or Spark
(`spark`, imported on demand so pyspark stays optional)."""

from fabula.engine.local import run_local
from fabula.plan.blocks import generate_block

__all__ = ["generate_block", "run_local"]
