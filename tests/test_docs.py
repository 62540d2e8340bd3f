"""The documentation stays true: docs/columns.md covers every column kind and expression
function, and its examples, like the README's specs and set-up commands, really work."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

import fabula
from fabula.spec import COLUMN_KINDS
from fabula.spec.expressions import FUNCTIONS

ROOT = Path(__file__).resolve().parents[1]
COLUMNS_DOC = ROOT / "docs" / "columns.md"
README = ROOT / "README.md"
CI_SCRIPT = ROOT / ".ci" / "run"

_FENCE = re.compile(r"^```(?P<lang>[\w-]*)[ \t]*\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_KIND_TAG = re.compile(r"\A#\s*kind:\s*(?P<kind>[\w-]+)\s*$", re.MULTILINE)
_FILE_ONLY_KINDS = {"python"}  # a spec file cannot declare these; their example is Python


class Block:
    """One fenced code block of a Markdown file."""

    def __init__(self, lang: str, body: str, line: int):
        self.lang = lang
        self.body = body
        self.line = line
        match = _KIND_TAG.match(body)
        self.kind = match["kind"] if match else None

    def __repr__(self) -> str:
        return f"{self.lang}@{self.line}" + (f"[{self.kind}]" if self.kind else "")


def fenced_blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    return [Block(m["lang"], m["body"], text.count("\n", 0, m.start()) + 1) for m in _FENCE.finditer(text)]


def docs_text() -> str:
    return COLUMNS_DOC.read_text(encoding="utf-8")


def column_examples() -> list[Block]:
    """The docs' YAML blocks that are column mapping fragments (`columns:` at the top)."""
    found = []
    for block in fenced_blocks(COLUMNS_DOC):
        if block.lang == "yaml" and re.search(r"^columns:", block.body, re.MULTILINE):
            found.append(block)
    return found


def one_table_spec(columns: dict) -> dict:
    return {"name": "docs_example", "seed": 7, "as_of": date(2024, 12, 31),
            "tables": {"t": {"rows": 100, "columns": columns}}}


def example_id(block: Block) -> str:
    return f"line{block.line}-{block.kind or 'untagged'}"


# -- (a) every kind is documented -------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(COLUMN_KINDS))
def test_every_kind_has_a_heading(kind):
    heading = re.compile(rf"^#{{2,3}} [^\n]*(?<![\w-]){re.escape(kind)}(?![\w-])", re.MULTILINE)
    assert heading.search(docs_text()), f"docs/columns.md has no ##/### heading naming `{kind}`"


@pytest.mark.parametrize("kind", sorted(COLUMN_KINDS))
def test_every_kind_has_a_tagged_example(kind):
    tagged = [block for block in fenced_blocks(COLUMNS_DOC) if block.kind == kind]
    assert tagged, f"docs/columns.md has no example starting with `# kind: {kind}`"
    wanted = "python" if kind in _FILE_ONLY_KINDS else "yaml"
    assert any(block.lang == wanted for block in tagged), f"the `{kind}` example should be a ```{wanted} block"


def test_every_tag_names_a_registered_kind():
    unknown = {block.kind for block in fenced_blocks(COLUMNS_DOC) if block.kind} - set(COLUMN_KINDS)
    assert not unknown, f"examples tagged with kinds that do not exist: {sorted(unknown)}"


# -- (b) every YAML example loads, compiles and generates ----------------------------------------


@pytest.mark.parametrize("block", column_examples(), ids=example_id)
def test_yaml_example_loads_and_generates(block):
    data = yaml.safe_load(block.body)
    assert isinstance(data, dict) and set(data) == {"columns"}, "an example is one `columns:` mapping"
    columns = data["columns"]
    if block.kind is not None:
        kinds = {column.get("kind") for column in columns.values() if isinstance(column, dict)}
        assert block.kind in kinds, f"the example tagged `{block.kind}` has no column of that kind"
    plan = fabula.compile_plan(one_table_spec(columns))
    table = fabula.preview(plan, rows=5)["t"]
    assert table.column_names == list(columns)
    assert table.num_rows == 5


def test_every_yaml_block_is_an_example():
    """No YAML block escapes the loading test by not being a `columns:` fragment."""
    yaml_blocks = [block for block in fenced_blocks(COLUMNS_DOC) if block.lang == "yaml"]
    assert yaml_blocks and len(yaml_blocks) == len(column_examples())


@pytest.mark.parametrize("kind", sorted(_FILE_ONLY_KINDS & set(COLUMN_KINDS)))
def test_file_only_kind_example_runs_from_python(kind):
    (block,) = [b for b in fenced_blocks(COLUMNS_DOC) if b.kind == kind and b.lang == "python"]
    namespace: dict = {}
    exec(compile(block.body, f"docs/columns.md:{block.line}", "exec"), namespace)
    spec = namespace["spec"]
    table = next(iter(fabula.preview(spec, rows=5).values()))
    assert table.num_rows == 5
    kinds = [column.get("kind") for t in spec["tables"].values() for column in t["columns"].values()]
    assert kind in kinds


def test_file_only_kind_is_refused_in_a_file(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text("name: d\ntables:\n  t:\n    rows: 3\n    columns:\n      x: {kind: python, fn: f}\n")
    with pytest.raises(fabula.SpecError, match="python"):
        fabula.load_spec(path)


# -- (c) every expression function is documented -------------------------------------------------


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_every_function_is_documented(name):
    """Each function has its row in the functions table: signature and doc line from FUNCTIONS."""
    signature, _, meaning = FUNCTIONS[name].doc.partition(": ")
    row = f"| `{signature}` | {meaning} |"
    assert row in docs_text(), f"docs/columns.md has no functions-table row {row!r}"


# -- (d) README set-up commands and CI ------------------------------------------------------------


def readme_setup_commands() -> list[str]:
    bash = [block for block in fenced_blocks(README) if block.lang == "bash"]
    assert len(bash) >= 2, "README.md needs its two set-up commands as its first two ```bash blocks"
    return [block.body.strip() for block in bash[:2]]


def test_readme_setup_commands_come_first():
    generate, test = readme_setup_commands()
    for command in (generate, test):
        assert "\n" not in command, f"a set-up command is one line to copy: {command!r}"
        assert command.startswith("python3 -m venv .venv"), command
    assert "fabula generate" in generate
    assert "pytest" in test


def test_ci_runs_the_readme_test_command():
    _, test = readme_setup_commands()
    lines = [line.strip() for line in CI_SCRIPT.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert lines[-1] == test, f".ci/run ends with {lines[-1]!r}, README says {test!r}"


# -- (e) README specs load and compile -------------------------------------------------------------


def readme_specs() -> list[Block]:
    return [block for block in fenced_blocks(README)
            if block.lang == "yaml" and re.search(r"^tables:", block.body, re.MULTILINE)]


def test_readme_has_a_spec():
    assert readme_specs()


@pytest.mark.parametrize("block", readme_specs(), ids=lambda block: f"line{block.line}")
def test_readme_spec_loads_and_compiles(block):
    plan = fabula.compile_plan(fabula.load_spec(block.body))
    tables = fabula.preview(plan, rows=5)
    assert set(tables) == {table.name for table in plan.tables}
    assert all(isinstance(table, pa.Table) and table.num_rows > 0 for table in tables.values())
