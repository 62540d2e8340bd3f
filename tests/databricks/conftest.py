"""A Databricks stand-in on 127.0.0.1 for each test, driven through the real databricks-sdk."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("databricks.sdk")

# `tests/` is on the path, but `databricks` is the SDK's package: import the stand-in by its folder
sys.path.insert(0, str(Path(__file__).parent))
from standin import TOKEN, StandIn  # noqa: E402


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


def run_cli(*args: str, token: str | None = None) -> subprocess.CompletedProcess:
    """The CLI as a user runs it, with the environment the fixture set (and another token if given)."""
    env = dict(os.environ)
    if token is not None:
        env["DATABRICKS_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "fabula", *args], capture_output=True, text=True, env=env,
                          timeout=300)
