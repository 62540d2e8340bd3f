"""`--on-cluster`: the whole job in a reused execution context (Command Execution API 1.2), against
the stand-in, whose contexts are local Python processes."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

import fabula
from fabula.manifest import read_manifest
from fabula.databricks.remote import ClusterSession, ContextCache, RemoteError, generate_on_cluster

CLUSTER = "0101-standin"
SPEC = {"name": "tiny", "seed": 5, "as_of": "2024-06-30", "tables": {"t": {"rows": 1000, "columns": {
    "id": {"kind": "id", "format": "T-{:04d}"}, "x": {"kind": "normal", "mean": 5, "std": 1}}}}}


@pytest.fixture
def session(client, tmp_path):
    return ClusterSession(client, CLUSTER, cache=ContextCache(tmp_path / "contexts.json"))


def test_the_context_is_reused_and_keeps_its_state(standin, session):
    assert session.run("counter = 1\nprint('set')").strip() == "set"
    assert session.run("counter += 1\nprint(counter)").strip() == "2"
    assert standin.workspace.clusters.created == 1


def test_an_evicted_context_is_recreated(standin, session):
    session.run("print(1)")
    standin.workspace.clusters.evict()  # a cluster restart
    assert session.run("print('again')").strip() == "again"
    assert standin.workspace.clusters.created == 2


def test_a_remote_error_carries_the_cleaned_traceback(standin, session):
    with pytest.raises(RemoteError) as caught:
        session.run("def inner():\n    raise ValueError('bad value on the cluster')\ninner()")
    text = str(caught.value)
    assert "the command failed on cluster 0101-standin: ValueError: bad value on the cluster" in text
    assert "in inner" in text and "\x1b[" not in text and "-----" not in text


def test_a_timeout_cancels_the_remote_command(standin, session):
    with pytest.raises(RemoteError, match="took longer than 1s; it was cancelled"):
        session.run("import time\ntime.sleep(60)", timeout=1)
    assert [command["status"] for command in standin.workspace.clusters.commands.values()] == ["Cancelled"]
    assert session.run("print('still usable')").strip() == "still usable"


def test_close_destroys_the_context_and_forgets_it(standin, session):
    session.run("print(1)")
    assert session.close() is True
    assert not standin.workspace.clusters.contexts and session.cache.get(session.host, CLUSTER) is None
    assert session.close() is False


def test_generate_on_the_cluster_returns_one_line_of_json(standin, session, tmp_path):
    out = tmp_path / "on-cluster"
    summary = generate_on_cluster(session, json.dumps(SPEC), str(out))
    local = fabula.generate(SPEC, tmp_path / "local").manifest
    assert summary["rows"] == {"t": 1000} and summary["verdict"] in ("pass", "warn")
    assert summary["files"] == {"t": [entry.path for entry in local.tables["t"].files]}
    assert (out / "t" / "part-00000.parquet").read_bytes() == (tmp_path / "local" / "t" / "part-00000.parquet").read_bytes()
    with pytest.raises(RemoteError, match="already exists and is not empty"):  # fabula's own error, from the cluster
        generate_on_cluster(session, json.dumps(SPEC), str(out))


def test_the_cli_runs_on_the_cluster_and_closes_the_context(standin, run_cli, tmp_path):
    out = tmp_path / "cli"
    result = run_cli("generate", "retail", "--scale", "0.05", "--out", str(out), "--on-cluster", CLUSTER,
                     "--close-context")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["out"] == str(out) and set(summary["rows"]) >= {"customers", "orders"}
    assert (out / "manifest.json").is_file()
    assert not standin.workspace.clusters.contexts  # --close-context


def test_the_cluster_writes_the_format_and_compression_asked_for(standin, run_cli, tmp_path):
    """--format and --compression reach the job on the cluster (they were once dropped: snappy
    Parquet came back whatever was asked)."""
    json_out, zstd_out = tmp_path / "json", tmp_path / "zstd"
    for out, options in ((json_out, ("--format", "json")), (zstd_out, ("--compression", "zstd"))):
        result = run_cli("generate", "retail", "--scale", "0.05", "--out", str(out), "--on-cluster", CLUSTER, *options)
        assert result.returncode == 0, result.stderr
    assert read_manifest(json_out).output_format == "json"
    assert all(path.suffix == ".jsonl" for path in (json_out / "orders").iterdir())
    first = next((zstd_out / "orders").glob("*.parquet"))
    assert pq.ParquetFile(first).metadata.row_group(0).column(0).compression == "ZSTD"


def test_the_context_cache_holds_ids_never_a_credential(standin, session):
    from databricks_standin import TOKEN

    session.run("print(1)")
    text = session.cache.path.read_text(encoding="utf-8")
    assert CLUSTER in text and TOKEN not in text
