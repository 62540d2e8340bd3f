"""Labelled bad data (issue 14): defects injected at declared rates into the blocks the plan
makes, and a `_defects` table recording each one.

A layer beside `plan` (it reads plans, never engines or sinks): engines call `Injector.apply`
on every block after validation has seen it clean, and write `Injector.labels()` through their
sink as the `_defects` table; validation uses `clean_batches` to put the clean rows back.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from fabula.defects.batches import continue_rows
from fabula.defects.compile import LABELS_TABLE, TableDefects, compile_defects
from fabula.defects.drift import labels as drift_labels
from fabula.defects.inject import inject_block
from fabula.defects.labels import LABEL_SCHEMA, LabelCollector, clean_batches, labels_of
from fabula.plan.model import Plan


def has_defects(plan: Plan) -> bool:
    """Whether any table of the plan declares defects."""
    return any(getattr(table, "defects", ()) for table in plan.spec.tables.values())


Witness = Callable[[str, int, pa.RecordBatch, pa.Table, int], None]
"""Called with (table, block, the block as written, its labels, the written row number of its
first row) for every block of a table with labels, from block threads, in any order (e.g.
`Validation.witness`, which checks the labels against the rows while they are in memory)."""


class Injector:
    """One run's injection: the compiled defects and the labels gathered from every block."""

    def __init__(self, plan: Plan, tables: dict[str, TableDefects] | None = None, witness: Witness | None = None):
        """`tables` is `compile_defects(plan)` made before, for a caller that injects many runs
        of blocks with one plan (a Spark worker, part after part): compiled once, reused."""
        self.plan = plan
        self.tables: dict[str, TableDefects] = compile_defects(plan) if tables is None else tables
        self.collector = LabelCollector()
        self.witness = witness

    def apply(self, table: str, block: int, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The block as written; its labels are kept (thread-safe) and shown to the witness."""
        defects = self.tables.get(table)
        if defects is None:
            return batch
        dirty, labels = inject_block(self.plan, defects, block, batch)
        self.collector.add(table, block, labels)
        if self.witness is not None:
            self.witness(table, block, dirty, labels, defects.first_written(block))
        return dirty

    def labels(self) -> pa.Table:
        """Every label; in a batch appended to an output, `row` counts on from the rows the
        earlier batches wrote (`fabula.defects.batches`), as the manifest's row ranges do."""
        labels = continue_rows(self.plan, self.collector.table())
        drifted = [label for table in self.plan.tables for label in drift_labels(self.plan, table.name, table.schema)]
        if drifted:  # one per schema drift of this batch (no row: it is every row)
            labels = pa.concat_tables([labels, pa.Table.from_pylist(drifted, schema=LABEL_SCHEMA)])
        return labels


__all__ = ["Injector", "Witness", "has_defects", "compile_defects", "inject_block", "clean_batches", "labels_of",
           "LABEL_SCHEMA", "LABELS_TABLE", "TableDefects"]
