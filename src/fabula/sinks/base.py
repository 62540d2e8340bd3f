"""What an engine needs from a sink: open, write a part (from any thread), commit or abort."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Protocol

import pyarrow as pa

from fabula.plan.model import Plan, TablePlan


@dataclass(frozen=True)
class PartWritten:
    table: str
    part: int
    path: str
    rows: int
    bytes: int


class Sink(Protocol):
    """A destination. `write_part` may be called from several threads at once, for different
    parts; nothing is visible as complete until `commit`."""

    def open(self, plan: Plan) -> None: ...

    @property
    def staging(self) -> "Path | None":
        """Where the parts are while the output is not yet committed (validation reads them and
        writes its reports there), or None for a sink with no local folder."""

    def write_part(self, table: TablePlan, part: int, row_groups: Iterable[pa.Table]) -> PartWritten: ...

    def commit(self, manifest: dict[str, Any]) -> None: ...

    def abort(self) -> None: ...
