"""Bad specs: every problem at once, each with file, line, dotted path, message, value and hint.

One fixture per error code lives in tests/fixtures/bad_specs/. Each starts with one or more
header lines

    # expect: <code> at <dotted.path | (top level)> line <n | -> : <fragment> | <fragment> ...

and loading it (through to a plan, as `fabula check` does) must give exactly those issues, each at
that path and line, with every fragment somewhere in what the user reads (message, value, hint).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

import fabula
from fabula.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "bad_specs"
SOURCE = ROOT / "src" / "fabula"

_EXPECT = re.compile(r"^# expect: (?P<code>[a-z]+(?:-[a-z]+)*) at (?P<path>.+?) line (?P<line>\d+|-): (?P<text>.*)$")


@dataclass(frozen=True)
class Expected:
    code: str
    path: str
    line: int | None
    fragments: tuple[str, ...]


def expectations(file: Path) -> list[Expected]:
    found = []
    for text in file.read_text(encoding="utf-8").splitlines():
        if not text.startswith("#"):
            break
        match = _EXPECT.match(text)
        if match:
            path = "" if match["path"] == "(top level)" else match["path"]
            line = None if match["line"] == "-" else int(match["line"])
            fragments = tuple(part.strip() for part in match["text"].split(" | ") if part.strip())
            found.append(Expected(match["code"], path, line, fragments))
    return found


def issues_of(source) -> list[fabula.Issue]:
    """The issues a spec raises on its way to a plan (what `fabula check` reports)."""
    with pytest.raises(SpecError) as caught:
        fabula.compile_plan(source)
    return list(caught.value.issues)


FIXTURE_FILES = sorted(FIXTURES.glob("*.yaml"))


def test_every_fixture_has_a_header():
    assert FIXTURE_FILES, f"no fixtures in {FIXTURES}"
    for file in FIXTURE_FILES:
        assert expectations(file), f"{file.name} has no `# expect:` header line"


@pytest.mark.parametrize("file", FIXTURE_FILES, ids=[file.stem for file in FIXTURE_FILES])
def test_bad_spec_fixture(file: Path):
    expected = expectations(file)
    issues = issues_of(str(file))
    got = sorted((issue.code, issue.path) for issue in issues)
    assert got == sorted((want.code, want.path) for want in expected), \
        "exactly the expected issues, no more:\n" + "\n".join(issue.render() for issue in issues)
    for want in expected:
        issue = next(issue for issue in issues if (issue.code, issue.path) == (want.code, want.path))
        assert issue.file == str(file)
        assert issue.line == want.line, issue.render()
        shown = issue.render()
        for fragment in want.fragments:
            assert fragment in shown, f"{fragment!r} not in:\n{shown}"
        _assert_plain_words(issue)


def _assert_plain_words(issue: fabula.Issue) -> None:
    """What a user reads names YAML keys, never pydantic or Python internals."""
    shown = issue.render()
    for jargon in ("union_tag", "function-after", "function-before", "Input should", "instance of",
                   "pydantic", "Column", "typing.", "datetime.date", "NoneType", "Value error",
                   "Literal", "dictionary<"):
        assert jargon not in shown, f"{jargon!r} in:\n{shown}"


# -- every error code the loader and planner can produce has a fixture ---------------------------

# Codes that cannot be a bad YAML file; each has its own test below.
TESTED_ELSEWHERE = {
    "unreadable-file": "test_unreadable_file",
    "unknown-spec": "test_unknown_spec_name",
    "bad-encoding": "test_bad_encoding",  # a fixture's header could not be read as UTF-8 text
    "idle-event": "test_events_without_effect_are_warnings",  # a warning, never a refusal
}


def codes_in_source() -> dict[str, list[str]]:
    """Every literal code passed as the first argument to `Issue(...)` or `<x>.issue(...)`."""
    codes: dict[str, list[str]] = {}
    for file in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in ("Issue", "issue"):
                continue
            for code in _literal_codes(node.args[0]):
                codes.setdefault(code, []).append(f"{file.relative_to(SOURCE)}:{node.lineno}")
    return codes


def _literal_codes(node: ast.expr) -> list[str]:
    """A literal code, or both results of `"a" if test else "b"` (not the strings in the test)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _literal_codes(node.body) + _literal_codes(node.orelse)
    return []


def test_the_code_scan_finds_the_known_codes():
    """Guards the scan itself: if it found nothing, the coverage test below would pass vacuously."""
    found = codes_in_source()
    for code in ("unknown-key", "unknown-kind", "wrong-type", "bad-value", "duplicate-key",
                 "malformed-yaml", "cycle", "unknown-column", "bad-column"):
        assert code in found, code


def test_every_error_code_has_a_fixture():
    covered = {want.code for file in FIXTURE_FILES for want in expectations(file)}
    missing = {code: where for code, where in codes_in_source().items()
               if code not in covered and code not in TESTED_ELSEWHERE}
    assert not missing, f"error codes with no bad-spec fixture in {FIXTURES}: {missing}"


def test_unreadable_file(tmp_path):
    folder = tmp_path / "spec.yaml"
    folder.mkdir()  # exists, ends in .yaml, but cannot be read as a file
    (issue,) = issues_of(str(folder))
    assert issue.code == "unreadable-file"
    assert issue.file == str(folder)
    assert "cannot read the spec file" in issue.message and issue.hint


@pytest.mark.parametrize("data, words", [
    ("name: caf\xe9\n".encode("latin-1"), ["not UTF-8 text", "byte 0xe9 on line 1", "Latin-1"]),
    ("name: d\n".encode("utf-16"), ["UTF-16 text", "save it as UTF-8"]),
    ("name: d\n".encode("utf-16-le"), ["looks like UTF-16"]),
    (bytes(range(256)), ["binary", "NUL bytes"]),
], ids=["latin-1", "utf-16", "utf-16-no-bom", "binary"])
def test_bad_encoding(tmp_path, data, words):
    file = tmp_path / "spec.yaml"
    file.write_bytes(data)
    (issue,) = issues_of(str(file))
    assert issue.code == "bad-encoding" and issue.file == str(file), issue.render()
    for word in words:
        assert word in issue.render()


def test_a_device_is_refused_before_reading():
    (issue,) = issues_of(Path("/dev/zero"))
    assert issue.code == "unreadable-file"
    assert "not a regular file" in issue.message


def test_events_without_effect_are_warnings():
    """An event outside every timeline, or a volume on a table off the timelines, changes
    nothing: the spec is accepted, and each is a warning with its path."""
    spec = fabula.load_spec("""\
name: d
seed: 1
as_of: 2024-12-31
timelines:
  s: {start: -30d, end: today, rate: 10}
events:
  early: {start: 2020-01-01, end: 2020-02-01, volume: {t: 2}}
  inside: {start: -10d, end: -5d, volume: {t: 2, u: 3}}
tables:
  t:
    rows: {timeline: s}
    columns:
      at: {kind: timestamp, timeline: s}
  u:
    rows: 10
    columns:
      a: {kind: sequence}
""")
    warnings = {(warning.code, warning.path) for warning in spec.where.warnings}
    assert warnings == {("idle-event", "events.early"), ("idle-event", "events.inside.volume.u")}
    assert fabula.compile_plan(spec).table("u").rows == 10


def test_a_broken_timeline_column_adds_no_knock_on_errors():
    """`timeline` with `after` and a `lag` breaks the column; the override that it would have
    placed in time must not also be told its time column is ambiguous."""
    issues = issues_of("""\
name: d
seed: 1
as_of: 2024-12-31
timelines:
  s: {start: -30d, end: today, rate: 10}
events:
  e: {start: -10d, end: -5d}
tables:
  orders:
    rows: 10
    columns:
      order_id: {kind: id, format: "O-{:04d}"}
      ordered_at: {kind: timestamp, start: -30d, end: today}
  t:
    rows: {timeline: s}
    columns:
      order_id: {kind: reference, to: orders.order_id}
      at: {kind: timestamp, timeline: s, after: order_id.ordered_at, lag: 2}
      x: {kind: expression, expr: "hour(at)"}
      y: {kind: categorical, values: [a, b], during: {e: {values: [a]}}}
""")
    assert [(issue.code, issue.path) for issue in issues] == [("bad-value", "tables.t.columns.at")], \
        "\n".join(issue.render() for issue in issues)


def test_unknown_spec_name():
    (issue,) = issues_of("retial")
    assert issue.code == "unknown-spec"
    assert "'retial'" in issue.message and "retail" in issue.hint


# -- many problems at once --------------------------------------------------------------------------

MANY = """\
name: many_problems
seed: 7
as_of: 2024-12-31
tables:
  customers:
    rows: 100
    columns:
      customer_id: {kind: id, format: "C-{:05d}"}
      tier: {kind: categorical, values: {Free: 60, Pro: 0}}
      company: {kind: faker, provider: compnay}
      signup: {kind: date, start: 2024-06-01, end: 2024-01-01}
  orders:
    rows: 1000
    columns:
      unit_price: {kind: lognormal, mean: 3, sigmma: 0.9}
      quantity: {kind: poison, lam: 2}
      amount: {kind: expression, expr: "quantity * unit_price"}
      a: {kind: expression, expr: "b + 1"}
      b: {kind: expression, expr: "a + 1"}
      discount: {kind: expression, expr: "amount * rate"}
"""

# (code, path, line): everything wrong with MANY, and nothing else. `amount` reads two columns
# that failed to parse: that is not an "unknown column".
MANY_EXPECTED = [
    ("bad-value", "tables.customers.columns.tier.values", 9),
    ("unknown-provider", "tables.customers.columns.company.provider", 10),
    ("inverted-dates", "tables.customers.columns.signup.start", 11),
    ("unknown-key", "tables.orders.columns.unit_price.sigmma", 15),
    ("unknown-kind", "tables.orders.columns.quantity.kind", 16),
    ("cycle", "tables.orders.columns.a", 18),
    ("unknown-column", "tables.orders.columns.discount.expr", 20),
]


def test_many_problems_reported_in_one_error(tmp_path):
    file = tmp_path / "many.yaml"
    file.write_text(MANY, encoding="utf-8")
    issues = issues_of(str(file))
    got = sorted((issue.code, issue.path, issue.line) for issue in issues)
    assert got == sorted(MANY_EXPECTED), "\n".join(issue.render() for issue in issues)
    assert all(issue.file == str(file) for issue in issues)
    assert [issue.line for issue in issues] == sorted(issue.line for issue in issues), "in file order"
    assert not any(issue.code == "missing-parameter" for issue in issues), "sigmma is one problem"
    unknown = next(issue for issue in issues if issue.code == "unknown-column")
    assert "`rate`" in unknown.message and "amount" not in unknown.message


def test_many_problems_rendered_in_one_message(tmp_path):
    file = tmp_path / "many.yaml"
    file.write_text(MANY, encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        fabula.load_spec(str(file))
    text = str(caught.value)
    assert text.startswith(f"the spec has {len(MANY_EXPECTED)} problems:")
    assert f"{file}:15  tables.orders.columns.unit_price.sigmma  unknown key `sigmma`" in text
    assert "    hint: did you mean `sigma`?" in text
    assert "(got 'poison')" in text and "did you mean `poisson`?" in text


def test_reading_a_broken_column_is_not_an_unknown_column():
    """`by`, `expr` and `template` naming a column that failed to parse: only its own issue."""
    text = """\
name: d
tables:
  t:
    rows: 5
    columns:
      tier: {kind: categorical, values: {Free: 1, Pro: -1}}
      price: {kind: lognormel, mean: 1, sigma: 1}
      total: {kind: expression, expr: "price * 2"}
      label: {kind: template, template: "{tier}-{price}"}
      arr:
        kind: lognormal
        sigma: 1
        by: tier
        cases: {Free: {mean: 1}, Enterprise: {mean: 2}}
"""
    issues = issues_of(text)
    assert sorted((issue.code, issue.path) for issue in issues) == [
        ("bad-value", "tables.t.columns.tier.values"),
        ("unknown-kind", "tables.t.columns.price.kind"),
    ], "\n".join(issue.render() for issue in issues)


@pytest.mark.parametrize("column", [
    "{kind: timestamp, start: -1y, end: today, after: ''}",
    "{kind: id, format: 'T-{:04d}', order_by: ''}",
    "{kind: sequence, order_by: ''}",
])
def test_an_empty_column_reference_is_an_unknown_column(column):
    """An empty name is a reference like any other (found by the fuzz: `after: ''` once passed
    check and crashed generation)."""
    text = f"""\
name: d
tables:
  t:
    rows: 5
    columns:
      at: {{kind: timestamp, start: -1y, end: today}}
      c: {column}
"""
    issues = issues_of(text)
    assert [(issue.code, issue.path) for issue in issues] == [("unknown-column", "tables.t.columns.c")], \
        "\n".join(issue.render() for issue in issues)


def test_a_broken_header_does_not_hide_column_problems():
    """The dataset's and a table's own keys failing must not skip the checks across columns."""
    text = MANY.replace("seed: 7", "seed: seven").replace("rows: 1000", "rows: -1")
    codes = {(issue.code, issue.path) for issue in issues_of(text)}
    assert ("wrong-type", "seed") in codes
    assert ("bad-value", "tables.orders.rows") in codes
    for code, path, _ in MANY_EXPECTED:
        assert (code, path) in codes


def test_the_same_problems_from_a_python_dict():
    """`load_spec(dict)` reports the same issues (codes and paths), with no file or line."""
    data = yaml.safe_load(MANY)
    with pytest.raises(SpecError) as caught:
        fabula.load_spec(data)
    issues = caught.value.issues
    assert sorted((issue.code, issue.path) for issue in issues) == \
        sorted((code, path) for code, path, _ in MANY_EXPECTED)
    assert all(issue.file is None and issue.line is None for issue in issues)
    assert all(issue.render().startswith("<spec>  ") for issue in issues)


def test_dict_issue_messages_match_the_file(tmp_path):
    file = tmp_path / "many.yaml"
    file.write_text(MANY, encoding="utf-8")
    from_file = {(i.code, i.path): (i.message, i.hint) for i in issues_of(str(file))}
    from_dict = {(i.code, i.path): (i.message, i.hint) for i in issues_of(yaml.safe_load(MANY))}
    assert from_file == from_dict


# -- the command line -------------------------------------------------------------------------------

BAD = FIXTURES / "unknown-column.yaml"


def _assert_reported(stderr: str, file: Path = BAD) -> None:
    first, line, hint = stderr.strip().splitlines()[:3]
    assert first == "the spec has 1 problem:"
    assert line == (f"{file}:10  tables.t.columns.total.expr  refers to column `quantty`, which this table "
                    "does not have (got 'quantty * unit_price')")
    assert hint == "    hint: did you mean `quantity`?"


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fabula", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120, env={**_env(), "COLUMNS": "60"})


def _env() -> dict[str, str]:
    import os

    return {key: value for key, value in os.environ.items() if key not in ("FORCE_COLOR",)}


def test_cli_check_bad_spec_exits_2(tmp_path):
    """Run as a user runs it; a narrow terminal must not wrap an issue across lines."""
    done = _run("check", str(BAD), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    _assert_reported(done.stderr)
    assert done.stdout == ""


def test_cli_generate_bad_spec_writes_nothing(tmp_path):
    out = tmp_path / "out"
    done = _run("generate", str(BAD), "--out", str(out), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    _assert_reported(done.stderr)
    assert sorted(path.name for path in tmp_path.iterdir()) == [], "nothing at --out, nor a temp sibling"


def _main(argv: list[str], capsys) -> tuple[int, str, str]:
    from fabula.cli.main import main

    with pytest.raises(SystemExit) as exited:
        main(argv)
    captured = capsys.readouterr()
    return exited.value.code, captured.out, captured.err


@pytest.mark.parametrize("file", [FIXTURES / "duplicate-key.yaml", FIXTURES / "malformed-yaml.yaml",
                                  FIXTURES / "bad-column.yaml"], ids=lambda file: file.stem)
def test_cli_generate_reports_every_fixture_issue(file, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, stderr = _main(["generate", str(file), "--out", str(out)], capsys)
    assert code == 2
    for want in expectations(file):
        where = f"{file}:{want.line}" if want.line else str(file)
        assert f"{where}  {want.path or '(top level)'}  " in stderr, stderr
    assert "hint: " in stderr
    assert list(tmp_path.iterdir()) == []


def test_cli_check_many_problems(tmp_path, capsys):
    file = tmp_path / "many.yaml"
    file.write_text(MANY, encoding="utf-8")
    code, stdout, stderr = _main(["check", str(file)], capsys)
    assert code == 2
    assert f"the spec has {len(MANY_EXPECTED)} problems:" in stderr
    for _, path, line in MANY_EXPECTED:
        assert f"{file}:{line}  {path}  " in stderr
    assert stderr.count("hint: ") == len(MANY_EXPECTED)


# -- no knock-on errors from a broken table or key ---------------------------------------------------

KNOCK_ON = """\
name: d
seed: 1
tables:
  {customers}
  orders:
    rows: {{per: customers, count: 2}}
    columns:
      customer_id: {{kind: reference, to: customers.customer_id}}
      tier: {{kind: lookup, from: customer_id.tier}}
      amount: {{kind: lognormal, mean: 1, sigma: 1, by: customer_id.tier, cases: {{a: {{}}}}}}
"""


@pytest.mark.parametrize("customers, expected", [
    ("customers: 5", ("wrong-type", "tables.customers")),
    ("customers: {rows: 10, columns: 7}", ("wrong-type", "tables.customers.columns")),
    ("customers: {rows: 10, columns: {customer_id: {kind: idd}, tier: {kind: categorical, values: [a]}}}",
     ("unknown-kind", "tables.customers.columns.customer_id.kind")),
], ids=["table-not-a-mapping", "columns-not-a-mapping", "broken-key"])
def test_relations_into_a_broken_table_add_no_noise(customers, expected, tmp_path, capsys):
    """Only the broken part is reported: not "no table named", "has no column" for what points
    into it, nor a cycle found while compiling the rest."""
    text = KNOCK_ON.format(customers=customers)
    assert [(issue.code, issue.path) for issue in issues_of(text)] == [expected]
    file = tmp_path / "spec.yaml"
    file.write_text(text, encoding="utf-8")
    code, _, stderr = _main(["check", str(file)], capsys)
    assert code == 2 and "the spec has 1 problem:" in stderr, stderr


def test_check_reports_problems_of_every_stage_at_once(tmp_path, capsys):
    """A problem only compiling finds (an overflow the literals prove) is reported together with
    the loader's, in one run."""
    file = tmp_path / "spec.yaml"
    file.write_text("""\
name: d
seed: 1
tables:
  t:
    rows: 10
    columns:
      a: {kind: id, format: "{:999999999d}"}
      b: {kind: sequence}
      c: {kind: expression, expr: "10**10**10"}
      d: {kind: expression, expr: "a + 1"}
""", encoding="utf-8")
    code, _, stderr = _main(["check", str(file)], capsys)
    assert code == 2
    assert "the spec has 2 problems:" in stderr, stderr
    assert "zero-padded to 999,999,999 digits" in stderr and "`**` overflows 64-bit integers" in stderr
    assert "columns.d" not in stderr, "d reads the broken column: not a problem of its own"
