"""Every format read back by other engines has the Parquet output's contents."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import fabula

TABLES = ("customers", "orders", "tickets", "events")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("formats")
    for output_format in ("parquet", "delta", "csv", "json"):
        fabula.generate("saas_support", root / output_format, output_format=output_format, scale=0.05,
                        workers=2)
    return root


def plain(table: pa.Table) -> pa.Table:
    """Dictionaries decoded: what every other format holds."""
    return pa.table([pc.cast(column, column.type.value_type) if pa.types.is_dictionary(column.type) else column
                     for column in table.columns], names=table.column_names)


def expected(outputs, table: str, like: pa.Schema | None = None) -> pa.Table:
    """The Parquet output's rows. Parquet has no seconds unit (`unit: s` is stored as
    milliseconds), so timestamps are compared in the unit the other reader gives (`like`)."""
    found = plain(pq.read_table(outputs / "parquet" / table))
    if like is None:
        return found
    return found.cast(pa.schema([like.field(field.name) if pa.types.is_timestamp(field.type) else field
                                 for field in found.schema]))


@pytest.mark.parametrize("table", TABLES)
def test_delta_read_by_deltalake_equals_parquet(outputs, table):
    deltalake = pytest.importorskip("deltalake")
    delta = deltalake.DeltaTable(str(outputs / "delta" / table)).to_pyarrow_table()
    want = expected(outputs, table, like=delta.schema)
    assert delta.schema == want.schema
    assert delta.equals(want)


def test_delta_carries_table_and_column_descriptions(tmp_path):
    deltalake = pytest.importorskip("deltalake")
    spec = {"name": "d", "seed": 1, "tables": {"t": {"rows": 3, "description": "a small table", "columns": {
        "id": {"kind": "id", "format": "T-{:02d}", "description": "the key"}}}}}
    fabula.generate(spec, tmp_path / "out", output_format="delta")
    table = deltalake.DeltaTable(str(tmp_path / "out" / "t"))
    assert table.metadata().description == "a small table"
    assert table.metadata().name == "t"
    assert table.schema().to_arrow().field("id").metadata == {b"comment": b"the key"}


@pytest.mark.parametrize("output_format,reader", [("csv", "read_csv"), ("json", "read_json")])
@pytest.mark.parametrize("table", TABLES)
def test_text_formats_read_by_duckdb_with_the_same_rows(outputs, output_format, reader, table):
    extension = "csv" if output_format == "csv" else "jsonl"
    files = str(outputs / output_format / table / f"*.{extension}")
    rows = duckdb.connect().execute(f"SELECT count(*) FROM {reader}('{files}')").fetchall()[0][0]
    assert rows == expected(outputs, table).num_rows


@pytest.mark.parametrize("output_format", ["csv", "json"])
def test_text_formats_hold_the_same_values(outputs, output_format):
    """Read back with the planned types (fabula's reader), every value equals Parquet's."""
    from fabula.sinks.formats.read import read_batches

    plan = fabula.compile_plan("saas_support", scale=0.05)
    for table in plan.tables:
        extension = "csv" if output_format == "csv" else "jsonl"
        files = sorted((outputs / output_format / table.name).glob(f"*.{extension}"))
        batches = [batch for path in files for batch in read_batches(path, table.schema)]
        got = plain(pa.Table.from_batches(batches, schema=table.schema))
        assert got.equals(expected(outputs, table.name, like=got.schema)), table.name


def test_pandas_and_polars_read_every_format(outputs):
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    want = expected(outputs, "orders")
    assert len(pd.read_csv(next((outputs / "csv" / "orders").glob("*.csv")))) == want.num_rows
    assert len(pd.read_json(next((outputs / "json" / "orders").glob("*.jsonl")), lines=True)) == want.num_rows
    assert pl.read_csv(outputs / "csv" / "orders" / "*.csv").height == want.num_rows
    assert pl.read_ndjson(outputs / "json" / "orders" / "*.jsonl").height == want.num_rows
    assert pl.read_delta(str(outputs / "delta" / "orders")).height == want.num_rows
    orders = pl.read_csv(outputs / "csv" / "orders" / "*.csv", try_parse_dates=True)
    assert orders["order_id"].to_list() == want.column("order_id").to_pylist()


@pytest.mark.parametrize("output_format", ["csv", "json", "delta"])
def test_same_files_for_any_worker_count(tmp_path, output_format):
    for workers in (1, 3):
        fabula.generate("retail", tmp_path / str(workers), output_format=output_format, scale=0.05,
                        workers=workers, validate=False)
    for path in sorted((tmp_path / "1").rglob("part-*")):
        twin = tmp_path / "3" / path.relative_to(tmp_path / "1")
        assert path.read_bytes() == twin.read_bytes(), path


def test_validate_rechecks_a_text_output(outputs):
    report = fabula.validate_output(outputs / "csv")
    assert not report.failed
    report = fabula.validate_output(outputs / "json")
    assert not report.failed
