"""Arrow columns as the text that CSV and JSON Lines carry, vectorised with Arrow compute.

The conventions (docs/formats.md#conventions):
- dictionary-encoded strings are written as their values;
- dates as ISO 8601 `2024-12-31`;
- timestamps as ISO 8601 with a `T`, fractional digits for the column's unit (none for
  seconds, 3 for ms, 6 for µs, 9 for ns), no offset for a naive timestamp (fabula's default:
  wall-clock time of the dataset) and `Z` for one with a time zone, after conversion to UTC;
- decimals as their exact digits (`1.50` in CSV; a JSON number in JSON Lines, which readers
  may take as a float);
- durations as a whole number of the column's unit (the column name does not carry it, so the
  docs say so);
- nested rows (a Debezium-style `before`/`after`) as JSON objects: nested in JSON Lines, as
  JSON text in one CSV field;
- nulls as an empty field in CSV and `null` in JSON.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


def decoded(array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A dictionary column as its plain values; any other column unchanged."""
    if pa.types.is_dictionary(array.type):
        return pc.cast(array, array.type.value_type)
    return array


def iso_text(array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Dates and timestamps as ISO 8601 text; other types unchanged.

    >>> import datetime as dt
    >>> iso_text(pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 600000), None], pa.timestamp("ms"))).to_pylist()
    ['2024-01-02T03:04:05.600', None]
    >>> iso_text(pa.array([dt.date(2024, 1, 2)])).to_pylist()
    ['2024-01-02']
    """
    kind = array.type
    if pa.types.is_date(kind):
        return pc.strftime(pc.cast(array, pa.timestamp("s")), format="%Y-%m-%d")
    if pa.types.is_timestamp(kind):
        utc = kind.tz is not None
        if utc:  # the instant in UTC, then written with a Z
            array = pc.cast(array, pa.timestamp(kind.unit, tz="UTC")).cast(pa.timestamp(kind.unit))
        # strftime's %S carries the unit's fraction ("05.600" for ms), exactly as stored
        text = pc.strftime(array, format="%Y-%m-%dT%H:%M:%S")
        return pc.binary_join_element_wise(text, pa.scalar("Z"), "") if utc else text
    if pa.types.is_duration(kind):
        return pc.cast(array, pa.int64())
    if pa.types.is_struct(kind):  # a Debezium-style `before` / `after`: its fields follow the same rules
        if isinstance(array, pa.ChunkedArray):
            return pa.chunked_array([iso_text(chunk) for chunk in array.chunks],
                                    type=iso_text(pa.nulls(0, kind)).type)
        children = [iso_text(decoded(array.field(index))) for index in range(kind.num_fields)]
        return pa.StructArray.from_arrays(children, names=[field.name for field in kind],
                                          mask=pc.is_null(array) if array.null_count else None)
    return array


def nested_as_json(array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A struct column as one JSON object per value (CSV has no nested values); null stays null."""
    if not pa.types.is_struct(array.type):
        return array
    import json

    return pa.array([None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
                     for value in array.to_pylist()], pa.string())


def plain_table(table: pa.Table) -> pa.Table:
    """Every column decoded, and dates, timestamps and durations as `iso_text` makes them."""
    return pa.table([iso_text(decoded(column)) for column in table.columns], names=table.column_names)
