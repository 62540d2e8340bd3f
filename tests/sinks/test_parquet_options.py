"""Per-column Parquet writer settings: dictionaries where values repeat, statistics where useful,
and the data read back unchanged."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

import fabula
from fabula.sinks.parquet_options import writer_options


def test_dictionaries_for_dates_categories_and_few_integers():
    schema = pa.schema([("day", pa.date32()), ("score", pa.int64()), ("count", pa.int64()),
                        ("tier", pa.dictionary(pa.int32(), pa.string())), ("amount", pa.float64())])
    sample = pa.table({"day": pa.array([0, 1] * 50, pa.int32()).cast(pa.date32()), "score": [1, 2, 3, 4] * 25,
                       "count": list(range(100)), "tier": pa.array(["a", "b"] * 50).dictionary_encode(),
                       "amount": [0.5] * 100}, schema=schema)
    options = writer_options(schema, sample)
    assert options["use_dictionary"] == ["day", "score", "tier"]
    assert options["write_statistics"] == ["day", "score", "count", "amount"]
    assert writer_options(schema, None)["use_dictionary"] == ["day", "tier"]


def test_written_files_use_them(tmp_path):
    fabula.generate("saas_support", tmp_path / "out", validate=False, scale=0.2)
    metadata = pq.ParquetFile(next((tmp_path / "out" / "tickets").glob("*.parquet"))).metadata
    columns = {metadata.schema.column(i).name: metadata.row_group(0).column(i) for i in range(metadata.num_columns)}
    assert "PLAIN_DICTIONARY" in columns["csat_score"].encodings or "RLE_DICTIONARY" in columns["csat_score"].encodings
    assert columns["ticket_id"].statistics is not None and columns["ticket_id"].statistics.has_min_max
    assert columns["category"].statistics is None or not columns["category"].statistics.has_min_max
