"""fabula: story-driven, multi-table synthetic data for lakehouses.

>>> import fabula
>>> spec = fabula.load_spec("retail")
>>> fabula.compile_plan(spec, scale=0.01).table("customers").rows
100
"""

__version__ = "0.1.0"

from fabula.errors import FabulaError, Issue, OutputError, SpecError, UsageError, ValidationFailed  # noqa: E402

# The rest is imported on first use (PEP 562): `fabula --help` and `import fabula.errors` then
# cost no NumPy, Arrow, Pydantic or DuckDB import.
_LAZY = {
    "column": "fabula.api", "compile_plan": "fabula.api", "generate": "fabula.api", "load_spec": "fabula.api",
    "preview": "fabula.api", "to_spark": "fabula.api", "validate_output": "fabula.api",
    "GenerateResult": "fabula.api", "Timings": "fabula.api",
    "Plan": "fabula.plan", "explain": "fabula.plan",
    "DatasetSpec": "fabula.spec", "TableSpec": "fabula.spec",
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'fabula' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    # the workflow
    "load_spec", "compile_plan", "explain", "preview", "generate", "to_spark", "validate_output",
    # building specs in Python
    "DatasetSpec", "TableSpec", "column",
    # values
    "Plan", "GenerateResult", "Timings",
    # errors
    "FabulaError", "SpecError", "UsageError", "OutputError", "ValidationFailed", "Issue",
]
