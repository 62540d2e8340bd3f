"""Each format's conventions for dates, timestamps, decimals and nulls (docs/formats.md)."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json

import pyarrow as pa
import pytest

from fabula.sinks.formats.csv import write_csv
from fabula.sinks.formats.jsonl import write_jsonl
from fabula.sinks.formats.read import read_batches

TABLE = pa.table({
    "id": pa.array([1, 2, 3], pa.int64()),
    "day": pa.array([dt.date(2024, 2, 29), None, dt.date(1999, 12, 31)]),
    "at": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 600000), None, dt.datetime(2024, 1, 2)], pa.timestamp("us")),
    "utc": pa.array([0, 1500, None], pa.timestamp("ms", tz="Europe/Paris")),
    "amount": pa.array([decimal.Decimal("1.50"), None, decimal.Decimal("-2.05")], pa.decimal128(10, 2)),
    "tier": pa.array(["Pro", "Free", None]).dictionary_encode(),
    "note": pa.array(['say "hi", ok', "", None]),
    "flag": pa.array([True, None, False]),
})


def test_csv_text():
    buffer = io.BytesIO()
    write_csv(buffer, TABLE.schema, [TABLE])
    lines = buffer.getvalue().decode().splitlines()
    assert lines[0] == '"id","day","at","utc","amount","tier","note","flag"'
    assert lines[1] == '1,"2024-02-29","2024-01-02T03:04:05.600000","1970-01-01T00:00:00.000Z",1.50,"Pro","say ""hi"", ok",true'
    assert lines[2] == '2,,,"1970-01-01T00:00:01.500Z",,"Free","",'  # null: empty; empty string: ""


def test_json_lines_text(tmp_path):
    path = tmp_path / "t.jsonl"
    write_jsonl(str(path), TABLE.schema, [TABLE])
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows[0] == {"id": 1, "day": "2024-02-29", "at": "2024-01-02T03:04:05.600000",
                       "utc": "1970-01-01T00:00:00.000Z", "amount": 1.5, "tier": "Pro",
                       "note": 'say "hi", ok', "flag": True}
    assert rows[1]["day"] is None and rows[1]["note"] == "" and rows[2]["note"] is None
    assert list(rows[2]) == TABLE.column_names  # every key, in column order, on every line


@pytest.mark.parametrize("write,extension", [(write_csv, "csv"), (write_jsonl, "jsonl")])
def test_round_trip_with_the_planned_types(tmp_path, write, extension):
    path = tmp_path / f"t.{extension}"
    write(str(path), TABLE.schema, [TABLE.slice(0, 2), TABLE.slice(2)])
    back = pa.Table.from_batches(list(read_batches(path, TABLE.schema)), schema=TABLE.schema)
    assert back.to_pylist() == TABLE.to_pylist()
