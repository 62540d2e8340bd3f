"""Reading part files back as the table's Arrow types (for `validate` and the tests): the
inverse of each format's conventions, streamed a batch at a time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from fabula.sinks.formats.partitions import folder_values, with_partition_columns


def _text_type(kind: pa.DataType) -> pa.DataType:
    """What a CSV / JSON reader is asked for: temporal values as the ISO text they are in the
    file (cast afterwards), decimals as JSON numbers read as floats, dictionaries plain."""
    if pa.types.is_dictionary(kind):
        return _text_type(kind.value_type)
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        return pa.string()
    return kind


def _restore(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    import pyarrow.compute as pc

    columns = []
    for field in schema:
        column = batch.column(field.name)
        kind = field.type
        if pa.types.is_timestamp(kind) and kind.tz is not None:
            column = pc.cast(pc.replace_substring(column, "Z", ""), pa.timestamp(kind.unit)).cast(
                pa.timestamp(kind.unit, tz="UTC")).cast(kind)
        elif column.type != kind:
            column = pc.cast(column, kind)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def file_rows(path: str | Path) -> int:
    """The rows in one part file of any format."""
    path = str(path)
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    return sum(batch.num_rows for batch in _raw_batches(path, None))


def read_batches(path: str | Path, schema: pa.Schema | None = None, *,
                 batch_rows: int = 65_536) -> Iterator[pa.RecordBatch]:
    """The rows of one part file of any format; CSV and JSON Lines typed as `schema` (the
    table's planned schema) when given. A file in partition folders (`region=West/…`) gets the
    columns of `schema` it lacks back from its folders' names, in the schema's order."""
    path = str(path)
    partitions = _partition_values(path, schema)
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
            yield with_partition_columns(batch, schema, partitions) if partitions else batch
        return
    file_schema = pa.schema([field for field in schema if field.name not in partitions]) if schema else None
    for batch in _raw_batches(path, file_schema):
        if file_schema is not None:
            batch = _restore(batch, file_schema)
        yield with_partition_columns(batch, schema, partitions) if partitions else batch


def _partition_values(path: str, schema: pa.Schema | None) -> dict[str, str | None]:
    """The partition folders above the file that name columns of `schema`."""
    if schema is None or "=" not in path:
        return {}
    return {name: value for name, value in folder_values(Path(path).as_posix()).items() if name in schema.names}


def _raw_batches(path: str, schema: pa.Schema | None) -> Iterator[pa.RecordBatch]:
    text_schema = pa.schema([field.with_type(_text_type(field.type)) for field in schema]) if schema else None
    if path.endswith(".csv"):
        import pyarrow.csv as pacsv

        convert = pacsv.ConvertOptions(
            column_types=text_schema, strings_can_be_null=True, quoted_strings_can_be_null=False,
            null_values=[""]) if text_schema else None
        reader = pacsv.open_csv(path, convert_options=convert)
    elif path.endswith(".jsonl"):
        import pyarrow.json as pajson

        parse = pajson.ParseOptions(explicit_schema=text_schema) if text_schema else None
        reader = pajson.open_json(path, parse_options=parse)
    else:
        raise ValueError(f"no reader for {path}")
    yield from reader
