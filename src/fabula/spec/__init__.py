"""The spec layer: what a user writes, validated into frozen models. Never imports numpy/pyarrow."""

from fabula.spec import numeric as _numeric  # noqa: F401 - registers the numeric kinds
from fabula.spec.checks import column_order
from fabula.spec.columns import COLUMN_KINDS, AnyColumn, ColumnSpec, ConditionalColumn
from fabula.spec.load import build_spec, load_file, load_text
from fabula.spec.model import DatasetSpec, TableSpec
from fabula.spec.relations import AggregateColumn, LookupColumn, PerParent, ReferenceColumn

__all__ = [
    "COLUMN_KINDS", "AnyColumn", "ColumnSpec", "ConditionalColumn",
    "DatasetSpec", "TableSpec",
    "AggregateColumn", "LookupColumn", "PerParent", "ReferenceColumn",
    "build_spec", "load_file", "load_text", "column_order",
]
