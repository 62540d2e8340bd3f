"""The plan: a frozen, picklable description of exactly what to generate.

Everything random is already addressed (seed, names), every relative date resolved, every pool
built, every per-parent table sized, so an engine only has to run `plan.block(table, block)` for
every block and hand the rows to a sink. The plan is finished when `compile_plan` returns it:
nothing is assigned to it afterwards (its `relations` only memoise what they compute).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

import pyarrow as pa

from fabula.generators.base import Generator
from fabula.plan.blocks import generate_block, generate_columns
from fabula.plan.explain import explain
from fabula.plan.relations import PlanRelations
from fabula.spec.model import DatasetSpec
from fabula.story import Story

BLOCK_ROWS = 65_536
"""Rows per logical block: the unit of randomness. Changing it changes every value."""

BLOCKS_PER_ROW_GROUP = 4
"""Blocks per Parquet row group (262,144 rows): big enough for scans, small enough for memory."""

BLOCKS_PER_FILE = 16
"""Blocks per part file (about 1M rows): the unit of parallel work and of output files."""


@dataclass(frozen=True)
class ColumnPlan:
    name: str
    generator: Generator
    depends_on: tuple[str, ...]
    output: bool = True
    """False for the hidden columns relations compute (parent rows, counts, parents' values)."""

    @property
    def arrow_type(self) -> pa.DataType:
        return self.generator.arrow_type


@dataclass(frozen=True)
class TablePlan:
    name: str
    rows: int
    columns: tuple[ColumnPlan, ...]
    """Output columns in declared order, then the hidden ones."""
    order: tuple[str, ...]
    """The order to compute columns in: dependencies first."""
    block_rows: int = BLOCK_ROWS
    per: str | None = None
    """The parent table when this table's rows are defined per parent row."""
    partition_by: tuple[str, ...] = ()
    """Columns whose values name the Hive-style partition folders its files are written in
    (they are in the folder names, not in the files)."""

    @property
    def outputs(self) -> tuple[ColumnPlan, ...]:
        return tuple(column for column in self.columns if column.output)

    @property
    def n_blocks(self) -> int:
        return -(-self.rows // self.block_rows)

    def block_span(self, block: int) -> tuple[int, int]:
        """(first row id, row count) of a block."""
        start = block * self.block_rows
        return start, min(self.block_rows, self.rows - start)

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(column.name, column.arrow_type) for column in self.outputs])

    def column(self, name: str) -> ColumnPlan:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


@dataclass(frozen=True)
class Layout:
    """How blocks are grouped into files and row groups: fixed by the plan, never by workers."""

    blocks_per_file: int = BLOCKS_PER_FILE
    blocks_per_row_group: int = BLOCKS_PER_ROW_GROUP

    def parts(self, table: TablePlan) -> list[range]:
        """The blocks of each part file, in order (an empty table still gets one empty part)."""
        if table.n_blocks == 0:
            return [range(0)]
        return [range(first, min(first + self.blocks_per_file, table.n_blocks))
                for first in range(0, table.n_blocks, self.blocks_per_file)]


@dataclass(frozen=True)
class Plan:
    name: str
    seed: int
    as_of: date
    scale: float
    spec_hash: str
    tables: tuple[TablePlan, ...]
    spec: DatasetSpec
    relations: PlanRelations
    """Per-parent prefix sums and the materialised parent columns references read."""
    story: Story
    """The resolved timelines and events."""
    table_order: tuple[str, ...] = ()
    """Parents before children (what `fabula plan` shows; blocks of any table are independent)."""
    layout: Layout = Layout()
    earlier: tuple[Plan, ...] = ()
    """When this plan is a batch appended to an output (formats, issue 13), the plans of the
    batches before it, oldest first: its references may name their rows too (`PlanReader`)."""

    def table(self, name: str) -> TablePlan:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)

    @property
    def total_rows(self) -> int:
        return sum(table.rows for table in self.tables)

    def block(self, table: TablePlan | str, block: int) -> pa.RecordBatch:
        """The rows of one block of one table (see `blocks.generate_block`)."""
        table = self.table(table) if isinstance(table, str) else table
        return generate_block(self, table, block)

    def columns(self, table: TablePlan | str, block: int, names: Iterable[str]) -> dict[str, pa.Array]:
        """Some columns of one block, hidden ones included, and only what they read."""
        table = self.table(table) if isinstance(table, str) else table
        return generate_columns(self, table, block, names)

    def without_materialised(self) -> Plan:
        """The same plan with an empty memo of materialised parent columns: smaller to ship,
        recomputed on first use, the same data."""
        return replace(self, relations=self.relations.without_materialised())

    def explain(self, *, width: int = 120) -> str:
        """What `fabula plan` shows, as plain text."""
        return explain(self, width=width)
