"""Parquet part files (also the data files of a Delta table)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from fabula.sinks.parquet_options import writer_options

EXTENSION = "parquet"


def write_parquet(path: str, schema: pa.Schema, row_groups: Iterable[pa.Table], *, compression: str = "snappy") -> int:
    """Write the row groups, one Parquet row group each; return the rows written. Per-column
    settings come from the first row group (`sinks/parquet_options.py`): low-cardinality strings,
    dates and integers dictionary-encoded, others plain; no min/max on dictionary strings."""
    groups = iter(row_groups)
    first = next(groups, None)
    rows = 0
    with pq.ParquetWriter(path, schema, compression=compression, **writer_options(schema, first)) as writer:
        for group in itertools.chain([first] if first is not None else [], groups):
            writer.write_table(group, row_group_size=max(len(group), 1))
            rows += len(group)
    return rows
