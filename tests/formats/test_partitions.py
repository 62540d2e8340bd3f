"""`partition_by:` writes Hive-style partition folders in every format: the same rows as an
unpartitioned output, the same files for any worker count, listed in the manifest, read back
with the partition columns by pyarrow, DuckDB and deltalake, and validated like any output."""

from __future__ import annotations

import copy
import json
import os

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import fabula
from fabula.manifest import file_sha256, read_manifest
from fabula.plan.model import Layout

FORMATS = ("parquet", "delta", "csv", "json")
EXTENSIONS = {"parquet": "parquet", "delta": "parquet", "csv": "csv", "json": "jsonl"}

SPEC = {
    "name": "partitioned", "seed": 5, "as_of": "2024-12-31",
    "tables": {
        "customers": {"rows": 400, "columns": {
            "customer_id": {"kind": "id", "format": "C-{:04d}"},
            "region": {"kind": "categorical", "values": {"West": 3, "East": 2, "North/South": 1}, "nulls": 0.1},
            "vip": {"kind": "boolean", "p": 0.2},
        }},
        "orders": {"rows": 3000, "partition_by": ["region", "vip"], "columns": {
            "order_id": {"kind": "id", "format": "O-{:05d}"},
            "customer_id": {"kind": "reference", "to": "customers.customer_id", "pick": "zipf", "a": 1.1},
            "region": {"kind": "lookup", "from": "customer_id.region"},
            "amount": {"kind": "lognormal", "mean": 3, "sigma": 1, "round": 2},
            "vip": {"kind": "lookup", "from": "customer_id.vip"},
            "day": {"kind": "date", "start": "-20d", "end": "today"},
        }},
        "visits": {"rows": 1000, "partition_by": "day", "columns": {
            "visit_id": {"kind": "sequence"},
            "day": {"kind": "date", "start": "-6d", "end": "today"},
            "pages": {"kind": "poisson", "lam": 3},
        }},
    },
}



def small(spec: dict):
    """The plan with small blocks: several parts per table and several row groups per part,
    so the split by partition is exercised across both."""
    from fabula.plan import compile_plan

    return compile_plan(fabula.load_spec(spec), block_rows=256, layout=Layout(blocks_per_file=3, blocks_per_row_group=1))


def unpartitioned() -> dict:
    spec = copy.deepcopy(SPEC)
    for table in spec["tables"].values():
        table.pop("partition_by", None)
    return spec


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("partitions")
    fabula.generate(small(unpartitioned()), root / "flat", workers=2)
    for output_format in FORMATS:
        fabula.generate(small(SPEC), root / output_format, output_format=output_format, workers=2)
    return root


def plain(table: pa.Table) -> pa.Table:
    return pa.table([pc.cast(column, column.type.value_type) if pa.types.is_dictionary(column.type) else column
                     for column in table.columns], names=table.column_names)


def flat(outputs, table: str) -> pa.Table:
    files = sorted((outputs / "flat" / table).glob("*.parquet"))
    return plain(pa.concat_tables([pq.read_table(path) for path in files])).combine_chunks()


def data_files(folder, table: str) -> list[str]:
    found = []
    for top, folders, names in os.walk(folder / table):
        folders[:] = [name for name in folders if name != "_delta_log"]
        found += [os.path.relpath(os.path.join(top, name), folder).replace(os.sep, "/") for name in names]
    return sorted(found)


@pytest.mark.parametrize("output_format", FORMATS)
def test_files_sit_in_hive_folders_and_the_manifest_lists_each_with_its_sha256(outputs, output_format):
    out = outputs / output_format
    manifest = read_manifest(out)
    extension = EXTENSIONS[output_format]
    for table in ("orders", "visits"):
        listed = {file.path: file for file in manifest.tables[table].files}
        assert sorted(listed) == data_files(out, table)  # every file on disk, nothing else
        for path, file in listed.items():
            assert file_sha256(out / path) == file.sha256 and (out / path).stat().st_size == file.bytes
        assert sum(file.rows for file in listed.values()) == manifest.tables[table].rows
    orders = list(listed_paths(manifest, "orders"))
    assert f"orders/region=West/vip=true/part-00000.{extension}" in orders
    assert f"orders/region=North%2FSouth/vip=false/part-00000.{extension}" in orders  # Hive's escape
    assert f"orders/region=__HIVE_DEFAULT_PARTITION__/vip=false/part-00000.{extension}" in orders  # null
    assert f"visits/day=2024-12-31/part-00000.{extension}" in listed_paths(manifest, "visits")
    parts = {path.rsplit("/", 1)[1] for path in orders}
    plan = small(SPEC)
    assert len(parts) == len(plan.layout.parts(plan.table("orders"))) > 1  # one file per part and partition


def listed_paths(manifest, table: str) -> list[str]:
    return [file.path for file in manifest.tables[table].files]


@pytest.mark.parametrize("output_format", ["parquet", "json", "delta"])
def test_the_same_files_for_any_worker_count(outputs, tmp_path, output_format):
    one = fabula.generate(small(SPEC), tmp_path / "one", output_format=output_format, workers=1).manifest
    assert one.tables == read_manifest(outputs / output_format).tables  # workers=2 wrote that one
    three = fabula.generate(small(SPEC), tmp_path / "three", output_format=output_format, workers=3).manifest
    assert three.tables == one.tables


def test_pyarrow_reads_the_partition_columns_back_with_the_flat_rows(outputs):
    schema = pa.schema([("region", pa.string()), ("vip", pa.bool_())])
    orders = ds.dataset(outputs / "parquet" / "orders", format="parquet",
                        partitioning=ds.partitioning(schema, flavor="hive")).to_table()
    want = flat(outputs, "orders")
    got = plain(orders.select(want.column_names)).sort_by("order_id").combine_chunks()
    assert got.equals(want.sort_by("order_id"))
    visits = ds.dataset(outputs / "parquet" / "visits", format="parquet",
                        partitioning=ds.partitioning(pa.schema([("day", pa.date32())]), flavor="hive")).to_table()
    want = flat(outputs, "visits")
    assert plain(visits.select(want.column_names)).sort_by("visit_id").combine_chunks().equals(want)


@pytest.mark.parametrize("output_format", FORMATS)
def test_duckdb_reads_every_format_with_the_partition_values(outputs, output_format):
    reader = {"csv": "read_csv", "json": "read_json"}.get(output_format, "read_parquet")
    files = str(outputs / output_format / "orders" / "**" / f"*.{EXTENSIONS[output_format]}")
    connection = duckdb.connect()
    got = connection.execute(
        f"select region, vip::boolean, count(*), round(sum(amount), 2) from {reader}('{files}', "
        f"hive_partitioning = true) group by all order by all").fetchall()
    connection.register("flat", flat(outputs, "orders"))
    want = connection.execute("select region, vip, count(*), round(sum(amount), 2) from flat "
                              "group by all order by all").fetchall()
    assert got == want and any(row[0] is None for row in got) and any(row[0] == "North/South" for row in got)


def test_deltalake_reads_the_partitioned_table(outputs):
    deltalake = pytest.importorskip("deltalake")
    table = deltalake.DeltaTable(str(outputs / "delta" / "orders"))
    assert table.metadata().partition_columns == ["region", "vip"]
    want = flat(outputs, "orders")
    got = table.to_pyarrow_table().select(want.column_names).sort_by("order_id").combine_chunks()
    assert got.equals(want.sort_by("order_id"))


@pytest.mark.parametrize("output_format", FORMATS)
def test_validate_strict_passes_with_the_checks_of_the_flat_output(outputs, output_format):
    report = fabula.validate_output(outputs / output_format, strict=True)
    flat_report = fabula.validate_output(outputs / "flat")
    assert [(check.name, check.verdict) for check in report.checks] == \
        [(check.name, check.verdict) for check in flat_report.checks]
    written = json.loads((outputs / output_format / "report.json").read_text())
    assert all(check["verdict"] != "fail" for check in written["checks"])


def test_the_report_written_while_generating_is_the_one_validate_writes(outputs, tmp_path):
    out = tmp_path / "out"
    fabula.generate(small(SPEC), out)
    generated = (out / "report.json").read_bytes()
    fabula.validate_output(out)
    assert (out / "report.json").read_bytes() == generated


def test_a_stray_file_in_a_partition_folder_fails_validation(tmp_path):
    out = tmp_path / "out"
    fabula.generate(small(SPEC), out)
    (out / "orders" / "region=West" / "vip=true" / "part-00099.parquet").write_bytes(b"not mine")
    report = fabula.validate_output(out)
    assert any(check.name == "orders: files as listed" and "not listed" in check.message for check in report.failed)


def test_rows_moved_between_partitions_are_caught(tmp_path):
    out = tmp_path / "out"
    fabula.generate(small(SPEC), out)
    west = out / "orders" / "region=West" / "vip=false" / "part-00000.parquet"
    east = out / "orders" / "region=East" / "vip=false" / "part-00000.parquet"
    west.write_bytes(east.read_bytes())  # readable, but not the rows the plan puts there
    with pytest.raises(fabula.ValidationFailed, match="orders: files as listed"):
        fabula.validate_output(out, strict=True)


def test_append_adds_each_batch_to_the_partition_folders(tmp_path):
    out = tmp_path / "out"
    for _ in range(2):
        manifest = fabula.generate(SPEC, out, mode="append", output_format="delta").manifest
    assert (out / "orders" / "region=West" / "vip=true" / "part-b00001-00000.parquet").is_file()
    report = fabula.validate_output(out, strict=True)
    assert any(check.name.startswith("batch 1: orders") for check in report.checks)
    deltalake = pytest.importorskip("deltalake")
    assert deltalake.DeltaTable(str(out / "orders")).to_pyarrow_table().num_rows == manifest.tables["orders"].rows


def test_stream_writes_each_batch_in_the_partition_folders(tmp_path):
    from fabula.api import stream

    state = stream(SPEC, tmp_path / "s", batches=2)
    entry = state["batches"][0]["files"]["visits"]
    assert all(path.startswith("visits/day=") and path.endswith("/batch-000000.parquet") for path in entry["files"])
    assert sum(pq.read_metadata(tmp_path / "s" / path).num_rows for path in entry["files"]) == entry["rows"]


def test_an_empty_partitioned_table_has_no_files(tmp_path):
    spec = copy.deepcopy(SPEC)
    spec["tables"]["visits"]["rows"] = 0
    manifest = fabula.generate(spec, tmp_path / "out", strict=True).manifest
    assert manifest.tables["visits"].files == () and manifest.tables["visits"].rows == 0
    assert not fabula.validate_output(tmp_path / "out").failed


def test_an_unpartitioned_spec_keeps_its_hash():
    spec = fabula.load_spec(unpartitioned())
    assert all("partition_by" not in table for table in spec.canonical()["tables"].values())
    partitioned = fabula.load_spec(SPEC)
    assert partitioned.canonical()["tables"]["visits"]["partition_by"] == ["day"]  # one name is a list of one
    assert partitioned.spec_hash() != spec.spec_hash()
