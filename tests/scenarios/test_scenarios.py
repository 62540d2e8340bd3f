"""The scenario library: every built-in has a description, a section in docs/scenarios.md, its
own `expect:` checks, and timestamps of its fact tables with a weekly and daily rhythm."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import fabula
from fabula.scenarios import builtin_names

DOC = (Path(__file__).parents[2] / "docs" / "scenarios.md").read_text(encoding="utf-8")


def test_the_library_has_the_everyday_domains():
    assert {"retail", "saas_support", "iot_telemetry", "banking", "healthcare"} <= set(builtin_names())


@pytest.mark.parametrize("name", builtin_names())
def test_each_scenario_is_described_documented_and_checked(name):
    spec = fabula.load_spec(name)
    assert spec.description
    assert f"`{name}`" in DOC
    assert len(spec.expect) >= 3
    assert any(f"`{name}`" in line for line in DOC.splitlines() if line.startswith("## "))


@pytest.mark.parametrize("name", builtin_names())
def test_scenarios_pass_strict_validation(name, tmp_path):
    fabula.generate(name, tmp_path / name, workers=2)
    verdicts = {check["verdict"] for check in json.loads((tmp_path / name / "report.json").read_text())["checks"]}
    assert "fail" not in verdicts
