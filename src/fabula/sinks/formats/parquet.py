"""Parquet part files (also the data files of a Delta table)."""

from __future__ import annotations

from typing import Iterable

import pyarrow as pa
import pyarrow.parquet as pq

EXTENSION = "parquet"


def write_parquet(path: str, schema: pa.Schema, row_groups: Iterable[pa.Table], *, compression: str = "snappy") -> int:
    """Write the row groups, one Parquet row group each; return the rows written. Dictionary
    columns stay dictionary-encoded; others are written plain (faster than trying a dictionary
    on every column)."""
    dictionary_columns = [field.name for field in schema if pa.types.is_dictionary(field.type)]
    rows = 0
    with pq.ParquetWriter(path, schema, compression=compression,
                          use_dictionary=dictionary_columns or False) as writer:
        for group in row_groups:
            writer.write_table(group, row_group_size=max(len(group), 1))
            rows += len(group)
    return rows
