"""CSV: RFC 4180 text with a header row, UTF-8, `\\n` line ends; text fields always quoted.

Written by Arrow's CSV writer after `text.plain_table` has put dates and timestamps in ISO
8601 text; numbers and decimals are unquoted, exact digits; a null is an empty, unquoted field
(an empty string is `""`), so readers can tell the two apart; a nested value (a Debezium-style
`before`/`after`) is JSON text in one field.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO

import pyarrow as pa
import pyarrow.csv as pacsv

from fabula.sinks.formats.text import nested_as_json, plain_table

EXTENSION = "csv"


def write_csv(sink: str | BinaryIO, schema: pa.Schema, row_groups: Iterable[pa.Table]) -> int:
    """Write the row groups as one CSV file (header first); return the rows written.

    >>> import io
    >>> buffer = io.BytesIO()
    >>> t = pa.table({"id": [1, 2], "name": ["a, b", None]})
    >>> write_csv(buffer, t.schema, [t])
    2
    >>> buffer.getvalue().decode()
    '"id","name"\\n1,"a, b"\\n2,\\n'
    """
    plain_schema = _flat(plain_table(schema.empty_table())).schema
    options = pacsv.WriteOptions(include_header=True, quoting_style="needed")
    rows = 0
    with pacsv.CSVWriter(sink, plain_schema, write_options=options) as writer:
        for group in row_groups:
            writer.write_table(_flat(plain_table(group)).cast(plain_schema))
            rows += len(group)
    return rows


def _flat(table: pa.Table) -> pa.Table:
    return pa.table([nested_as_json(column) for column in table.columns], names=table.column_names)
