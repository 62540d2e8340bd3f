"""Delta Lake tables with the `deltalake` package (delta-rs): the data files are the Parquet
parts fabula writes anyway; at commit, one Delta transaction adds them all to the table's
`_delta_log` (a new table's first commit also holds its schema, name, description and column
comments). So a Delta output costs one small JSON file per table more than Parquet.

Delta's types are narrower than Arrow's: unsigned integers widen to the next signed type,
timestamps are stored in microseconds (`timestamp_ntz` when naive, `timestamp` with a zone),
and dictionary-encoded strings are plain strings in the schema (still dictionary-encoded
inside the Parquet files).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from fabula.errors import OutputError

INSTALL_HINT = "install it with: pip install 'fabula[delta]'"

_WIDER = {pa.uint8(): pa.int16(), pa.uint16(): pa.int32(), pa.uint32(): pa.int64(), pa.uint64(): pa.int64(),
          pa.float16(): pa.float32(), pa.large_string(): pa.string(), pa.large_binary(): pa.binary(),
          pa.date64(): pa.date32()}


def require_deltalake():
    try:
        import deltalake
    except ImportError:
        raise OutputError("--format delta needs the deltalake package, which is not installed",
                          hint=INSTALL_HINT) from None
    return deltalake


def delta_type(kind: pa.DataType) -> pa.DataType:
    """The Arrow type a Delta table stores for `kind` (dictionaries keep their encoding).

    >>> delta_type(pa.timestamp("ms")), delta_type(pa.uint32())
    (TimestampType(timestamp[us]), DataType(int64))
    """
    if pa.types.is_dictionary(kind):
        return pa.dictionary(kind.index_type, delta_type(kind.value_type))
    if pa.types.is_timestamp(kind):
        return pa.timestamp("us", tz=kind.tz)
    return _WIDER.get(kind, kind)


def delta_file_schema(schema: pa.Schema) -> pa.Schema:
    """The schema of the Parquet files of a Delta table for a table of `schema`."""
    return pa.schema([field.with_type(delta_type(field.type)) for field in schema])


def table_schema(schema: pa.Schema, descriptions: Mapping[str, str]) -> pa.Schema:
    """The Delta table's schema: plain types, and each column's description as its `comment`
    (the key Spark and Unity Catalog show as the column comment)."""
    fields = []
    for field in delta_file_schema(schema):
        kind = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        comment = descriptions.get(field.name)
        fields.append(pa.field(field.name, kind, metadata={"comment": comment} if comment else None))
    return pa.schema(fields)


def add_new_columns(table, schema) -> bool:
    """Schema evolution as `mergeSchema` does it: the columns of `schema` (a batch's, as
    `deltalake.Schema`) the Delta table lacks are added to it, nullable, so its older files read
    them as null; a column the batch no longer writes stays, null in the batch's rows. True when
    a column was added."""
    known = {field.name for field in table.schema().fields}
    new = [field for field in schema.fields if field.name not in known]
    if new:
        import deltalake

        table.alter.add_columns([deltalake.Field(field.name, field.type, nullable=True) for field in new])
    return bool(new)


@dataclass(frozen=True)
class DataFile:
    """A Parquet file of a Delta table, relative to the table's folder."""

    path: str
    rows: int
    bytes: int
    partition_values: Mapping[str, str | None]


def data_file(path: str, rows: int, size: int) -> DataFile:
    """A data file by its path in the table's folder; its partition values (if any) are in
    its folders' names (`region=West/part-00000.parquet`).

    >>> data_file("region=North%2FSouth/part-00000.parquet", 3, 100).partition_values
    {'region': 'North/South'}
    """
    from fabula.sinks.formats.partitions import folder_values

    return DataFile(path=path, rows=rows, bytes=size, partition_values=folder_values(path))


def commit_table(folder: Path, schema: pa.Schema, files: Sequence[DataFile], *, name: str,
                 description: str | None, descriptions: Mapping[str, str],
                 partition_by: Sequence[str] = (), append: bool = False,
                 storage_options: Mapping[str, str] | None = None, uri: str | None = None) -> None:
    """Add `files` (already written under `folder`) to the Delta table there in one commit:
    creating the table (schema, name, description, comments, partition columns), or, with
    `append`, adding to the existing one."""
    deltalake = require_deltalake()
    from deltalake.transaction import AddAction, create_table_with_add_actions

    location = uri or str(folder)
    delta_schema = deltalake.Schema.from_arrow(table_schema(schema, descriptions))
    # the path as it is on disk: deltalake writes it into the log as the URI Delta's protocol
    # asks for (a partition folder's `%2F` is `%252F` there)
    actions = [AddAction(path=file.path, size=file.bytes, partition_values=dict(file.partition_values),
                         modification_time=0, data_change=True,
                         stats=json.dumps({"numRecords": file.rows}))
               for file in files]
    options = dict(storage_options) if storage_options else None
    if append:
        table = deltalake.DeltaTable(location, storage_options=options)
        if add_new_columns(table, delta_schema):  # schema evolution (a drifted batch, issue 14)
            table = deltalake.DeltaTable(location, storage_options=options)
        table.create_write_transaction(actions, mode="append", schema=table.schema(),
                                       partition_by=list(partition_by) or None)
        return
    create_table_with_add_actions(location, delta_schema, actions, mode="error",
                                  partition_by=list(partition_by) or None, name=name,
                                  description=description, storage_options=options)
