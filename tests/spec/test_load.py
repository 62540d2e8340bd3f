"""Loading good specs: every way in (file, YAML text, dict, built-in name), every shorthand the
YAML allows, a hash that ignores layout, and issue lines that point at the nested key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

import fabula
from fabula.errors import SpecError
from fabula.spec import load_text
from fabula.spec.columns import (
    CategoricalColumn,
    ConditionalColumn,
    ConstantColumn,
    DateColumn,
    TimestampColumn,
)
from fabula.generators.numeric import LogNormalColumn
from fabula.spec.dates import resolve_bound

SMALL = """\
name: small
seed: 3
as_of: 2024-12-31
tables:
  customers:
    rows: 20
    columns:
      customer_id: {kind: id, format: "C-{:04d}"}
      tier: {kind: categorical, values: {Free: 60, Pro: 30, Enterprise: 10}}
      country: US
      arr:
        kind: lognormal
        round: 2
        by: tier
        cases:
          Enterprise: {mean: 11, sigma: 0.5}
          Pro: {mean: 8, sigma: 0.6}
          Free: 0
      created_at: {kind: date, start: -2y, end: -6mo}
"""


def columns(spec, table="customers"):
    return spec.tables[table].columns


# -- every way in ------------------------------------------------------------------------------------


def test_from_a_file_path(tmp_path):
    file = tmp_path / "small.yaml"
    file.write_text(SMALL, encoding="utf-8")
    for source in (file, str(file)):
        spec = fabula.load_spec(source)
        assert spec.name == "small" and spec.seed == 3 and spec.as_of == date(2024, 12, 31)
        assert list(columns(spec)) == ["customer_id", "tier", "country", "arr", "created_at"]
        assert spec.where.file == str(file)


def test_from_yaml_text():
    spec = fabula.load_spec(SMALL)
    assert spec.tables["customers"].rows == 20
    assert spec.where.file is None


def test_from_a_dict():
    data = yaml.safe_load(SMALL)
    spec = fabula.load_spec(data)
    assert spec.spec_hash() == fabula.load_spec(SMALL).spec_hash()
    assert spec.source == data


def test_a_spec_passes_through():
    spec = fabula.load_spec(SMALL)
    assert fabula.load_spec(spec) is spec


def test_builtin_name():
    spec = fabula.load_spec("retail")
    assert spec.name == "retail"
    assert set(spec.tables) == {"customers", "products", "orders", "order_items", "returns"}
    assert spec.where.file == "<builtin retail>"
    plan = fabula.compile_plan("retail")
    assert plan.table("products").rows == 500
    assert plan.table("orders").rows == sum(
        fabula.preview(plan, rows=10_000)["customers"].column("n_orders").to_pylist())


def test_the_columns_keep_their_written_order():
    assert list(columns(fabula.load_spec("retail"), "orders"))[:3] == ["order_id", "customer_id", "order_uuid"]


# -- shorthands ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("written, value", [("US", "US"), ("0", 0), ("2.5", 2.5), ("true", True),
                                            ("2024-01-01", date(2024, 1, 1))])
def test_scalar_column_is_a_constant(written, value):
    spec = load_text(f"name: d\ntables:\n  t:\n    rows: 2\n    columns:\n      c: {written}\n")
    column = spec.tables["t"].columns["c"]
    assert isinstance(column, ConstantColumn)
    assert column.value == value and type(column.value) is type(value)


def test_conditional_column():
    arr = columns(fabula.load_spec(SMALL))["arr"]
    assert isinstance(arr, ConditionalColumn)
    assert arr.by == "tier" and arr.round == 2 and arr.default is None
    cases = dict(arr.cases)
    assert list(cases) == ["Enterprise", "Pro", "Free"]
    assert cases["Enterprise"] == LogNormalColumn(kind="lognormal", mean=11, sigma=0.5)
    assert cases["Free"] == ConstantColumn(kind="constant", value=0), "a bare scalar case is a constant"
    assert arr.depends_on() == {"tier"}


def test_conditional_cases_inherit_and_override():
    spec = load_text("""\
name: d
tables:
  t:
    rows: 5
    columns:
      tier: {kind: categorical, values: [Free, Pro, Enterprise]}
      seats:
        kind: poisson
        lam: 3
        nulls: 0.1
        by: tier
        cases:
          Free: {kind: constant, value: 1}
          Pro: {lam: 10}
        default: {lam: 50}
""")
    seats = spec.tables["t"].columns["seats"]
    cases = dict(seats.cases)
    assert cases["Free"].kind == "constant" and cases["Free"].value == 1, "a case may name another kind"
    assert cases["Pro"].kind == "poisson" and cases["Pro"].lam == 10, "a case inherits the kind"
    assert seats.default.kind == "poisson" and seats.default.lam == 50
    assert seats.nulls == 0.1 and cases["Pro"].nulls == 0.0, "modifiers apply once, to the whole column"
    plan = fabula.compile_plan(spec)
    assert plan.table("t").rows == 5


def test_a_case_naming_another_kind_does_not_inherit_its_parameters():
    spec = load_text("""\
name: d
tables:
  t:
    rows: 5
    columns:
      active: {kind: boolean, p: 0.5}
      score:
        kind: normal
        mean: 50
        std: 10
        by: active
        cases:
          true: {kind: uniform, low: 0, high: 1}
          false: {std: 1}
""")
    cases = dict(spec.tables["t"].columns["score"].cases)
    assert cases[True].kind == "uniform" and (cases[True].low, cases[True].high) == (0, 1)
    assert cases[False].mean == 50 and cases[False].std == 1


def test_list_form_categorical_values_are_equal_weights():
    spec = load_text("name: d\ntables:\n  t:\n    rows: 2\n    columns:\n"
                     "      channel: {kind: categorical, values: [web, app, store]}\n")
    channel = spec.tables["t"].columns["channel"]
    assert isinstance(channel, CategoricalColumn)
    assert channel.values == {"web": 1.0, "app": 1.0, "store": 1.0}
    assert channel.weights == pytest.approx({"web": 1 / 3, "app": 1 / 3, "store": 1 / 3})


def test_relative_date_bounds_resolve_against_as_of():
    created_at = columns(fabula.load_spec(SMALL))["created_at"]
    assert isinstance(created_at, DateColumn)
    assert (created_at.start, created_at.end) == ("-2y", "-6mo")
    as_of = date(2024, 12, 31)
    assert resolve_bound(created_at.start, as_of) == date(2022, 12, 31)
    assert resolve_bound(created_at.end, as_of) == date(2024, 6, 30)


def test_date_bounds_mixed_absolute_and_relative():
    spec = load_text("name: d\nas_of: 2024-03-31\ntables:\n  t:\n    rows: 2\n    columns:\n"
                     "      at: {kind: timestamp, start: 2024-01-01, end: today, unit: s}\n")
    at = spec.tables["t"].columns["at"]
    assert isinstance(at, TimestampColumn)
    assert at.start == date(2024, 1, 1) and at.end == "today" and at.unit == "s"


def test_relative_bounds_are_checked_against_the_pinned_as_of():
    """-1mo..today is fine on 2024-03-31; the inverted check uses the spec's as_of, not the clock."""
    text = "name: d\nas_of: 2024-03-31\ntables:\n  t:\n    rows: 2\n    columns:\n" \
           "      at: {kind: date, start: 2024-03-15, end: -1w}\n"
    assert load_text(text).tables["t"].columns["at"].end == "-1w"
    with pytest.raises(SpecError) as caught:
        load_text(text.replace("2024-03-31", "2024-03-20"))
    (issue,) = caught.value.issues
    assert issue.code == "inverted-dates" and "with as_of 2024-03-20" in issue.message


# -- spec_hash ---------------------------------------------------------------------------------------

BLOCK = """\
name: h
seed: 1
tables:
  t:
    rows: 10
    columns:
      price:
        kind: lognormal
        mean: 3
        sigma: 0.5
        round: 2
      tier:
        kind: categorical
        values:
          a: 2
          b: 1
"""

FLOW = """\
name: h
tables: {t: {columns: {price: {sigma: 0.5, round: 2, mean: 3.0, kind: lognormal},
                       tier: {values: {a: 2, b: 1}, kind: categorical}}, rows: 10}}
seed: 1
"""


def test_spec_hash_ignores_layout():
    assert load_text(BLOCK).spec_hash() == load_text(FLOW).spec_hash()
    assert load_text(BLOCK).spec_hash() == fabula.load_spec(yaml.safe_load(FLOW)).spec_hash()


@pytest.mark.parametrize("old, new", [
    ("mean: 3\n", "mean: 3.1\n"),                  # a column parameter
    ("round: 2\n", "round: 3\n"),                  # a modifier
    ("rows: 10\n", "rows: 11\n"),                  # a table
    ("seed: 1\n", "seed: 2\n"),                    # the dataset
    ("kind: lognormal\n", "kind: normal\n"),       # the kind (with std in place of sigma)
    ("          a: 2\n          b: 1\n", "          b: 1\n          a: 2\n"),  # draws map to values in order
])
def test_spec_hash_changes_with_any_value(old, new):
    changed = BLOCK.replace(old, new)
    if "normal\n" in new:
        changed = changed.replace("sigma: 0.5", "std: 0.5")
    assert changed != BLOCK
    assert load_text(changed).spec_hash() != load_text(BLOCK).spec_hash()


def test_spec_hash_with_date_values():
    spec = load_text("name: d\ntables:\n  t:\n    rows: 2\n    columns:\n"
                     "      day: {kind: categorical, values: [2024-01-01, 2024-01-02]}\n")
    assert len(spec.spec_hash()) == 64
    assert spec.canonical()["tables"]["t"]["columns"]["day"]["values"] == {"2024-01-01": 1.0, "2024-01-02": 1.0}


# -- where issues point -------------------------------------------------------------------------------

NESTED = """\
name: lines
seed: 1
tables:
  t:
    rows: 10
    columns:
      tier: {kind: categorical, values: [Free, Pro]}
      price:
        kind: normal
        mean: 5
        std: 1
        clip:
          min: 0
          max: -1
      arr:
        kind: lognormal
        sigma: 1
        by: tier
        cases:
          Free: {mean: 1}
          Pro:
            mean: 2
            sigma: -3
      status:
        kind: categorical
        values:
          - a
          - a
"""


def test_issue_lines_point_at_nested_keys():
    with pytest.raises(SpecError) as caught:
        load_text(NESTED, file="lines.yaml")
    found = {issue.path: issue.line for issue in caught.value.issues}
    assert found == {
        "tables.t.columns.price.clip": 12,          # min > max: the `clip:` key
        "tables.t.columns.arr.cases.Pro.sigma": 23,  # inside a case, in block style
        "tables.t.columns.status.values": 26,
    }, "\n".join(issue.render() for issue in caught.value.issues)
    assert all(issue.file == "lines.yaml" for issue in caught.value.issues)


def test_issue_line_for_a_list_item_and_a_dataset_key():
    text = "name: d\nseed: -1\ntables:\n  t:\n    rows: 2\n    columns:\n      id:\n        kind: id\n" \
           "        format: \"X-{}-{}\"\n"
    with pytest.raises(SpecError) as caught:
        load_text(text)
    found = {issue.path: issue.line for issue in caught.value.issues}
    assert found == {"seed": 2, "tables.t.columns.id.format": 9}


def test_loaded_specs_remember_where_each_key_was_written(tmp_path: Path):
    spec = load_text(SMALL, file="small.yaml")
    assert spec.where.line(("tables", "customers", "columns", "arr", "cases", "Free")) == 18
    assert spec.where.line(("tables", "customers", "columns", "created_at", "start")) == 19
