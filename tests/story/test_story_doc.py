"""docs/story.md stays true: its example specs load and generate, its excerpt of saas_support is
really in the scenario, it documents every key of a timeline, an event and an override, and the
README and how-it-works.md link to it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import fabula
from fabula.spec.story import (
    INTRADAY_PRESETS,
    EventOverride,
    EventSpec,
    Holidays,
    Seasonality,
    TimelineRows,
    TimelineSpec,
    Trend,
    VolumeEffect,
)

ROOT = Path(__file__).resolve().parents[2]
STORY_DOC = ROOT / "docs" / "story.md"
_FENCE = re.compile(r"^```(?P<lang>[\w-]*)[ \t]*\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_EXCERPT = re.compile(r"\A# excerpt: (?P<path>\S+)\n")


def yaml_blocks() -> list[tuple[int, str]]:
    text = STORY_DOC.read_text(encoding="utf-8")
    return [(text.count("\n", 0, match.start()) + 1, match["body"])
            for match in _FENCE.finditer(text) if match["lang"] == "yaml"]


def _id(block: tuple[int, str]) -> str:
    return f"line{block[0]}"


SPECS = [block for block in yaml_blocks() if not _EXCERPT.match(block[1])]
EXCERPTS = [block for block in yaml_blocks() if _EXCERPT.match(block[1])]


def test_every_yaml_block_is_a_spec_or_an_excerpt():
    assert SPECS and EXCERPTS
    for line, body in SPECS:
        assert re.search(r"^tables:", body, re.MULTILINE), f"line {line}: a whole spec, or mark it `# excerpt: <file>`"


@pytest.mark.parametrize("block", SPECS, ids=_id)
def test_example_spec_loads_and_generates(block):
    plan = fabula.compile_plan(fabula.load_spec(block[1]))
    tables = fabula.preview(plan, rows=5)
    for table in plan.tables:
        assert table.rows > 0, f"table `{table.name}` of the example has no rows"
        assert tables[table.name].num_rows == min(5, table.rows)


def _lines(text: str) -> list[str]:
    """Lines without comments or blank lines, right-stripped (the excerpt's comments differ)."""
    found = []
    for line in text.splitlines():
        line = re.sub(r"(^|\s+)#.*$", "", line).rstrip()
        if line.strip():
            found.append(line)
    return found


@pytest.mark.parametrize("block", EXCERPTS, ids=_id)
def test_excerpt_is_in_its_file_in_order(block):
    line, body = block
    source = ROOT / _EXCERPT.match(body)["path"]
    wanted, have = _lines(body), iter(_lines(source.read_text(encoding="utf-8")))
    for text in wanted:
        assert any(text == candidate for candidate in have), f"line {line}: {text!r} is not in {source.name} (in order)"
    yaml.safe_load(body)  # and it is YAML


MODELS = [TimelineSpec, Holidays, Seasonality, Trend, TimelineRows, EventSpec, VolumeEffect]


@pytest.mark.parametrize("key", sorted({key for model in MODELS for key in model.model_fields}
                                       | set(EventOverride.reserved) | set(INTRADAY_PRESETS)))
def test_every_key_and_preset_is_documented(key):
    named = f"`{key}`" in STORY_DOC.read_text(encoding="utf-8")
    assert named, f"docs/story.md never names `{key}`"


@pytest.mark.parametrize("page", ["README.md", "docs/how-it-works.md"])
def test_linked_from(page):
    linked = "story.md" in (ROOT / page).read_text(encoding="utf-8")
    assert linked, f"{page} does not link docs/story.md"
