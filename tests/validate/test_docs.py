"""docs/validation.md stays true: its `expect:` examples load, run against the built-in retail
spec they describe, and pass; every check name pattern it documents is one the report uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

import fabula
from fabula.scenarios import builtin_text

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "validation.md"
README = ROOT / "README.md"
_FENCE = re.compile(r"^```(?P<lang>[\w-]*)[ \t]*\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def expect_examples() -> list[dict]:
    """Every `expect:` example of docs/validation.md and of the README, by name."""
    found = {}
    for path in (DOC, README):
        for match in _FENCE.finditer(path.read_text(encoding="utf-8")):
            if match["lang"] == "yaml" and re.match(r"\A\s*expect:", match["body"]):
                data = yaml.safe_load(match["body"])
                assert set(data) == {"expect"}, f"an example in {path.name} is one `expect:` list"
                found.update({example["name"]: example for example in data["expect"]})
    return list(found.values())


def test_the_examples_pass_on_retail(tmp_path):
    examples = expect_examples()
    assert len(examples) >= 5 and {"sql", "ratio", "share", "uplift"} <= {key for e in examples for key in e}
    spec = yaml.safe_load(builtin_text("retail"))
    spec["expect"] = examples
    fabula.generate(spec, tmp_path / "out", strict=True)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    checked = {check["name"]: check["verdict"] for check in report["checks"] if check["family"] == "expectations"}
    assert checked == {example["name"]: "pass" for example in examples}


def test_the_documented_commands_exist():
    from click.testing import CliRunner

    from fabula.cli.main import cli

    for command in (["generate", "--help"], ["validate", "--help"]):
        shown = CliRunner().invoke(cli, command).output
        for option in ("--strict",):
            assert option in shown
    assert "--no-validate" in CliRunner().invoke(cli, ["generate", "--help"]).output
