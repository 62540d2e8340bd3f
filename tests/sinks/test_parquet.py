"""The Parquet sink: readable by other engines, committed atomically, careful with --out."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import fabula
from fabula.plan.blocks import generate_block
from fabula.errors import OutputError
from fabula.generators import GenerationError

from helpers import read_table


def _siblings(path):
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(f".{path.name}."))


def test_types_are_proper_parquet_types(small_spec, tmp_path):
    fabula.generate(small_spec, tmp_path / "out")
    customers = pq.read_schema(next((tmp_path / "out" / "customers").glob("*.parquet")))
    events = pq.read_schema(next((tmp_path / "out" / "events").glob("*.parquet")))
    assert customers.field("tier").type == pa.dictionary(pa.int32(), pa.string())
    assert customers.field("customer_id").type == pa.string()
    assert customers.field("arr").type == pa.float64()
    assert customers.field("signup").type == pa.date32()
    assert customers.field("active").type == pa.bool_()
    assert events.field("n").type == pa.int64()
    assert events.field("at").type == pa.timestamp("ms")
    assert customers.names == list(small_spec["tables"]["customers"]["columns"])  # declared order


def test_pyarrow_pandas_and_duckdb_read_the_same_rows(small_spec, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    out = tmp_path / "out"
    fabula.generate(small_spec, out)
    arrow = read_table(out, "customers")
    plan = fabula.compile_plan(small_spec)
    expected = generate_block(plan, plan.table("customers"), 0)
    assert arrow.num_rows == 5000
    assert arrow.slice(0, 5).to_pylist() == pa.Table.from_batches([expected.slice(0, 5)]).to_pylist()

    frame = __import__("pandas").read_parquet(out / "customers")
    assert len(frame) == 5000
    assert frame["customer_id"].iloc[0] == "C-00000"
    assert frame["tier"].astype(str).value_counts().idxmax() == "Free"

    connection = duckdb.connect()
    rows, tiers, nulls, first = connection.execute(
        f"select count(*), count(distinct tier), count(*) - count(active), min(customer_id) "
        f"from read_parquet('{out}/customers/*.parquet')").fetchone()
    assert (rows, tiers, first) == (5000, 3, "C-00000")
    assert nulls == arrow.column("active").null_count
    day_min, = connection.execute(f"select min(signup) from read_parquet('{out}/customers/*.parquet')").fetchone()
    assert day_min >= dt.date(2022, 6, 30)
    total_ok, = connection.execute(
        f"select bool_and(abs(total - n * price) < 1e-9) from read_parquet('{out}/events/*.parquet')").fetchone()
    assert total_ok


def test_compression_is_selectable(small_spec, tmp_path):
    fabula.generate(small_spec, tmp_path / "z", compression="zstd")
    meta = pq.ParquetFile(next((tmp_path / "z" / "events").glob("*.parquet"))).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"
    fabula.generate(small_spec, tmp_path / "s")
    meta = pq.ParquetFile(next((tmp_path / "s" / "events").glob("*.parquet"))).metadata
    assert meta.row_group(0).column(0).compression == "SNAPPY"


def test_empty_table_still_gets_a_readable_file(small_spec, tmp_path):
    small_spec["tables"]["events"]["rows"] = 0
    fabula.generate(small_spec, tmp_path / "out")
    table = read_table(tmp_path / "out", "events")
    assert table.num_rows == 0 and table.column_names[0] == "event_id"


def test_error_mode_refuses_existing_output(small_spec, tmp_path):
    out = tmp_path / "out"
    fabula.generate(small_spec, out)
    before = (out / "manifest.json").read_bytes()
    with pytest.raises(OutputError, match="already exists") as caught:
        fabula.generate(small_spec, out, seed=99)
    assert "--mode overwrite" in str(caught.value)
    assert (out / "manifest.json").read_bytes() == before


def test_overwrite_replaces_fabula_output(small_spec, tmp_path):
    out = tmp_path / "out"
    fabula.generate(small_spec, out)
    (out / "customers" / "stale.parquet").write_bytes(b"old")
    fabula.generate(small_spec, out, mode="overwrite", seed=99)
    assert json.loads((out / "manifest.json").read_text())["seed"] == 99
    assert not (out / "customers" / "stale.parquet").exists()
    assert _siblings(out) == []


def test_overwrite_never_touches_a_folder_fabula_did_not_write(small_spec, tmp_path):
    out = tmp_path / "home"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    with pytest.raises(OutputError, match="not written by fabula"):
        fabula.generate(small_spec, out, mode="overwrite")
    assert (out / "thesis.tex").read_text() == "precious"


def test_output_that_is_a_file_is_refused(small_spec, tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        fabula.generate(small_spec, target)


def _failing_spec(small_spec, fail_at_row: int):
    def explode(columns, rng, n):
        rows = np.asarray(columns["n"])
        if len(rows) and fabula_row[0] >= fail_at_row:
            raise RuntimeError("disk on fire")
        fabula_row[0] += len(rows)
        return rows * 2

    fabula_row = [0]  # rows seen so far: fail once the run is well under way
    raw = json.loads(json.dumps(small_spec))
    raw["tables"]["events"]["columns"]["double"] = {"kind": "python", "fn": explode, "depends": ["n"],
                                                    "type": "int64"}
    return raw


@pytest.mark.parametrize("workers", [1, 3])
def test_a_failed_run_leaves_nothing(small_spec, tmp_path, workers):
    """A failure after some parts were written leaves no output and no temporary folder."""
    spec = _failing_spec(small_spec, fail_at_row=2000)
    plan = fabula.plan.compile.compile_plan(fabula.load_spec(spec), block_rows=1000,
                                           layout=fabula.plan.Layout(1, 1))
    out = tmp_path / "out"
    with pytest.raises(GenerationError, match="disk on fire"):
        fabula.generate(plan, out, workers=workers)
    assert not out.exists()
    assert _siblings(out) == []


def test_a_failed_overwrite_keeps_the_previous_output(small_spec, tmp_path):
    out = tmp_path / "out"
    fabula.generate(small_spec, out)
    before = (out / "manifest.json").read_bytes()
    plan = fabula.plan.compile.compile_plan(fabula.load_spec(_failing_spec(small_spec, 2000)),
                                           block_rows=1000, layout=fabula.plan.Layout(1, 1))
    with pytest.raises(GenerationError):
        fabula.generate(plan, out, mode="overwrite")
    assert (out / "manifest.json").read_bytes() == before
    assert _siblings(out) == []
