"""Arrow types as Spark holds them: the one place fabula maps its Arrow schemas to Spark's.

Spark has no dictionary type, no unsigned integers and only microsecond timestamps, so a block
is converted before Spark sees it: dictionary-encoded strings (categoricals, Faker pools) are
decoded to plain strings, timestamps widened to microseconds (exact), unsigned integers widened
to the next signed type. Values never change; only their Arrow encoding does. Timestamps
without a time zone (what fabula generates) become `TimestampNTZType`, so Spark neither shifts
nor reinterprets them by its session time zone.

>>> import pyarrow as pa
>>> spark_arrow_schema(pa.schema([("tier", pa.dictionary(pa.int32(), pa.string())),
...                               ("at", pa.timestamp("ms"))]))
tier: string
at: timestamp[us]
"""

from __future__ import annotations

import pyarrow as pa

from fabula.errors import UsageError

_SAME = (pa.types.is_boolean, pa.types.is_int8, pa.types.is_int16, pa.types.is_int32, pa.types.is_int64,
         pa.types.is_float32, pa.types.is_float64, pa.types.is_string, pa.types.is_binary,
         pa.types.is_date32, pa.types.is_null)

_WIDER = {pa.uint8(): pa.int16(), pa.uint16(): pa.int32(), pa.uint32(): pa.int64(), pa.float16(): pa.float32(),
          pa.large_string(): pa.string(), pa.large_binary(): pa.binary(), pa.date64(): pa.date32()}


def spark_arrow_type(arrow_type: pa.DataType, *, column: str = "") -> pa.DataType:
    """The Arrow type of a column as fabula hands it to Spark (what Spark's own Arrow
    conversion of the matching Spark type expects).

    >>> spark_arrow_type(pa.dictionary(pa.int32(), pa.string()))
    DataType(string)
    >>> spark_arrow_type(pa.uint32())
    DataType(int64)
    """
    if pa.types.is_dictionary(arrow_type):
        return spark_arrow_type(arrow_type.value_type, column=column)
    if any(check(arrow_type) for check in _SAME):
        return arrow_type
    if arrow_type in _WIDER:
        return _WIDER[arrow_type]
    if pa.types.is_timestamp(arrow_type):
        # Spark keeps zoned timestamps as UTC instants and zoneless ones as wall-clock values
        return pa.timestamp("us", tz="UTC" if arrow_type.tz else None)
    if pa.types.is_decimal128(arrow_type) and arrow_type.precision <= 38:
        return arrow_type
    raise UsageError(f"column {column or '?'} has the Arrow type {arrow_type}, which Spark cannot hold",
                     hint="give the column a type Spark has (int64, float64, string, bool, date, timestamp), "
                          "e.g. `type: int64` on a python column")


def spark_arrow_schema(schema: pa.Schema) -> pa.Schema:
    """The Arrow schema of the batches fabula hands Spark for a table of this schema."""
    return pa.schema([pa.field(field.name, spark_arrow_type(field.type, column=field.name), field.nullable)
                      for field in schema])


def for_spark(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """A block converted to `schema` (from `spark_arrow_schema`): the same values, encoded as
    Spark reads them. The cast is safe: a value that would change raises instead."""
    columns = [column.cast(field.type) if column.type != field.type else column
               for column, field in zip(batch.columns, schema, strict=True)]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def spark_type(arrow_type: pa.DataType, *, column: str = ""):
    """The Spark SQL type for a column of this Arrow type (pyspark must be installed)."""
    from pyspark.sql import types as T

    held = spark_arrow_type(arrow_type, column=column)
    if pa.types.is_timestamp(held):
        return T.TimestampType() if held.tz else T.TimestampNTZType()
    if pa.types.is_decimal128(held):
        return T.DecimalType(held.precision, held.scale)
    simple = {pa.bool_(): T.BooleanType, pa.int8(): T.ByteType, pa.int16(): T.ShortType,
              pa.int32(): T.IntegerType, pa.int64(): T.LongType, pa.float32(): T.FloatType,
              pa.float64(): T.DoubleType, pa.string(): T.StringType, pa.binary(): T.BinaryType,
              pa.date32(): T.DateType, pa.null(): T.NullType}
    return simple[held]()


def spark_schema(schema: pa.Schema):
    """The Spark schema (`StructType`) of a table with this Arrow schema."""
    from pyspark.sql import types as T

    return T.StructType([T.StructField(field.name, spark_type(field.type, column=field.name), field.nullable)
                         for field in schema])
