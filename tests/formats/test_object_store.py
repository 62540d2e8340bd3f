"""Outputs in an object store, against a local S3 stand-in (moto's server) through the real
S3 client: nothing leaves 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import fabula
from fabula.errors import OutputError

moto_server = pytest.importorskip("moto.server")


@pytest.fixture(scope="module")
def s3_server():
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_server, monkeypatch):
    """A fresh bucket; credentials and the endpoint come from the environment, as in real use."""
    import uuid

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server)
    monkeypatch.setenv("AWS_ALLOW_HTTP", "true")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    from pyarrow import fs

    name = f"lake-{uuid.uuid4().hex[:8]}"
    fs.S3FileSystem(endpoint_override=s3_server, scheme="http", allow_bucket_creation=True).create_dir(name)
    return name


def store_files(uri):
    from fabula.sinks.remote import open_store

    store, root = open_store(uri)
    from pyarrow import fs

    return sorted(entry.path[len(root) + 1:] for entry in store.get_file_info(fs.FileSelector(root, recursive=True))
                  if entry.type == fs.FileType.File)


@pytest.mark.parametrize("output_format", ["parquet", "csv", "json"])
def test_generate_to_s3_reads_back_the_same_rows(bucket, tmp_path, output_format):
    uri = f"s3://{bucket}/saas/{output_format}"
    manifest = fabula.generate("saas_support", uri, output_format=output_format, scale=0.05).manifest
    local = fabula.generate("saas_support", tmp_path / "local", output_format=output_format, scale=0.05).manifest
    assert manifest.tables == local.tables
    files = store_files(uri)
    assert "manifest.json" in files and "report.json" in files
    assert sorted(path for path in files if "/" in path) == sorted(
        file.path for table in local.tables.values() for file in table.files)
    from fabula.sinks.remote import open_store

    store, root = open_store(uri)
    extension = {"parquet": "parquet", "csv": "csv", "json": "jsonl"}[output_format]
    for table, info in local.tables.items():
        remote = ds.dataset(f"{root}/{table}", filesystem=store, format="json" if extension == "jsonl" else extension)
        assert remote.count_rows() == info.rows
    if output_format == "parquet":
        remote_orders = pq.read_table(f"{root}/orders", filesystem=store)
        assert remote_orders.equals(pq.read_table(tmp_path / "local" / "orders"))


def test_delta_on_s3_read_by_deltalake(bucket, s3_server, tmp_path):
    deltalake = pytest.importorskip("deltalake")
    uri = f"s3://{bucket}/delta"
    fabula.generate("saas_support", uri, output_format="delta", scale=0.05)
    options = {"AWS_ENDPOINT_URL": s3_server, "AWS_ALLOW_HTTP": "true", "AWS_REGION": "us-east-1",
               "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    table = deltalake.DeltaTable(f"{uri}/orders", storage_options=options).to_pyarrow_table()
    fabula.generate("saas_support", tmp_path / "local", output_format="delta", scale=0.05)
    assert table.equals(deltalake.DeltaTable(str(tmp_path / "local" / "orders")).to_pyarrow_table())


def test_modes_on_s3(bucket):
    uri = f"s3://{bucket}/modes"
    fabula.generate("retail", uri, scale=0.05, validate=False)
    with pytest.raises(OutputError, match="already holds"):
        fabula.generate("retail", uri, scale=0.05, validate=False)
    before = store_files(uri)
    fabula.generate("saas_support", uri, mode="overwrite", scale=0.05, validate=False)
    after = store_files(uri)
    manifest = json.loads(__import__("fabula.sinks.remote", fromlist=["read_text"]).read_text(uri, "manifest.json"))
    assert manifest["dataset"] == "saas_support"
    assert not any(name.startswith("products/") for name in after)  # the superseded files are gone
    assert any(name.startswith("products/") for name in before)
    with pytest.raises(OutputError, match="append"):
        fabula.generate("retail", uri, mode="append", scale=0.05)


def test_a_prefix_fabula_did_not_write_is_never_overwritten(bucket):
    from fabula.sinks.remote import open_store

    uri = f"s3://{bucket}/theirs"
    store, root = open_store(uri)
    with store.open_output_stream(f"{root}/important.csv") as stream:
        stream.write(b"a,b\n")
    with pytest.raises(OutputError, match="fabula did not write it"):
        fabula.generate("retail", uri, mode="overwrite", scale=0.05, validate=False)
    assert store_files(uri) == ["important.csv"]


def test_a_failed_run_leaves_no_manifest(bucket, monkeypatch):
    from fabula.sinks.remote import RemoteSink

    uri = f"s3://{bucket}/failed"

    def broken(self, source, name):
        if name == "manifest.json":
            raise OSError("connection reset")
        original(self, source, name)

    original = RemoteSink._upload
    monkeypatch.setattr(RemoteSink, "_upload", broken)
    with pytest.raises(OutputError, match="connection reset"):
        fabula.generate("retail", uri, scale=0.05, validate=False)
    assert "manifest.json" not in store_files(uri)


def test_cli_writes_to_s3(bucket):
    uri = f"s3://{bucket}/cli"
    run = subprocess.run([sys.executable, "-m", "fabula", "generate", "saas_support", "--out", uri,
                          "--format", "csv", "--scale", "0.05"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert f"{uri}/report.html" in run.stdout.replace("\n", "")


def test_partitioned_tables_on_s3(bucket, tmp_path):
    """partition_by: the partition folders are uploaded as they are written locally, and the
    overwrite that follows removes only what the new manifest does not list."""
    spec = {"name": "p", "seed": 2, "tables": {"t": {"rows": 500, "partition_by": "kind", "columns": {
        "id": {"kind": "sequence"}, "kind": {"kind": "categorical", "values": ["a", "b/c"]}}}}}
    uri = f"s3://{bucket}/partitioned"
    manifest = fabula.generate(spec, uri).manifest
    local = fabula.generate(spec, tmp_path / "local").manifest
    assert manifest.tables == local.tables
    assert {"t/kind=a/part-00000.parquet", "t/kind=b%2Fc/part-00000.parquet"} <= set(store_files(uri))
    from fabula.sinks.remote import open_store

    store, root = open_store(uri)
    remote = ds.dataset(f"{root}/t", filesystem=store, format="parquet", partitioning="hive").to_table()
    here = ds.dataset(tmp_path / "local" / "t", format="parquet", partitioning="hive").to_table()
    assert remote.sort_by("id").equals(here.sort_by("id")) and set(remote.column("kind").to_pylist()) == {"a", "b/c"}
    fabula.generate({**spec, "tables": {"t": {**spec["tables"]["t"], "partition_by": []}}}, uri, mode="overwrite")
    assert "t/kind=a/part-00000.parquet" not in store_files(uri)
