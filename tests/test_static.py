"""Lint and type check `src/` as part of the test suite, so that `.ci/run` (the README's test
command) holds the code to zero ruff findings and zero mypy errors. Both read their settings
from pyproject.toml ([tool.ruff], [tool.mypy]); the packages mypy does not hold yet are listed
there, in one override, to be taken off one by one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "command",
    [["ruff", "check", "src"], ["mypy", "src"]],
    ids=["ruff", "mypy"],
)
def test_src_has_no_findings(command: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, f"`{' '.join(command)}` found problems:\n{done.stdout}{done.stderr}"
