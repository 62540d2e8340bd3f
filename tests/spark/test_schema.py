"""Arrow ↔ Spark types, in the one place fabula maps them: every type fabula can produce reaches
Spark and comes back with the same values."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest
from spark.compare import as_spark_holds

from fabula.engine.spark_schema import spark_arrow_schema, spark_arrow_type, spark_schema, spark_type
from fabula.errors import UsageError

DICTIONARY_STRING = pa.dictionary(pa.int32(), pa.string())

COLUMNS = {  # name: (Arrow type, values)
    "categorical": (DICTIONARY_STRING, ["Free", None, "Pro"]),
    "numbers_in_a_dictionary": (pa.dictionary(pa.int8(), pa.int64()), [5, 1, None]),
    "text": (pa.string(), ["a", "", None]),
    "long_text": (pa.large_string(), ["x" * 3, None, "é"]),
    "int64": (pa.int64(), [2**62, -1, None]),
    "int32": (pa.int32(), [1, None, -2**31]),
    "int16": (pa.int16(), [1, 2, None]),
    "int8": (pa.int8(), [-128, 0, None]),
    "uint8": (pa.uint8(), [255, 0, None]),
    "uint16": (pa.uint16(), [65535, 0, None]),
    "uint32": (pa.uint32(), [2**32 - 1, 0, None]),
    "float64": (pa.float64(), [1.5, -0.0, None]),
    "float32": (pa.float32(), [1.5, 2.25, None]),
    "bool": (pa.bool_(), [True, False, None]),
    "date": (pa.date32(), [date(2024, 2, 29), date(1969, 12, 31), None]),
    "seconds": (pa.timestamp("s"), [datetime(2024, 1, 1, 12, 30, 5), None, datetime(1960, 5, 1)]),
    "millis": (pa.timestamp("ms"), [datetime(2024, 1, 1, 0, 0, 0, 123000), None, datetime(2030, 1, 1)]),
    "micros": (pa.timestamp("us"), [datetime(2024, 1, 1, 0, 0, 0, 123456), None, datetime(2030, 1, 1)]),
    "zoned": (pa.timestamp("us", tz="UTC"), [datetime(2024, 6, 1, 8, 0), None, datetime(2000, 1, 1)]),
    "money": (pa.decimal128(12, 2), [Decimal("12.50"), None, Decimal("-0.01")]),
    "bytes": (pa.binary(), [b"\x00\xff", None, b""]),
}


def every_type_batch() -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array(values, type=arrow_type) for arrow_type, values in COLUMNS.values()],
                                      names=list(COLUMNS))


def test_held_types():
    schema = spark_arrow_schema(every_type_batch().schema)
    held = dict(zip(schema.names, schema.types))
    assert held["categorical"] == pa.string()
    assert held["numbers_in_a_dictionary"] == pa.int64()
    assert held["long_text"] == pa.string()
    assert held["uint8"] == pa.int16() and held["uint16"] == pa.int32() and held["uint32"] == pa.int64()
    assert held["seconds"] == held["millis"] == held["micros"] == pa.timestamp("us")
    assert held["zoned"] == pa.timestamp("us", tz="UTC")
    assert held["money"] == pa.decimal128(12, 2)


def test_spark_types():
    from pyspark.sql import types as T

    assert spark_type(DICTIONARY_STRING) == T.StringType()
    assert spark_type(pa.timestamp("ms")) == T.TimestampNTZType()  # wall-clock: never shifted by a time zone
    assert spark_type(pa.timestamp("us", tz="UTC")) == T.TimestampType()
    assert spark_type(pa.date32()) == T.DateType()
    assert spark_type(pa.int64()) == T.LongType()
    assert spark_type(pa.decimal128(12, 2)) == T.DecimalType(12, 2)


def test_spark_agrees_with_the_held_arrow_types():
    """Spark's own Arrow conversion of each Spark type is the Arrow type fabula hands it."""
    from pyspark.sql.pandas.types import to_arrow_schema

    schema = every_type_batch().schema
    assert to_arrow_schema(spark_schema(schema), timezone="UTC") == spark_arrow_schema(schema)


def test_unsupported_type_names_the_column_and_a_fix():
    with pytest.raises(UsageError, match=r"column waited .*duration\[s\].*Spark cannot hold") as raised:
        spark_arrow_type(pa.duration("s"), column="waited")
    assert "hint:" in str(raised.value)
    with pytest.raises(UsageError, match="uint64"):
        spark_schema(pa.schema([("big", pa.uint64())]))


def test_every_type_round_trips_through_spark(spark):
    """A batch of every type through `mapInArrow` and back: the same values, in Spark's encoding."""
    from fabula.engine.spark_schema import for_spark

    batch = every_type_batch()
    converted = for_spark(batch, spark_arrow_schema(batch.schema))

    def emit(_batches):  # a nested function: Spark ships it, and the batch, by value
        for _ in _batches:
            yield converted

    zone = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")  # zoned values must not move
    try:
        back = spark.range(0, 1, 1, 1).mapInArrow(emit, spark_schema(batch.schema)).toArrow()
    finally:
        spark.conf.set("spark.sql.session.timeZone", zone)
    expected = as_spark_holds(pa.Table.from_batches([batch]), batch.schema)
    assert back.cast(expected.schema).equals(expected)
    assert back.to_pylist() == expected.to_pylist()
