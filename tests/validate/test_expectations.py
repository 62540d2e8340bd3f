"""`expect:` — each readable form computes what it says (checked against DuckDB and pyarrow
directly on the written files), relative windows count from as_of, bad queries are refused
before anything is generated, and a query that does not return one number fails clearly."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pyarrow.compute as pc
import pytest
import yaml
from helpers import read_table
from validate.shop import SHOP

import fabula
from fabula.spec.expectations import Expectation
from fabula.validate import expectation_sql


def observed(out, name: str) -> float:
    report = json.loads((out / "report.json").read_text())
    return next(check["observed"] for check in report["checks"] if check["name"] == name)


def test_share_is_the_share_of_rows(shop_output):
    orders = read_table(shop_output, "orders")
    status = orders.column("status").cast("string")
    expected = pc.sum(pc.equal(status, "completed")).as_py() / orders.num_rows
    assert observed(shop_output, "most orders complete") == pytest.approx(expected, rel=1e-9)


def test_ratio_is_numerator_over_denominator(shop_output):
    orders = read_table(shop_output, "orders")
    promo = orders.column("promo")
    amount = orders.column("amount")
    numerator = pc.mean(amount.filter(promo)).as_py()
    denominator = pc.mean(amount.filter(pc.invert(promo))).as_py()
    assert observed(shop_output, "promo orders are as big as the others") == pytest.approx(numerator / denominator,
                                                                                         rel=1e-9)


def test_uplift_is_daily_volume_inside_over_outside(shop_output):
    orders = read_table(shop_output, "orders")
    days = orders.column("ordered_at").to_pylist()
    first, last = min(days), max(days)
    start, end = date(2024, 3, 1), date(2024, 3, 7)
    inside = sum(start <= day <= end for day in days)
    span = (last - first).days + 1
    window = (min(end, last) - max(start, first)).days + 1
    expected = (inside / window) / ((len(days) - inside) / (span - window))
    assert observed(shop_output, "the spring sale spikes orders") == pytest.approx(expected, rel=1e-9)


def test_sql_runs_on_the_written_files(shop_output):
    connection = duckdb.connect()
    files = [str(path) for path in sorted((shop_output / "orders").glob("*.parquet"))]
    value = connection.execute("select avg(amount) from read_parquet(?) where status = 'completed'", [files]).fetchone()[0]
    assert observed(shop_output, "completed orders average 30-50") == pytest.approx(value, rel=1e-9)


def test_a_relative_window_counts_from_as_of():
    expectation = Expectation(name="last week", uplift={"table": "t", "time": "at", "window": ["-7d", "today"]},
                              between=[1, None])
    sql = expectation_sql(expectation, date(2024, 6, 30))
    assert "date '2024-06-23'" in sql and "date '2024-06-30'" in sql


def test_share_of_several_values_and_a_filter():
    expectation = Expectation(name="open", share={"table": "orders", "column": "status", "value": ["pending", "new"],
                                                  "where": "amount > 10"}, between=[0, 0.5])
    sql = expectation_sql(expectation, date(2024, 1, 1))
    assert "in ('pending', 'new')" in sql and "where ((amount > 10))" in sql  # as DuckDB writes it back


def test_bad_sql_is_refused_before_generating(tmp_path):
    spec = yaml.safe_load(SHOP)
    spec["expect"] = [{"name": "typo", "sql": "select avg(amont) from orders", "between": [0, 1]}]
    with pytest.raises(fabula.SpecError) as refused:
        fabula.generate(spec, tmp_path / "out")
    (issue,) = refused.value.issues
    assert issue.code == "bad-expectation" and issue.path == "expect.0.sql"
    assert "amont" in issue.message and "each table is a view named after it" in issue.hint
    assert not (tmp_path / "out").exists()


def test_a_query_of_several_rows_fails_its_check(tmp_path):
    spec = yaml.safe_load(SHOP)
    spec["expect"] = [
        {"name": "one row per status", "sql": "select count(*) from orders group by status", "between": [0, None]},
        {"name": "nothing matches", "sql": "select avg(amount) from orders where amount < 0", "between": [0, 1]},
    ]
    fabula.generate(spec, tmp_path / "out", scale=0.05)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    checks = {check["name"]: check for check in report["checks"] if check["family"] == "expectations"}
    assert checks["one row per status"]["verdict"] == "fail"
    assert "must return one number, and it returned 2+ rows of 1 columns" in checks["one row per status"]["message"]
    assert checks["nothing matches"]["verdict"] == "fail"
    assert "returned None, not a number (no rows matched?)" in checks["nothing matches"]["message"]


def test_expectations_survive_the_manifest(shop_output):
    """`fabula validate` rebuilds the expectations from the manifest's spec."""
    manifest = json.loads((shop_output / "manifest.json").read_text())
    names = [entry["name"] for entry in manifest["spec"]["expect"]]
    assert names == [entry["name"] for entry in yaml.safe_load(SHOP)["expect"]]


# -- a spec's SQL is read by DuckDB's parser and runs in the sandbox (tests/security has the attacks) --


def _refused(spec: dict) -> list[fabula.Issue]:
    with pytest.raises(fabula.SpecError) as refused:
        fabula.compile_plan(spec)
    return list(refused.value.issues)


def test_a_query_that_is_not_one_select_is_refused_at_load():
    spec = yaml.safe_load(SHOP)
    spec["expect"] = [{"name": "two", "sql": "select avg(amount) from orders; select 1", "between": [0, 1]},
                      {"name": "pragma", "sql": "pragma version", "between": [0, 1]}]
    issues = _refused(spec)
    assert [(issue.code, issue.path) for issue in issues] == [("bad-sql", "expect.0.sql"), ("bad-sql", "expect.1.sql")]
    assert "2 statements" in issues[0].message and issues[0].value == spec["expect"][0]["sql"]
    assert "PRAGMA" in issues[1].message and "one SELECT" in issues[1].hint


def test_every_fragment_is_one_expression():
    spec = yaml.safe_load(SHOP)
    spec["expect"] = [{"name": "injected", "between": [0, None], "ratio": {
        "table": "orders", "where": "1=1) or (1=1",
        "numerator": {"value": "avg(amount)) from orders --", "where": "promo"},
        "denominator": {"value": "avg(amount)", "where": "promo; select 1"}}}]
    paths = sorted(issue.path for issue in _refused(spec))
    assert paths == ["expect.0.ratio.denominator.where", "expect.0.ratio.numerator.value", "expect.0.ratio.where"]


def test_a_where_must_be_a_condition():
    spec = yaml.safe_load(SHOP)
    spec["expect"] = [{"name": "share of big", "between": [0, 1],
                       "share": {"table": "orders", "column": "status", "value": "completed", "where": "amount"}}]
    (issue,) = _refused(spec)
    assert (issue.code, issue.path) == ("bad-expectation", "expect.0.share.where")
    assert "DOUBLE, not true or false" in issue.message and issue.value == "amount"


def test_a_where_may_ask_another_table(tmp_path):
    """A subquery is part of one expression: it runs in the sandbox like any other SQL."""
    spec = yaml.safe_load(SHOP)
    spec["expect"] = [{"name": "Enterprise orders complete", "between": [0.75, 0.85], "share": {
        "table": "orders", "column": "status", "value": "completed",
        "where": "customer_id in (select customer_id from customers where tier = 'Enterprise')"}}]
    fabula.generate(spec, tmp_path / "out", scale=0.05)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    (check,) = [check for check in report["checks"] if check["family"] == "expectations"]
    assert check["verdict"] == "pass", check["message"]
    assert "SELECT customer_id FROM customers" in check["details"]["sql"]  # as DuckDB's parser wrote it back

