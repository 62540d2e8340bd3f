"""Delivery to a Unity Catalog Volume through the Files API, against the local stand-in, through
the real databricks-sdk client: byte-identical to a local run, schema and volume created, the
catalog never, clear errors, no half-written output, and no credential anywhere."""

from __future__ import annotations

import json

import pytest
from databricks_standin import TOKEN

import fabula
from fabula.databricks import volume_target
from fabula.databricks.client import WorkspaceError
from fabula.databricks.sink import MARKER

SPEC = {
    "name": "small", "description": "A small dataset for the Volume tests", "seed": 3, "as_of": "2024-06-30",
    "tables": {
        "customers": {"rows": 3000, "columns": {
            "customer_id": {"kind": "id", "format": "C-{:05d}"},
            "tier": {"kind": "categorical", "values": {"Free": 60, "Pro": 30, "Enterprise": 10}},
            "signup": {"kind": "date", "start": "-2y", "end": "-6mo"}}},
        "orders": {"rows": 9000, "columns": {
            "order_id": {"kind": "id", "format": "O-{:06d}"},
            "customer_id": {"kind": "reference", "to": "customers.customer_id"},
            "amount": {"kind": "lognormal", "mean": 3, "sigma": 0.5, "round": 2}}},
    },
}
OUT = "dbfs:/Volumes/main/demo/raw/small"
FOLDER = "/Volumes/main/demo/raw/small"


def local_files(folder) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_upload_is_byte_identical_to_a_local_run(standin, tmp_path):
    local = tmp_path / "local"
    fabula.generate(SPEC, local)
    fabula.generate(SPEC, OUT)
    remote = standin.workspace.listing(FOLDER)
    assert remote == local_files(local)  # data, manifest and reports, byte for byte
    assert {"manifest.json", "customers/part-00000.parquet", "orders/part-00000.parquet"} <= set(remote)
    assert MARKER not in remote


def test_schema_and_volume_are_created_with_the_spec_description(standin):
    fabula.generate(SPEC, OUT)
    workspace = standin.workspace
    assert workspace.schemas["main.demo"]["comment"] == SPEC["description"]
    assert workspace.volumes["main.demo.raw"]["comment"] == SPEC["description"]
    assert workspace.volumes["main.demo.raw"]["volume_type"] == "MANAGED"


def test_a_missing_catalog_is_never_created(standin):
    with pytest.raises(WorkspaceError) as caught:
        fabula.generate(SPEC, "dbfs:/Volumes/nocat/demo/raw/small")
    assert caught.value.exit_code == 1
    assert "the catalog nocat does not exist, and fabula never creates a catalog" in str(caught.value)
    assert standin.workspace.catalogs == {"main"} and not standin.workspace.schemas
    assert not standin.workspace.files


@pytest.mark.parametrize("privilege", ["CREATE SCHEMA", "CREATE VOLUME", "WRITE VOLUME", "USE CATALOG"])
def test_a_missing_privilege_is_named_and_nothing_is_written(standin, privilege):
    if privilege == "WRITE VOLUME":
        standin.workspace.add_volume("main", "demo", "raw")
    standin.workspace.deny(privilege)
    with pytest.raises(WorkspaceError) as caught:
        fabula.generate(SPEC, OUT)
    assert caught.value.exit_code == 1
    assert "(403)" in str(caught.value) and f"grant you the {privilege} privilege" in str(caught.value)
    assert not standin.workspace.files


def test_a_wrong_token_exits_1_with_a_clear_message_and_no_manifest(standin, tmp_path, run_cli):
    standin.workspace.add_volume("main", "demo", "raw")
    result = run_cli("generate", "retail", "--out", OUT, token="dapi-wrong-token")
    assert result.returncode == 1
    assert "Databricks rejected the credentials" in result.stderr and "(401)" in result.stderr
    assert "Traceback" not in result.stderr
    assert "dapi-wrong-token" not in result.stdout + result.stderr
    assert not standin.workspace.files


def test_an_unreachable_host_is_one_clear_message(standin, monkeypatch):
    standin.workspace.add_volume("main", "demo", "raw")
    monkeypatch.setenv("DATABRICKS_HOST", "http://127.0.0.1:9")  # the discard port: nothing listens
    monkeypatch.setenv("FABULA_DATABRICKS_RETRY_SECONDS", "1")
    with pytest.raises(WorkspaceError) as caught:
        fabula.generate(SPEC, OUT)
    assert "cannot reach the Databricks workspace at http://127.0.0.1:9" in str(caught.value)


def test_the_cli_delivers_validates_and_never_shows_the_token(standin, run_cli):
    result = run_cli("generate", "saas_support", "--scale", "0.2", "--out", "dbfs:/Volumes/main/demo/raw/saas")
    assert result.returncode == 0, result.stderr
    assert "created schema main.demo" in result.stdout and "created volume main.demo.raw" in result.stdout
    files = standin.workspace.listing("/Volumes/main/demo/raw/saas")
    manifest = json.loads(files["manifest.json"])
    assert set(manifest["tables"]) == {"customers", "orders", "tickets", "events"}
    checked = run_cli("validate", "dbfs:/Volumes/main/demo/raw/saas")
    assert checked.returncode == 0, checked.stderr
    assert "validation" in checked.stdout
    for text in (result.stdout, result.stderr, checked.stdout, checked.stderr, *map(bytes.decode, (
            data for name, data in files.items() if not name.endswith(".parquet")))):
        assert TOKEN not in text


def test_an_interrupted_upload_leaves_nothing_that_looks_complete(standin):
    standin.workspace.add_volume("main", "demo", "raw")
    standin.workspace.fail_uploads_after(2)  # the marker and one part, then the workspace fails
    with pytest.raises(WorkspaceError, match="Databricks refused uploading"):
        fabula.generate(SPEC, OUT)
    assert standin.workspace.listing(FOLDER) == {}  # what was uploaded is removed again
    standin.workspace.fail_uploads_after(None)
    fabula.generate(SPEC, OUT)
    assert "manifest.json" in standin.workspace.listing(FOLDER)


def test_a_killed_run_is_recognised_and_replaced_by_overwrite(standin):
    """A process killed mid-upload cannot clean up: it leaves the marker, some parts, no manifest."""
    standin.workspace.add_volume("main", "demo", "raw")
    files = standin.workspace.files
    files[f"{FOLDER}/{MARKER}"] = json.dumps({"files": ["orders/part-00000.parquet", "old/part-00000.parquet"]}).encode()
    files[f"{FOLDER}/orders/part-00000.parquet"] = b"half"
    files[f"{FOLDER}/old/part-00000.parquet"] = b"stale"
    with pytest.raises(WorkspaceError, match="already exists and is not empty"):
        fabula.generate(SPEC, OUT)
    with pytest.raises(WorkspaceError, match="did not finish"):
        fabula.validate_output(OUT)
    fabula.generate(SPEC, OUT, mode="overwrite")
    remote = standin.workspace.listing(FOLDER)
    assert "old/part-00000.parquet" not in remote and MARKER not in remote
    assert remote["orders/part-00000.parquet"] != b"half"


def test_overwrite_replaces_only_what_fabula_wrote(standin):
    fabula.generate(SPEC, OUT)
    files = standin.workspace.files
    files[f"{FOLDER}/notes/readme.txt"] = b"mine"
    smaller = {**SPEC, "tables": {"customers": SPEC["tables"]["customers"]}}
    fabula.generate(smaller, OUT, mode="overwrite")
    remote = standin.workspace.listing(FOLDER)
    assert "orders/part-00000.parquet" not in remote  # superseded by the new manifest: removed
    assert remote["notes/readme.txt"] == b"mine"  # never fabula's: kept
    assert set(json.loads(remote["manifest.json"])["tables"]) == {"customers"}


def test_a_folder_fabula_did_not_write_is_refused(standin):
    standin.workspace.add_volume("main", "demo", "raw")
    standin.workspace.files[f"{FOLDER}/data.csv"] = b"a,b\n"
    with pytest.raises(WorkspaceError, match="was not written by fabula"):
        fabula.generate(SPEC, OUT, mode="overwrite")
    assert standin.workspace.listing(FOLDER) == {"data.csv": b"a,b\n"}


def test_validate_reads_the_volume_back_and_puts_the_reports_there(standin):
    fabula.generate(SPEC, OUT)
    standin.workspace.files.pop(f"{FOLDER}/report.html")
    report = fabula.validate_output(OUT)
    assert not report.failed
    assert "report.html" in standin.workspace.listing(FOLDER)


def test_validate_of_a_folder_without_manifest_says_so(standin, run_cli):
    standin.workspace.add_volume("main", "demo", "raw")
    result = run_cli("validate", OUT)
    assert result.returncode == 1 and "has no manifest.json" in result.stderr


def test_volume_paths():
    assert volume_target("out/x") is None
    target = volume_target("dbfs:/Volumes/main/demo/raw/a/b")
    assert (target.catalog, target.schema, target.volume, target.folder) == ("main", "demo", "raw", "a/b")
    from pathlib import Path

    if not Path("/Volumes").exists():  # not a Databricks machine (nor a Mac): a plain path is a Volume too
        assert volume_target("/Volumes/nowhere/s/v/x").path == "/Volumes/nowhere/s/v/x"
    with pytest.raises(fabula.errors.UsageError, match="not a Unity Catalog Volume path"):
        volume_target("dbfs:/tmp/x")


def test_a_partitioned_table_is_refused_before_anything_is_written(standin):
    """partition_by (issue 13): a Volume's claim marker lists a run's files before they exist, and
    partition folders are only known once written, so Volumes take unpartitioned tables for now."""
    spec = {**SPEC, "tables": {**SPEC["tables"], "orders": {**SPEC["tables"]["orders"], "partition_by": "region",
                                                             "columns": {**SPEC["tables"]["orders"]["columns"],
                                                                         "region": {"kind": "categorical",
                                                                                    "values": ["a", "b"]}}}}}
    with pytest.raises(fabula.OutputError, match="unpartitioned tables for now"):
        fabula.generate(spec, OUT)
    assert standin.workspace.listing(FOLDER) == {}
