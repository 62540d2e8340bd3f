"""A table's declared defects, checked against the plan's types and made ready to inject.

The spec layer checks what the spec alone shows (`fabula.spec.defects`); here the columns have
Arrow types, so a kind that cannot apply to one (an outlier in a text column, a placeholder that
is not a number in a number column) is refused with the same kind of issue. Also fixed here,
once per table: how many rows each block gains from duplicates, so any block knows the row
number it starts at in the written table without looking at another block.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa

from fabula.defects.deletion import Deletion
from fabula.defects.follows import followed_name
from fabula.errors import Issue, SpecError
from fabula.plan.model import Plan, TablePlan
from fabula.spec.defects import DefectSpec
from fabula.spec.relations import ReferenceColumn
from fabula.streams import rng_for

LABELS_TABLE = "_defects"
"""The table of labels beside the data (a `_` name: never a spec's table, skipped by readers)."""


def value_type(kind: pa.DataType) -> pa.DataType:
    return kind.value_type if pa.types.is_dictionary(kind) else kind


def is_text(kind: pa.DataType) -> bool:
    kind = value_type(kind)
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def is_number(kind: pa.DataType) -> bool:
    kind = value_type(kind)
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)


def is_time(kind: pa.DataType) -> bool:
    kind = value_type(kind)
    return pa.types.is_date(kind) or pa.types.is_timestamp(kind)


_NEEDS = {  # kind or (kind, form) → (what the column must be, test)
    "outlier": ("a number", is_number),
    "negative": ("a signed number",
                 lambda kind: is_number(kind) and not pa.types.is_unsigned_integer(value_type(kind))),
    "future": ("a date or time", is_time),
    "late": ("a date or time", is_time),
    "before_parent": ("a date or time", is_time),
    "malformed": ("text", is_text),
    ("missing", "empty"): ("text", is_text),
}


@dataclass(frozen=True)
class Defect:
    """One declared defect, resolved against the plan."""

    spec: DefectSpec
    table: str
    stream: tuple
    """The names of its random stream (the block is added per block)."""
    arrow_type: pa.DataType | None
    """The damaged column's type (None for whole-row kinds)."""
    follows: str | None = None
    """For `before_parent`: the plan column the damaged one follows (its `after:`)."""

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def form(self) -> str | None:
        return self.spec.chosen_form

    @property
    def column(self) -> str | None:
        return self.spec.column

    def rng(self, seed: int, block: int) -> np.random.Generator:
        return rng_for(seed, *self.stream, block)


@dataclass(frozen=True)
class TableDefects:
    """The defects of one table, in declared order, and where each block lands once rows are added."""

    table: TablePlan
    defects: tuple[Defect, ...]
    seed: int
    key: str | None
    """The table's own key column (labels carry it), if it has one."""
    parents: tuple[tuple[str, str, str], ...] = ()
    """(column, parent table, parent key column) of each reference an orphan damages."""
    deletion: Deletion | None = None
    """The rows this table's `deleted` removes, if it declares it."""
    deleted_parents: tuple[tuple[str, Deletion], ...] = ()
    """(reference column, the parent's deletion) of each written reference to a table with
    deleted rows: the rows pointing at one are labelled orphans (form deleted)."""

    @property
    def row_defects(self) -> tuple[Defect, ...]:
        return tuple(defect for defect in self.defects if defect.spec.adds_rows)

    def deleted_in(self, block: int) -> np.ndarray | None:
        """Which rows of a block `deleted` removes (None without it)."""
        if self.deletion is None:
            return None
        start, n = self.table.block_span(block)
        return self.deletion.deleted(np.arange(start, start + n, dtype=np.int64))

    def added_counts(self, block: int, deleted: np.ndarray | None = None) -> list[int]:
        """How many rows each whole-row defect adds to a block: a binomial draw, the first of
        its stream, capped by the rows earlier ones and deletions left (a row is copied at most
        once, a deleted one never), so it is known without making the block."""
        _, n = self.table.block_span(block)
        if deleted is None:
            deleted = self.deleted_in(block)
        counts, free = [], n - (int(np.count_nonzero(deleted)) if deleted is not None else 0)
        for defect in self.row_defects:
            count = min(int(defect.rng(self.seed, block).binomial(n, defect.spec.rate)), free)
            counts.append(count)
            free -= count
        return counts

    @cached_property
    def added_before(self) -> np.ndarray:
        """Rows added (less rows deleted) before each block, and in all at the end: the offset of
        each block's first row in the written table is its first row id plus this."""
        per_block = []
        for block in range(self.table.n_blocks):
            deleted = self.deleted_in(block)
            removed = int(np.count_nonzero(deleted)) if deleted is not None else 0
            per_block.append(sum(self.added_counts(block, deleted)) - removed)
        return np.concatenate([[0], np.cumsum(per_block, dtype=np.int64)]).astype(np.int64)

    def first_written(self, block: int) -> int:
        """The written row number of a block's first written row."""
        return self.table.block_span(block)[0] + int(self.added_before[block])

    @property
    def written_rows(self) -> int:
        return self.table.rows + int(self.added_before[-1])


def compile_defects(plan: Plan) -> dict[str, TableDefects]:
    """Every table's defects, or SpecError naming each one that cannot apply to its column."""
    compiled: dict[str, TableDefects] = {}
    issues: list[Issue] = []
    deletions = deletions_of(plan)
    for table in plan.tables:
        spec = plan.spec.tables.get(table.name)
        declared = tuple(getattr(spec, "defects", ()) or ()) if spec is not None else ()
        deleted_parents = references_to_deleted(plan, table.name, deletions)
        if not declared and not deleted_parents:
            continue
        seen: dict[tuple, int] = {}
        defects, parents = [], []
        for index, defect in enumerate(declared):
            if defect.is_drift:
                continue  # a change of the written schema, not of rows (fabula.defects.drift)
            path = f"tables.{table.name}.defects.{index}"
            arrow_type = table.column(defect.column).arrow_type if defect.column else None
            need = _NEEDS.get((defect.kind, defect.chosen_form)) or _NEEDS.get(defect.kind)
            if need is not None and arrow_type is not None and not need[1](arrow_type):
                issues.append(Issue("bad-value", f"{path}.column",
                                    f"`{defect.kind}` needs {need[0]}, and `{defect.column}` is {arrow_type}",
                                    hint="name a column of that type, or choose another kind"))
                continue
            if defect.value is not None and arrow_type is not None and not _castable(defect.value, arrow_type):
                issues.append(Issue("bad-value", f"{path}.value",
                                    f"`{defect.value}` cannot be written in `{defect.column}` ({arrow_type})",
                                    hint="give a value of the column's type, e.g. -999.99 for a number"))
                continue
            names = (table.name, "defects", defect.column or "*", defect.kind, defect.chosen_form or "")
            seen[names] = seen.get(names, -1) + 1  # the same defect twice gets a stream of its own
            follows = followed_name(plan, table.name, defect.column) if defect.kind == "before_parent" else None
            defects.append(Defect(defect, table.name, (*names, seen[names]), arrow_type, follows))
            if defect.kind == "orphan":
                assert spec is not None and defect.column is not None, "declared on this table, with its column"
                reference = spec.columns[defect.column]
                assert isinstance(reference, ReferenceColumn), "the spec refuses an orphan on another kind"
                parent_table, parent_key = reference.to.split(".")
                parents.append((defect.column, parent_table, parent_key))
        compiled[table.name] = TableDefects(table, tuple(defects), plan.seed, key_column(plan, table),
                                            tuple(parents), deletions.get(table.name), deleted_parents)
    if issues:
        raise SpecError(issues)
    return compiled


def deletions_of(plan: Plan) -> dict[str, Deletion]:
    """table → the rows its `deleted` removes, for each table that declares it."""
    found = {}
    for name, spec in plan.spec.tables.items():
        for defect in getattr(spec, "defects", ()) or ():
            if defect.removes_rows:
                stream = (name, "defects", "*", defect.kind, defect.chosen_form or "", 0)
                found[name] = Deletion.of(plan.seed, name, defect.rate, stream)
    return found


def references_to_deleted(plan: Plan, table: str, deletions: dict[str, Deletion]) -> tuple[tuple[str, Deletion], ...]:
    """(column, the parent's deletion) of each written reference of `table` to a table with deleted rows."""
    spec = plan.spec.tables.get(table)
    if spec is None or not deletions:
        return ()
    return tuple((name, deletions[column.parent[0]]) for name, column in spec.columns.items()
                 if isinstance(column, ReferenceColumn) and not column.hidden and column.parent[0] in deletions)


def labelled_tables(plan: Plan) -> list[str]:
    """The tables that get labels: those declaring defects, and those referring to a table
    with deleted rows (their orphans are labelled), in the plan's order."""
    deletions = deletions_of(plan)
    return [table.name for table in plan.tables
            if getattr(plan.spec.tables.get(table.name), "defects", ())
            or references_to_deleted(plan, table.name, deletions)]


def key_column(plan: Plan, table: TablePlan) -> str | None:
    spec = plan.spec.tables[table.name]
    for column in table.outputs:
        column_spec = spec.columns.get(column.name)
        if column_spec is not None and getattr(column_spec, "key", False) and column_spec.kind != "reference":
            return column.name
    return None


def _castable(value, arrow_type: pa.DataType) -> bool:
    try:
        pa.array([value]).cast(value_type(arrow_type))
    except (pa.ArrowException, TypeError, ValueError):
        try:
            pa.array([str(value)]).cast(value_type(arrow_type))
        except (pa.ArrowException, TypeError, ValueError):
            return False
    return True
