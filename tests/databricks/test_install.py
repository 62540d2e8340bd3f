"""`--on-cluster` installs this fabula into the context when the cluster's Python lacks it or has
another copy: a wheel built here, uploaded to a Volume through the Files API, pip-installed in
the context. The stand-in's contexts are isolated Pythons here: this checkout's fabula is off
their path, and `pip install` puts packages into a folder that is on it."""

from __future__ import annotations

import json
import zipfile

import pytest

import fabula
from fabula.databricks.install import build_wheel, ensure_fabula, local_fabula, package_digest, wheel_folder
from fabula.databricks.paths import VolumePath
from fabula.databricks.remote import ClusterSession, ContextCache, RemoteError, generate_on_cluster

CLUSTER = "0101-standin"
WHEELS = VolumePath.parse("dbfs:/Volumes/main/demo/raw/wheels")
SPEC = {"name": "tiny", "seed": 5, "as_of": "2024-06-30", "tables": {"t": {"rows": 300, "columns": {
    "id": {"kind": "id", "format": "T-{:04d}"}, "x": {"kind": "normal", "mean": 5, "std": 1}}}}}


@pytest.fixture
def isolated(standin, tmp_path, monkeypatch):
    monkeypatch.setenv("FABULA_CACHE_DIR", str(tmp_path / "cache"))
    standin.workspace.clusters.isolate(tmp_path / "mount", tmp_path / "site")
    return tmp_path / "site"


@pytest.fixture
def session(client, tmp_path):
    return ClusterSession(client, CLUSTER, cache=ContextCache(tmp_path / "contexts.json"))


def uploads(standin) -> list[str]:
    return [path for method, path in standin.workspace.requests if method == "PUT" and path.endswith(".whl")]


def test_the_wheel_holds_the_running_package_and_is_cached(isolated):
    wheel = build_wheel()
    version, digest, root = local_fabula()
    assert wheel.name == f"fabula-{version}-py3-none-any.whl" and digest[:16] in str(wheel.parent)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert archive.read("fabula/__init__.py") == (root / "__init__.py").read_bytes()
        assert f"fabula-{version}.dist-info/RECORD" in names and "fabula/scenarios/retail.yaml" in names
        assert not any("__pycache__" in name for name in names)
    stamp = wheel.stat().st_mtime_ns
    assert build_wheel() == wheel and wheel.stat().st_mtime_ns == stamp  # built once per version and digest


def test_fabula_is_installed_once_and_then_reused(standin, isolated, session, tmp_path):
    with pytest.raises(RemoteError, match="No module named 'fabula'"):
        session.run("import fabula")
    done = ensure_fabula(session, WHEELS)
    version, digest, _ = local_fabula()
    assert done["installed"] and done["uploaded"]
    assert done["wheel"] == f"/Volumes/main/demo/raw/wheels/{version}-{digest[:16]}/fabula-{version}-py3-none-any.whl"
    assert standin.workspace.files[done["wheel"]] == build_wheel().read_bytes()  # through the Files API
    imported = session.run("import fabula\nprint(fabula.__file__)").strip()
    assert imported.startswith(str(isolated)) and package_digest(str(isolated / "fabula")) == digest

    summary = generate_on_cluster(session, json.dumps(SPEC), str(tmp_path / "out"))
    assert summary["rows"] == {"t": 300}
    local = fabula.generate(SPEC, tmp_path / "local").manifest
    assert (tmp_path / "out" / "t" / "part-00000.parquet").read_bytes() == \
        (tmp_path / "local" / local.tables["t"].files[0].path).read_bytes()

    sent = len(uploads(standin))
    again = ensure_fabula(session, WHEELS)
    assert not again["installed"] and again["file"].startswith(str(isolated)) and len(uploads(standin)) == sent
    standin.workspace.clusters.evict()  # a new context finds the installed copy: no reinstall either
    assert not ensure_fabula(session, WHEELS)["installed"] and standin.workspace.clusters.created == 2


def test_another_copy_in_the_context_is_replaced_without_a_new_upload(standin, isolated, session):
    ensure_fabula(session, WHEELS)
    session.run("import fabula")  # imported: the reinstall must also replace the loaded modules
    changed = isolated / "fabula" / "errors.py"
    changed.write_text(changed.read_text(encoding="utf-8") + "\n# another build\n", encoding="utf-8")
    sent = len(uploads(standin))
    done = ensure_fabula(session, WHEELS)
    assert done["installed"] and not done["uploaded"] and len(uploads(standin)) == sent
    assert "another build" not in changed.read_text(encoding="utf-8")


def test_without_a_volume_for_the_wheel_the_error_says_how_to_give_one(standin, isolated, session):
    from fabula.databricks.client import WorkspaceError

    with pytest.raises(WorkspaceError, match="fabula on cluster 0101-standin is not installed") as caught:
        ensure_fabula(session, wheel_folder(None, "/tmp/somewhere"))
    assert "--wheel-volume" in caught.value.hint
    assert wheel_folder(None, "dbfs:/Volumes/main/demo/raw/saas") == VolumePath("main", "demo", "raw", "_fabula/wheels")


def test_the_cli_installs_into_the_context_then_runs_the_job(standin, isolated, run_cli, tmp_path):
    result = run_cli("generate", "retail", "--scale", "0.02", "--out", "/Volumes/main/demo/raw/retail",
                     "--on-cluster", CLUSTER)
    assert result.returncode == 0, result.stderr
    assert "installed fabula" in result.stderr and "/Volumes/main/demo/raw/_fabula/wheels/" in result.stderr
    assert "customers" in json.loads(result.stdout.strip().splitlines()[-1])["rows"]
    assert (tmp_path / "mount" / "Volumes" / "main" / "demo" / "raw" / "retail" / "manifest.json").is_file()
    second = run_cli("generate", "retail", "--scale", "0.02", "--out", "/Volumes/main/demo/raw/retail",
                     "--mode", "overwrite", "--on-cluster", CLUSTER)
    assert second.returncode == 0, second.stderr
    assert "installed fabula" not in second.stderr
    assert len(uploads(standin)) == 1
