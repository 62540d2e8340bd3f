"""The output formats and how each writes one part file."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pyarrow as pa

from fabula.errors import UsageError
from fabula.sinks.choices import FORMATS

WriteFile = Callable[[str, pa.Schema, Iterable[pa.Table]], int]
"""Write row groups of `schema` as one file at a local path; return the rows written."""


@dataclass(frozen=True)
class PartFormat:
    """How one part file of a format is written."""

    name: str
    extension: str
    write: WriteFile
    file_schema: Callable[[pa.Schema], pa.Schema]
    """The schema of the written rows for a table of a given schema (Delta narrows types)."""

    def write_whole(self, path: Path, schema: pa.Schema, row_groups: Iterable[pa.Table]) -> int:
        """`write` into a hidden temporary file beside `path`, renamed into place once complete,
        so a reader or a killed run never finds half a file at `path`; the rows written."""
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            rows = self.write(str(temporary), schema, row_groups)
            os.replace(temporary, path)
        finally:
            if temporary.exists():
                temporary.unlink()
        return rows


def _same(schema: pa.Schema) -> pa.Schema:
    return schema


def part_format(name: str, *, compression: str = "snappy") -> PartFormat:
    """The part writer of format `name` (`compression` applies to Parquet and Delta).

    >>> part_format("json").extension
    'jsonl'
    """
    from fabula.sinks.formats.csv import write_csv
    from fabula.sinks.formats.delta import delta_file_schema
    from fabula.sinks.formats.jsonl import write_jsonl
    from fabula.sinks.formats.parquet import write_parquet

    parquet = partial(write_parquet, compression=compression)
    if name == "parquet":
        return PartFormat("parquet", "parquet", parquet, _same)
    if name == "delta":
        return PartFormat("delta", "parquet", parquet, delta_file_schema)
    if name == "csv":
        return PartFormat("csv", "csv", write_csv, _same)
    if name == "json":
        return PartFormat("json", "jsonl", write_jsonl, _same)
    raise UsageError(f"unknown output format {name!r}", hint=f"use one of: {', '.join(FORMATS)}")
