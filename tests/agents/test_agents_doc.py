"""docs/agents.md stays true: every request's spec passes `check`, generates at a small scale,
validates without a failure, and every check it lists as proving its story is in the report
and passed. The skill's patterns are the same specs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import fabula

ROOT = Path(__file__).resolve().parents[2]
AGENTS_DOC = ROOT / "docs" / "agents.md"
PATTERNS = ROOT / "skills" / "fabula" / "references" / "patterns.md"
SCALE = 0.25  # a quarter of each spec's rows: the stories still show, and CI stays quick

_SPEC = re.compile(r"^```yaml[ \t]*\n(?P<body># request: (?P<name>[\w-]+)\n.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_PROOF = re.compile(r"^Checks that prove the story:\n\n(?P<bullets>(?:(?:- |  ).*\n)+)", re.MULTILINE)


@dataclass(frozen=True)
class Request:
    name: str
    spec: str
    checks: tuple[str, ...]


def requests(path: Path = AGENTS_DOC) -> list[Request]:
    """Each ```yaml block starting `# request: NAME`, and the backticked check names of the
    "Checks that prove the story:" bullets after it (the text before a bullet's ` — `)."""
    text = path.read_text(encoding="utf-8")
    found = []
    for match in _SPEC.finditer(text):
        proof = _PROOF.search(text, match.end())
        following = text.find("```yaml", match.end())
        assert proof and (following == -1 or proof.start() < following), \
            f"request {match['name']} has no 'Checks that prove the story:' list before the next spec"
        bullets = re.split(r"^- ", proof["bullets"], flags=re.MULTILINE)
        checks = tuple(name for bullet in bullets for name in re.findall(r"`([^`]+)`", bullet.split(" — ")[0]))
        found.append(Request(match["name"], match["body"], checks))
    return found


REQUESTS = requests()


def test_about_ten_requests_each_with_its_proof():
    assert len(REQUESTS) >= 10
    assert len({request.name for request in REQUESTS}) == len(REQUESTS)
    assert all(request.checks for request in REQUESTS)


def test_the_skills_patterns_are_the_same_specs():
    assert [(r.name, r.spec, r.checks) for r in requests(PATTERNS)] == [(r.name, r.spec, r.checks) for r in REQUESTS]


@pytest.mark.parametrize("request_", REQUESTS, ids=lambda request: request.name)
def test_spec_checks_generates_and_proves_its_story(request_, tmp_path):
    fabula.compile_plan(request_.spec)  # `fabula check`: the spec as written
    out = tmp_path / request_.name
    fabula.generate(request_.spec, out, scale=SCALE)
    report = fabula.validate_output(out, strict=False)
    failed = [f"{check.name}: {check.message}" for check in report.failed]
    assert not failed, failed
    verdicts = {check.name: check.verdict for check in report.checks}
    missing = [name for name in request_.checks if name not in verdicts]
    assert not missing, f"listed in docs/agents.md but not in the report: {missing}"
    assert all(verdicts[name] == "pass" for name in request_.checks)
    declared = {expectation.name for expectation in fabula.load_spec(request_.spec).expect}
    assert declared <= set(request_.checks), "every `expect:` check is listed as proof"
