"""Engines run the plan's blocks and hand them to a sink: locally now, on Spark later."""

from fabula.engine.block import generate_block
from fabula.engine.local import run_local

__all__ = ["generate_block", "run_local"]
