"""The limits of fabula.spec.bounds: what they refuse, and that docs/security.md states them."""

from __future__ import annotations

from pathlib import Path

import pytest

import fabula
from fabula.errors import SpecError
from fabula.spec import bounds
from fabula.spec.load import read_yaml

ROOT = Path(__file__).resolve().parents[2]
SECURITY_DOC = ROOT / "docs" / "security.md"


def test_the_security_doc_states_every_limit():
    text = SECURITY_DOC.read_text(encoding="utf-8")
    for number in (bounds.MAX_SPEC_BYTES, bounds.MAX_YAML_NODES, bounds.MAX_YAML_ALIASES, bounds.MAX_TABLES,
                   bounds.MAX_COLUMNS, bounds.MAX_TEXT_CHARS, bounds.MAX_CATEGORIES, bounds.MAX_POOL_TOTAL,
                   bounds.MAX_FAKER_SIZE_ARG, bounds.MAX_EXPRESSION_CHARS, bounds.MAX_POOL_CHARS):
        assert f"{number:,}" in text, f"docs/security.md does not state {number:,}"
    for number in (bounds.MAX_YAML_DEPTH, bounds.MAX_ID_WIDTH, bounds.MAX_NAME_LENGTH):
        assert f" {number} " in text, f"docs/security.md does not state {number}"
    assert "10^12" in text and bounds.MAX_ROWS == 10**12 and bounds.MAX_OUTPUT_BYTES == 10**12
    for provider in bounds.BLOCKED_PROVIDERS:
        assert f"`{provider}`" in text, provider


@pytest.mark.parametrize("name, unsafe", [
    ("customers", False), ("../x", True), ("a/b", True), ("a\\b", True), ("..", True), ("a\tb", True),
    ("x" * 129, True), ("x" * 128, False), ("tablé", False),  # not unsafe; `bad-name` still asks for ASCII
])
def test_unsafe_names(name, unsafe):
    assert (bounds.check_name(name, "table") is not None) == unsafe


def test_aliases_are_counted_as_they_expand():
    text = "a: &a [1, 2, 3]\n" + "b: [" + ", ".join(["*a"] * 10) + "]\n"
    data, _ = read_yaml(text)
    assert data["b"] == [[1, 2, 3]] * 10  # ordinary aliases still work
    many = "a: &a [1]\n" + "b: [" + ", ".join(["*a"] * (bounds.MAX_YAML_ALIASES + 1)) + "]\n"
    with pytest.raises(SpecError, match="aliases"):
        read_yaml(many)


def test_text_longer_than_the_limit_is_refused():
    with pytest.raises(SpecError, match="more than the limit"):
        fabula.load_spec("name: d\n" + "#" * bounds.MAX_SPEC_BYTES + "\n")


def test_scale_must_be_finite():
    spec = {"name": "d", "tables": {"t": {"rows": 10, "columns": {"a": {"kind": "sequence"}}}}}
    with pytest.raises(ValueError, match="finite"):
        fabula.compile_plan(spec, scale=float("inf"))
    with pytest.raises(SpecError, match="beyond a 64-bit row count"):
        fabula.compile_plan(spec, scale=1e300)


def test_a_faker_argument_of_a_size_is_bounded_but_others_are_not():
    base = {"name": "d", "tables": {"t": {"rows": 10, "columns": {}}}}
    base["tables"]["t"]["columns"]["n"] = {"kind": "faker", "provider": "pyint", "pool": 10,
                                           "args": {"min_value": 0, "max_value": 10**15}}
    assert fabula.load_spec(base)  # a value range is not a size
    base["tables"]["t"]["columns"]["n"] = {"kind": "faker", "provider": "pystr", "pool": 10,
                                           "args": {"max_chars": 10_001}}
    with pytest.raises(SpecError, match="sets the size of every value"):
        fabula.load_spec(base)
