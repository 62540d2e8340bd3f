"""Schema drift (issue 14; the spec side is `fabula.spec.drift`): the written schema of a table
changed from one appended batch on, and the way back to the spec's schema for validation.

Drift is applied where a batch's rows are written (`fabula.sinks.files`): every block is made
and damaged as without it, then the part's row groups get the drifted schema — a column added
(a constant, `value:`), renamed (`name:`) or retyped (`to: string`). A batch's
number is how many batches its plan is built on (`len(plan.earlier)`), so the writer, the
labels and validation agree on which drifts a batch has without being told.

Each drift active in a batch is labelled once (`labels`): the table, the column, kind `drift`,
the form, no key, as `row` the batch's first row of the table (the drift holds for every row of
the batch from there), and as `original` what the column was: its name and type before
(`amount: double`), or nothing for an added column.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from fabula.plan.model import Plan

_TYPES = {"string": pa.string()}


@dataclass(frozen=True)
class Drift:
    """One declared drift, in plain values (it travels to the part writers)."""

    form: str
    column: str
    from_batch: int
    name: str | None = None
    to: str | None = None
    value: Any = None


def batch_number(plan: Plan) -> int:
    """The batch `plan` writes: 0 for `generate` and a first append, else how many come before."""
    return len(plan.earlier)


def declared(plan: Plan, table: str) -> tuple[Drift, ...]:
    """Every drift the table declares, in declared order."""
    spec = plan.spec.tables.get(table)
    return tuple(Drift(defect.form, defect.column, defect.from_batch, defect.name, defect.to, defect.value)
                 for defect in (getattr(spec, "defects", ()) or ()) if defect.is_drift)


def active(plan: Plan, table: str, batch: int | None = None) -> tuple[Drift, ...]:
    """The drifts of `table` in `batch` (default: the batch `plan` writes)."""
    batch = batch_number(plan) if batch is None else batch
    return tuple(drift for drift in declared(plan, table) if batch >= drift.from_batch)


def has_drift(plan: Plan) -> bool:
    return any(declared(plan, table.name) for table in plan.tables)


def drifted_schema(schema: pa.Schema, drifts: Iterable[Drift]) -> pa.Schema:
    """The schema a batch writes: `schema` with each drift applied, in order."""
    fields = list(schema)
    for drift in drifts:
        names = [field.name for field in fields]
        if drift.form == "added":
            fields.append(pa.field(drift.column, _added_type(drift)))
        elif drift.form == "renamed":
            fields[names.index(drift.column)] = fields[names.index(drift.column)].with_name(drift.name)
        else:
            fields[names.index(drift.column)] = fields[names.index(drift.column)].with_type(_TYPES[drift.to or ""])
    return pa.schema(fields)


def apply_drift(rows: pa.Table, drifts: Iterable[Drift]) -> pa.Table:
    """`rows` (the spec's schema) as a drifted batch writes them."""
    for drift in drifts:
        if drift.form == "added":
            rows = rows.append_column(pa.field(drift.column, _added_type(drift)),
                                      pa.array([drift.value] * rows.num_rows, _added_type(drift)))
        elif drift.form == "renamed":
            rows = rows.rename_columns([drift.name if name == drift.column else name for name in rows.column_names])
        else:
            index = rows.schema.get_field_index(drift.column)
            column = rows.column(index)
            if pa.types.is_dictionary(column.type):
                column = column.cast(column.type.value_type)
            target = _TYPES[drift.to or ""]  # the spec allows only the types `_TYPES` knows
            rows = rows.set_column(index, pa.field(drift.column, target), _retyped(column, target))
    return rows


def undo_drift(rows: pa.Table, drifts: Iterable[Drift], schema: pa.Schema) -> pa.Table:
    """Drifted rows back in the spec's `schema` (what validation checks): added columns
    dropped, renamed ones named back, retyped ones cast back (text of a value casts back to it)."""
    for drift in reversed(tuple(drifts)):
        if drift.form == "added":
            rows = rows.drop_columns([drift.column])
        elif drift.form == "renamed":
            rows = rows.rename_columns([drift.column if name == drift.name else name for name in rows.column_names])
    return rows.select(schema.names).cast(schema)


def labels(plan: Plan, table: str, schema: pa.Schema) -> list[dict[str, Any]]:
    """One label per drift active in `plan`'s batch (the columns of `LABEL_SCHEMA`)."""
    from fabula.defects.batches import rows_before

    found = []
    for drift in active(plan, table):
        before = schema.field(drift.column) if drift.form != "added" else None
        original = f"{before.name}: {before.type}" if before is not None else None
        found.append({"table": table, "column": drift.column, "kind": "drift", "form": drift.form, "key": None,
                      "row": rows_before(plan, table), "original": original})
    return found


def _added_type(drift: Drift) -> pa.DataType:
    if drift.value is None:
        return pa.string()
    return pa.array([drift.value]).type


def _retyped(column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    from fabula.defects.labels import as_text

    return pa.chunked_array([as_text(chunk) for chunk in column.chunks], target)


__all__ = ["Drift", "active", "apply_drift", "batch_number", "declared", "drifted_schema", "has_drift", "labels",
           "undo_drift"]
