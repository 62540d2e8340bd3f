"""fabula: story-driven, multi-table synthetic data for lakehouses.

>>> import fabula
>>> spec = fabula.load_spec("retail")
>>> fabula.compile_plan(spec, scale=0.01).table("orders").rows
1000
"""

__version__ = "0.1.0"

from fabula.api import column, compile_plan, generate, load_spec, preview, to_spark, validate_output  # noqa: E402
from fabula.errors import FabulaError, Issue, OutputError, SpecError, UsageError, ValidationFailed  # noqa: E402
from fabula.plan import Plan, explain  # noqa: E402
from fabula.spec import DatasetSpec, TableSpec  # noqa: E402

__all__ = [
    # the workflow
    "load_spec", "compile_plan", "explain", "preview", "generate", "to_spark", "validate_output",
    # building specs in Python
    "DatasetSpec", "TableSpec", "column",
    # values
    "Plan",
    # errors
    "FabulaError", "SpecError", "UsageError", "OutputError", "ValidationFailed", "Issue",
]
