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
FORMATS_DOC = ROOT / "docs" / "formats.md"
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
    """The docs' YAML examples: a `columns:` fragment (wrapped in a one-table spec) or, for
    examples of several related tables, a `tables:` mapping (wrapped with a name, seed and as_of)."""
    found = []
    for block in fenced_blocks(COLUMNS_DOC):
        if block.lang == "yaml" and re.search(r"^(columns|tables):", block.body, re.MULTILINE):
            found.append(block)
    return found


AS_OF = date(2024, 12, 31)


def one_table_spec(columns: dict) -> dict:
    return {"name": "docs_example", "seed": 7, "as_of": AS_OF,
            "tables": {"t": {"rows": 100, "columns": columns}}}


def tables_spec(tables: dict) -> dict:
    return {"name": "docs_example", "seed": 7, "as_of": AS_OF, "tables": tables}


def example_spec(block: Block) -> dict:
    """The spec an example stands for: its one `columns:` or `tables:` mapping, wrapped."""
    data = yaml.safe_load(block.body)
    timelines = data.pop("timelines", None) if isinstance(data, dict) else None  # for kinds that need one
    assert isinstance(data, dict) and len(data) == 1 and set(data) <= {"columns", "tables"}, \
        "an example is one `columns:` mapping or one `tables:` mapping (and optionally `timelines:`)"
    spec = one_table_spec(data["columns"]) if "columns" in data else tables_spec(data["tables"])
    return {**spec, "timelines": timelines} if timelines else spec


def spec_kinds(spec: dict) -> set:
    return {column.get("kind") for table in spec["tables"].values()
            for column in table["columns"].values() if isinstance(column, dict)}


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
    spec = example_spec(block)
    if block.kind is not None:
        assert block.kind in spec_kinds(spec), f"the example tagged `{block.kind}` has no column of that kind"
    plan = fabula.compile_plan(spec)
    tables = fabula.preview(plan, rows=5)
    assert list(tables) == list(spec["tables"])
    for name, table in tables.items():
        assert table.column_names == list(spec["tables"][name]["columns"])
        assert table.num_rows == min(5, plan.table(name).rows)
        assert plan.table(name).rows > 0, f"table `{name}` of the example has no rows"


@pytest.mark.parametrize("block", column_examples(), ids=example_id)
def test_yaml_example_passes_fabula_check(block, tmp_path, capsys):
    """`fabula check` accepts the example written out as a spec file, as a reader would save it."""
    from fabula.cli.main import main

    path = tmp_path / "example.yaml"
    path.write_text(yaml.safe_dump(example_spec(block), sort_keys=False), encoding="utf-8")
    try:
        main(["check", str(path)])
    except SystemExit as exited:
        assert exited.code in (0, None), capsys.readouterr().err
    assert "ok" in capsys.readouterr().out


def test_tables_examples_have_several_tables():
    """The `tables:` form is for relations; a one-table example stays a `columns:` fragment."""
    for block in column_examples():
        data = yaml.safe_load(block.body)
        if "tables" in data:
            assert len(data["tables"]) > 1, f"{block!r}: write a one-table example as `columns:`"


def test_every_yaml_block_is_an_example():
    """No YAML block escapes the loading test by being neither a `columns:` nor a `tables:` example."""
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


# -- (f) docs/formats.md: the partitions example ----------------------------------------------------


def test_formats_partition_example_writes_the_layout_it_shows(tmp_path, monkeypatch):
    """The `partition_by:` example of docs/formats.md, generated as Parquet and CSV: the folders
    it lists exist, its reading snippet runs, and the output validates."""
    blocks = fenced_blocks(FORMATS_DOC)
    (index, example), = [(i, block) for i, block in enumerate(blocks)
                         if block.lang == "yaml" and "partition_by:" in block.body]
    layout, snippet = blocks[index + 1], blocks[index + 2]
    assert layout.lang == "text" and snippet.lang == "python" and "hive_partitioning" in snippet.body
    spec = tables_spec(yaml.safe_load(example.body)["tables"])
    fabula.generate(spec, tmp_path / "out", strict=True)
    fabula.generate(spec, tmp_path / "out_csv", output_format="csv", strict=True)
    listed = [line for line in layout.body.splitlines() if line.strip() and line.strip() != "…"]
    assert listed and all((tmp_path / line).is_file() for line in listed), listed
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(snippet.body, f"docs/formats.md:{snippet.line}", "exec"), namespace)
    counts = dict(namespace["duckdb"].sql(
        "SELECT region, count(*) FROM read_parquet('out/orders/**/*.parquet', hive_partitioning = true) "
        "GROUP BY ALL").fetchall())
    assert set(counts) == {"West", "East", "Asia/Pacific"} and sum(counts.values()) == 20000
