"""The skill (skills/fabula/) stays loadable and in step with the code: its front matter has a
name and a description, it is short enough to load whole, its links resolve, every spec in it
passes `fabula check` (and those in SKILL.md generate without a failed check), and every broken
spec in the troubleshooting reference fails with the code and message its heading quotes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import fabula

ROOT = Path(__file__).resolve().parents[2]
SKILL = ROOT / "skills" / "fabula"
SKILL_MD = SKILL / "SKILL.md"
MAX_LINES = 300  # loaded whole into an assistant's context; details live in references/

_FENCE = re.compile(r"^```yaml[ \t]*\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_BREAKS = re.compile(r"\A# breaks: (?P<code>[\w-]+)\n")
_HEADING = re.compile(r"^### (?P<codes>(?:`[\w-]+`(?: and )?)+): (?P<messages>.+)$", re.MULTILINE)


def front_matter(text: str) -> dict:
    match = re.match(r"\A---\n(?P<yaml>.*?)\n---\n", text, re.DOTALL)
    assert match, "SKILL.md starts with YAML front matter between --- lines"
    return yaml.safe_load(match["yaml"])


def yaml_blocks() -> list[tuple[Path, int, str]]:
    found = []
    for path in sorted(SKILL.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            found.append((path, text.count("\n", 0, match.start()) + 1, match["body"]))
    return found


def block_id(block) -> str:
    path, line, _ = block
    return f"{path.relative_to(SKILL)}:{line}"


SPECS = [block for block in yaml_blocks() if not _BREAKS.match(block[2])]
BROKEN = [block for block in yaml_blocks() if _BREAKS.match(block[2])]


def test_front_matter_names_and_describes_the_skill():
    meta = front_matter(SKILL_MD.read_text(encoding="utf-8"))
    assert meta["name"] == "fabula" == SKILL.name
    assert re.fullmatch(r"[a-z0-9-]{1,64}", meta["name"])
    assert 50 <= len(meta["description"]) <= 1024
    assert "synthetic" in meta["description"]


def test_short_enough_to_load_whole():
    assert len(SKILL_MD.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def test_links_resolve():
    for path in SKILL.rglob("*.md"):
        for target in re.findall(r"\]\(([^)#]+?)(?:#[^)]*)?\)", path.read_text(encoding="utf-8")):
            if "://" not in target:
                assert (path.parent / target).exists(), f"{path.relative_to(SKILL)} links to missing {target}"


def test_teaches_the_whole_workflow():
    text = SKILL_MD.read_text(encoding="utf-8")
    for verb in ("fabula check", "fabula plan", "fabula preview", "fabula generate", "fabula validate"):
        assert verb in text
    assert "Ask before generating" in text


@pytest.mark.parametrize("block", SPECS, ids=block_id)
def test_every_spec_passes_check(block):
    path, _, body = block
    plan = fabula.compile_plan(body)
    assert plan.total_rows > 0


@pytest.mark.parametrize("block", [block for block in SPECS if block[0] == SKILL_MD], ids=block_id)
def test_skill_specs_generate_without_a_failed_check(block, tmp_path):
    _, _, body = block
    fabula.generate(body, tmp_path / "out", scale=0.25)
    report = fabula.validate_output(tmp_path / "out", strict=False)
    assert not report.failed, [f"{check.name}: {check.message}" for check in report.failed]


@pytest.mark.parametrize("block", BROKEN, ids=block_id)
def test_troubleshooting_quotes_real_messages(block):
    path, line, body = block
    code = _BREAKS.match(body)["code"]
    text = path.read_text(encoding="utf-8")
    heading = [match for match in _HEADING.finditer(text) if match.start() < text.find(body)][-1]
    assert f"`{code}`" in heading["codes"], f"the heading above line {line} should name `{code}`"
    with pytest.raises(fabula.SpecError) as raised:
        fabula.compile_plan(body)
    issues = raised.value.issues
    assert code in {issue.code for issue in issues}
    for message in heading["messages"].split(" / "):
        assert any(message in issue.message for issue in issues), (message, [issue.message for issue in issues])
