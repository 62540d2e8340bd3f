"""A Databricks stand-in on 127.0.0.1 for each test, driven through the real databricks-sdk."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("databricks.sdk")


def _load_standin():
    """`tests/` is on the path, but `databricks` is the SDK's package, so the stand-in is loaded
    from its file under a name of its own (tests import it as `databricks_standin`)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("databricks_standin", Path(__file__).parent / "standin.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["databricks_standin"] = module
    spec.loader.exec_module(module)
    return module


_standin = sys.modules.get("databricks_standin") or _load_standin()
TOKEN, StandIn = _standin.TOKEN, _standin.StandIn


@pytest.fixture
def standin(monkeypatch, tmp_path):
    """A fresh workspace with the catalog `main` (no schema, no volume), and the environment a
    user would set: DATABRICKS_HOST and DATABRICKS_TOKEN, no ~/.databrickscfg."""
    for name in list(os.environ):
        if name.startswith("DATABRICKS_"):
            monkeypatch.delenv(name)
    with StandIn() as server:
        monkeypatch.setenv("DATABRICKS_HOST", server.host)
        monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
        monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "no-databrickscfg"))
        monkeypatch.setenv("FABULA_DATABRICKS_RETRY_SECONDS", "5")
        yield server


@pytest.fixture
def client(standin):
    from databricks.sdk import WorkspaceClient

    return WorkspaceClient(host=standin.host, token=TOKEN)


@pytest.fixture
def run_cli(standin):
    return _run_cli


def _run_cli(*args: str, token: str | None = None) -> subprocess.CompletedProcess:
    """The CLI as a user runs it, with the environment the fixture set (and another token if given)."""
    env = dict(os.environ)
    if token is not None:
        env["DATABRICKS_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "fabula", *args], capture_output=True, text=True, env=env,
                          timeout=300)
