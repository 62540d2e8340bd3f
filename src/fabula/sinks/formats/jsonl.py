"""JSON Lines: one JSON object per line, keys in the table's column order, UTF-8, `\\n` ends.

Nulls are `null` (every key is always present, so every line has the same shape); dates and
timestamps are ISO 8601 strings (`text.iso_text`); decimals are JSON numbers (`12.5`), which
readers may take as floats; booleans `true`/`false`; nested rows are JSON objects.
DuckDB writes the lines (fast and strict about escaping), one single-threaded connection per
part so that lines keep the rows' order.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from fabula.sinks.formats.text import plain_table

EXTENSION = "jsonl"


def write_jsonl(path: str, schema: pa.Schema, row_groups: Iterable[pa.Table]) -> int:
    """Write the row groups as one JSON Lines file at `path`; return the rows written.

    >>> import tempfile, os
    >>> t = pa.table({"id": [1, 2], "name": ['say "hi"', None]})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "t.jsonl")
    ...     write_jsonl(path, t.schema, [t])
    ...     print(open(path).read(), end="")
    2
    {"id":1,"name":"say \\"hi\\""}
    {"id":2,"name":null}
    """
    import duckdb

    plain_schema = plain_table(schema.empty_table()).schema
    rows = 0

    def batches():
        nonlocal rows
        for group in row_groups:
            rows += len(group)
            yield from plain_table(group).cast(plain_schema).to_batches()

    reader = pa.RecordBatchReader.from_batches(plain_schema, batches())
    connection = duckdb.connect(config={"threads": 1, "preserve_insertion_order": True})
    try:
        connection.register("part_rows", reader)
        connection.execute(f"COPY part_rows TO '{_quoted(path)}' (FORMAT JSON)")
    finally:
        connection.close()
    return rows


def _quoted(path: str) -> str:
    return path.replace("'", "''")
