"""Comparing a table from Spark with the local engine's, value by value and in order."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from fabula.engine.spark_schema import for_spark, spark_arrow_schema


def read_folder(folder: Path, schema: pa.Schema) -> pa.Table:
    import pyarrow.parquet as pq

    files = sorted(folder.glob("part-*.parquet"))
    return pa.concat_tables([pq.read_table(path) for path in files]) if files else schema.empty_table()


def as_spark_holds(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """A local table in the encoding Spark gives it (see fabula.engine.spark_schema)."""
    target = spark_arrow_schema(schema)
    return pa.Table.from_batches([for_spark(batch, target) for batch in table.to_batches()], schema=target)


def assert_same_rows(local: pa.Table, other: pa.Table, schema: pa.Schema, what: str) -> None:
    """The same values in the same order; on failure, name the first differing column and row."""
    expected = as_spark_holds(local, schema)
    assert other.column_names == expected.column_names, f"{what}: columns differ"
    other = other.cast(expected.schema)
    assert other.num_rows == expected.num_rows, f"{what}: {other.num_rows} rows, the local engine has {expected.num_rows}"
    for name in expected.column_names:
        if not other.column(name).equals(expected.column(name)):
            got, want = other.column(name).to_pylist(), expected.column(name).to_pylist()
            row = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), None)
            where = f"first at row {row}: {got[row]!r} vs local {want[row]!r}" if row is not None else "(encoding)"
            pytest.fail(f"{what}: column {name} differs {where}")
