"""The contract between engines and destinations: open, write parts, stage reports, commit with
the manifest, or abort.

Both engines drive a sink the same way:

    sink.open(plan)                           # lock the target, check it, make a staging area
    writer = sink.part_writer()               # picklable: Spark executors write parts with it
    parts = written_files(writer.write(table, i, groups))  # from any thread or process, different parts
    entry = sink.stage_report("report.json", data)
    sink.commit(build_manifest(plan, parts, reports=[entry], engine=...))
    sink.abort()                              # on any failure: nothing visible, staging removed

Nothing is visible at the target until `commit`. A destination declares what it can do in
`capabilities`, so an engine or a command can refuse early what the destination cannot do.
The format-specific part of a folder destination is only `PartWriter`: "write these row
groups as one part file" (see `fabula.sinks.folder` for the reusable folder protocol). A part
of a table with `partition_by:` is one file in each partition folder its rows fall in, so its
writer returns several `PartWritten` (`written_files` takes either answer).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeGuard

import pyarrow as pa

from fabula.plan.model import Plan, TablePlan

if TYPE_CHECKING:
    from fabula.manifest import FileEntry, Manifest


@dataclass(frozen=True)
class PartWritten:
    """One part file as written: where (relative to the output), how many rows, its size and sha256."""

    table: str
    part: int
    path: str
    rows: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Capabilities:
    """What a destination can do."""

    atomic_commit: bool
    """The whole output appears at once (a rename) rather than file by file."""
    shared_staging: bool
    """Parts can be written from other processes or machines into the staging area (Spark
    executors), because they see the same path."""
    append: bool = False
    """Later runs can add to an existing output."""


Written = PartWritten | Sequence[PartWritten]
"""What writing a part gives: its file, or the files of a partitioned part (one per partition
folder, none when the part has no rows)."""


def written_files(written: Written) -> tuple[PartWritten, ...]:
    """The files a part writer wrote, whichever way it answered."""
    return (written,) if isinstance(written, PartWritten) else tuple(written)


class PartWriter(Protocol):
    """Writes one part file into a sink's staging area; picklable, so a Spark task can use it."""

    def write(self, table: TablePlan, part: int, row_groups: Iterable[pa.Table]) -> Written: ...


class Sink(Protocol):
    """A destination. `write_part` may be called from several threads at once, for different
    parts; nothing is visible as complete until `commit`."""

    capabilities: Capabilities
    output_format: str
    """What the manifest records as the files' format (e.g. "parquet")."""

    def open(self, plan: Plan) -> None: ...

    @property
    def staging(self) -> Path | None:
        """Where the parts are while the output is not yet committed (validation reads them
        there), or None for a sink with no local folder."""

    def part_writer(self) -> PartWriter: ...

    def write_part(self, table: TablePlan, part: int, row_groups: Iterable[pa.Table]) -> Written: ...

    def stage_report(self, name: str, data: bytes) -> FileEntry:
        """Put a report beside the data, to be committed with it; returns its manifest entry."""

    def commit(self, manifest: Manifest) -> None: ...

    def abort(self) -> None: ...


class TableWriter(Protocol):
    """What a sink that can hold tables made outside the plan has besides `Sink`. Optional: an
    engine asks for it only when the plan needs it, and refuses the run up front if the sink
    has none (`writes_tables`)."""

    def write_table(self, name: str, rows: pa.Table, *, description: str | None = None) -> PartWritten:
        """A table made outside the plan (a change feed, the `_defects` labels), in the sink's
        format, listed in the manifest at commit."""


def writes_tables(sink: Sink) -> TypeGuard[TableWriter]:
    """True if the sink has `write_table` (a folder or object store; not a Volume, not a
    Parquet-only sink)."""
    return callable(getattr(sink, "write_table", None))
