"""Parquet writer settings per column: dictionary encoding only where values repeat, and
statistics only where a reader can use them.

Measured on `saas_support` (bench/profile_story.py): the writer is about a quarter of a run's
CPU, mostly Snappy over plain values. A column with few distinct values compresses far better
and faster as dictionary indices, so dates (a few hundred days), low-cardinality integers
(scores, counts) and the already dictionary-encoded strings are written that way; everything
else plain, since trying a dictionary on ids, amounts or timestamps only costs a hash table
the writer then abandons. Min/max statistics are skipped for dictionary-encoded strings
(categories): a row group holds every category, so their range never prunes anything, and
computing it doubled those columns' write time.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

FEW_VALUES = 1 / 16
"""An integer column gets a dictionary when its first row group has at most this share of
distinct values (the writer falls back to plain by itself if later groups have many more)."""


def writer_options(schema: pa.Schema, sample: pa.Table | None) -> dict:
    """`use_dictionary` and `write_statistics` for `pq.ParquetWriter`, from the schema and the
    part's first row group (None when it has none).

    >>> options = writer_options(pa.schema([("day", pa.date32()), ("amount", pa.float64())]), None)
    >>> options["use_dictionary"], options["write_statistics"]
    (['day'], ['day', 'amount'])
    """
    dictionary, statistics = [], []
    for field in schema:
        kind = field.type
        if pa.types.is_dictionary(kind) or pa.types.is_date32(kind) or (
                pa.types.is_integer(kind) and sample is not None and _few_values(sample.column(field.name))):
            dictionary.append(field.name)
        if not (pa.types.is_dictionary(kind) and pa.types.is_string(kind.value_type)):
            statistics.append(field.name)
    return {"use_dictionary": dictionary or False, "write_statistics": statistics or False}


def _few_values(column: pa.ChunkedArray) -> bool:
    rows = len(column)
    return rows > 0 and pc.count_distinct(column).as_py() <= max(1, int(rows * FEW_VALUES))
