"""`partition_by:` is checked at load: the most folders a spec can make is known before any work."""

from __future__ import annotations

import pytest

import fabula
from fabula.spec.partitions import MAX_PARTITIONS


def spec(partition_by, **columns):
    base = {"id": {"kind": "sequence"}}
    return {"name": "d", "seed": 1, "as_of": "2024-12-31",
            "tables": {"t": {"rows": 10, "partition_by": partition_by, "columns": {**base, **columns}}}}


def issues(source) -> list[str]:
    with pytest.raises(fabula.SpecError) as caught:
        fabula.load_spec(source)
    return [f"{issue.path}: {issue.message}" for issue in caught.value.issues]


@pytest.mark.parametrize("column", [
    {"kind": "categorical", "values": ["a", "b"]},
    {"kind": "categorical", "values": {1: 1, 2: 3}, "nulls": 0.5},
    {"kind": "boolean", "p": 0.5},
    {"kind": "constant", "value": "x"},
    {"kind": "date", "start": "-999d", "end": "today"},
    {"kind": "categorical", "values": ["a", "b"], "by": "id", "bins": [5], "cases": {"<5": {"values": ["c"]}, ">=5": {"values": ["d"]}}},
])
def test_columns_with_a_few_known_values_are_partitions(column):
    assert fabula.load_spec(spec("p", p=column)).tables["t"].partition_by == ("p",)


@pytest.mark.parametrize("column,why", [
    ({"kind": "normal", "mean": 1, "std": 1}, "no fixed set of values"),
    ({"kind": "poisson", "lam": 3}, "no fixed set of values"),
    ({"kind": "timestamp", "start": "-1d", "end": "today"}, "a timestamp"),
    ({"kind": "id", "format": "X-{:03d}"}, "a key"),
    ({"kind": "template", "template": "x{id}"}, "no fixed, small set"),
    ({"kind": "categorical", "values": [0.5, 1.5]}, "fractional"),
    ({"kind": "categorical", "values": ["", "a"]}, "empty text"),
    ({"kind": "date", "start": "-2000d", "end": "today"}, f"more than the {MAX_PARTITIONS:,} allowed"),
])
def test_other_columns_are_refused_with_why(column, why):
    found = issues(spec(["p"], p=column))
    assert len(found) == 1 and why in found[0], found


def test_the_bound_is_on_the_product_of_the_partition_columns():
    columns = {"a": {"kind": "categorical", "values": list("abcdefghijklmnopqrstuvwxyz")},
               "b": {"kind": "date", "start": "2024-01-01", "end": "2024-02-15"}}
    found = issues(spec(["a", "b"], **columns))
    assert "26 (a) × 46 (b) = 1,196 folders" in found[0]


def test_a_lookup_counts_its_parents_values():
    tables = {
        "parents": {"rows": 5, "columns": {"pid": {"kind": "sequence"},
                                           "tier": {"kind": "categorical", "values": ["x", "y"]},
                                           "score": {"kind": "normal", "mean": 0, "std": 1}}},
        "children": {"rows": 9, "partition_by": ["tier", "score"], "columns": {
            "pid": {"kind": "reference", "to": "parents.pid"},
            "tier": {"kind": "lookup", "from": "pid.tier"},
            "score": {"kind": "lookup", "from": "pid.score"}}}}
    found = issues({"name": "d", "seed": 1, "tables": tables})
    assert found == ["tables.children.partition_by.1: `score` cannot be a partition column: it copies "
                     "parents.score, and a normal column draws numbers with no fixed set of values (a float "
                     "would make a folder per value)"]


def test_hidden_missing_repeated_and_every_column():
    found = issues(spec(["p", "q", "p"], p={"kind": "boolean", "p": 0.5, "hidden": True}))
    assert any("`p` is hidden" in issue for issue in found)
    assert any("no column `q`" in issue for issue in found)
    assert any("listed twice" in issue for issue in found)
    only = {"name": "d", "seed": 1, "tables": {"t": {"rows": 3, "partition_by": "p", "columns": {
        "p": {"kind": "boolean", "p": 0.5}}}}}
    assert any("would leave the files with no columns" in issue for issue in issues(only))
