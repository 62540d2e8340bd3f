"""What checks look at: the plan, the merged block summaries, and SQL over the written tables.

Set operations (key uniqueness, orphans, children before parents, aggregates) run in DuckDB
over the written Parquet files rather than over summaries: they need every key at once, and
DuckDB's hash joins and aggregates spill to disk, so a table larger than memory is checked
out of core, in parallel, without fabula holding any key. The same connection runs the
`expect:` queries, so a table is always the view of its files named after it — and, because a
spec's SQL is untrusted, it is the sandbox of `fabula.sandbox`: it sees the output's tables and
nothing else (no other file, no writes, no extensions, no settings).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fabula.plan.model import Plan
from fabula.sandbox import connect, folder_views, open_folder
from fabula.validate.statistics import Statistic


class Tables:
    """A sandboxed DuckDB connection with one view per table over its part files in `folder`.

    Spill files go to a private temporary folder, never into the output or the working folder."""

    def __init__(self, folder: Path, tables: list[str], clean: dict[str, Any] | None = None, *,
                 partitioned: dict | None = None):
        self._spill = tempfile.mkdtemp(prefix="fabula-duckdb-")
        try:
            if clean:  # defects (issue 14): damaged tables are seen as their clean rows (Arrow views)
                views = {**folder_views(folder, [name for name in tables if name not in clean],
                                        partitioned=partitioned), **clean}
                self.connection = connect(views, spill=self._spill)
            else:
                self.connection = open_folder(folder, tables, spill=self._spill, partitioned=partitioned)
        except BaseException:
            shutil.rmtree(self._spill, ignore_errors=True)
            raise

    def value(self, sql: str) -> Any:
        """The one value a query returns."""
        return self.connection.execute(sql).fetchone()[0]

    def rows(self, sql: str) -> list[tuple]:
        return self.connection.execute(sql).fetchall()

    def close(self) -> None:
        self.connection.close()
        shutil.rmtree(self._spill, ignore_errors=True)


@dataclass
class Evidence:
    """Everything the checks of one output read."""

    plan: Plan
    statistics: list[Statistic]
    states: dict[str, Any]
    rows: dict[str, int]
    folder: Path
    clean: Any = None
    """The clean rows of the damaged tables (`validate.defects.CleanView`), when the spec declares defects."""
    _tables: Tables | None = field(default=None, repr=False)

    def state(self, statistic: Statistic) -> Any:
        return self.states.get(statistic.key)

    def of_type(self, kind: type) -> list:
        return [statistic for statistic in self.statistics if isinstance(statistic, kind)]

    def sql(self) -> Tables:
        """DuckDB over the written files, opened on first use."""
        if self._tables is None:
            clean = self.clean
            self._tables = Tables(self.folder, [table.name for table in self.plan.tables],
                                  clean.views() if clean else None,
                                  partitioned={table.name: table.schema for table in self.plan.tables
                                               if table.partition_by})
        return self._tables

    def close(self) -> None:
        if self._tables is not None:
            self._tables.close()
            self._tables = None
