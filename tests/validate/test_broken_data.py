"""Deliberately broken data: write a real output, damage its Parquet files the way real defects
look, and show `fabula validate DIR --strict` names each one and exits with code 3."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta

import pyarrow.parquet as pq
import pytest
from validate.shop import rewrite, with_values

from fabula.cli.main import main


def run_validate(out, capsys, *extra) -> tuple[int, str, dict]:
    """`fabula validate OUT --strict` in-process: (exit code, everything printed, report.json)."""
    with pytest.raises(SystemExit) as exited:
        main(["validate", str(out), "--strict", *extra])
        raise SystemExit(0)
    captured = capsys.readouterr()
    report = json.loads((out / "report.json").read_text())
    return exited.value.code, captured.out + captured.err, report


def check(report: dict, name: str) -> dict:
    found = [entry for entry in report["checks"] if entry["name"] == name]
    assert found, f"no check named {name!r}: {[entry['name'] for entry in report['checks']]}"
    return found[0]


def failed(report: dict) -> set[str]:
    return {entry["name"] for entry in report["checks"] if entry["verdict"] == "fail"}


def test_the_untouched_output_passes(shop_copy, capsys):
    code, printed, report = run_validate(shop_copy, capsys)
    assert code == 0, printed
    assert report["counts"]["fail"] == 0
    assert "validation PASS" in printed or "validation WARN" in printed


def test_an_orphan_key(shop_copy, capsys):
    rewrite(shop_copy, "orders", lambda rows: with_values(
        rows, "customer_id", lambda values: [*values[:10], "C-999999", *values[11:]]))
    code, printed, report = run_validate(shop_copy, capsys)
    assert code == 3
    orphans = check(report, "orders.customer_id has no orphans")
    assert orphans["verdict"] == "fail" and orphans["observed"] == 1
    assert "1 row points at no customers row (e.g. 'C-999999')" in orphans["message"]
    assert "orders.customer_id has no orphans" in printed


def test_a_duplicated_key(shop_copy, capsys):
    rewrite(shop_copy, "orders", lambda rows: with_values(
        rows, "order_id", lambda values: [*values[:5], values[4], *values[6:]]))
    code, printed, report = run_validate(shop_copy, capsys)
    assert code == 3
    unique = check(report, "orders.order_id is unique")
    assert unique["verdict"] == "fail"
    assert "1 duplicate value (e.g. 'O-0000004' ×2)" in unique["message"]
    assert "orders.order_id is unique" in printed


def test_a_wrong_category_share(shop_copy, capsys):
    def fewer_completed(values):
        completed = 0
        changed = []
        for value in values:
            if value == "completed":
                completed += 1
                value = "cancelled" if completed % 8 == 0 else value  # an eighth of them: 80% -> 70%
            changed.append(value)
        return changed

    rewrite(shop_copy, "orders", lambda rows: with_values(rows, "status", fewer_completed))
    code, printed, report = run_validate(shop_copy, capsys)
    assert code == 3
    shares = check(report, "orders.status shares")
    assert shares["verdict"] == "fail"
    assert "completed 70." in shares["message"] and "(declared 80.0%" in shares["message"]
    assert "cancelled 15." in shares["message"]
    assert check(report, "most orders complete")["verdict"] == "fail"  # the declared expectation too


def test_a_value_that_is_not_declared(shop_copy, capsys):
    rewrite(shop_copy, "orders", lambda rows: with_values(
        rows, "status", lambda values: ["refunded" if index % 1000 == 0 else value
                                        for index, value in enumerate(values)]))
    code, _, report = run_validate(shop_copy, capsys)
    assert code == 3
    assert "values not declared (e.g. 'refunded')" in check(report, "orders.status shares")["message"]


def test_a_wrong_distribution(shop_copy, capsys):
    rewrite(shop_copy, "orders", lambda rows: with_values(
        rows, "amount", lambda values: [round(value * 1.3, 2) for value in values]))
    code, printed, report = run_validate(shop_copy, capsys)
    assert code == 3
    amount = check(report, "orders.amount ~ lognormal(mean=3.5, sigma=0.6), round 2")
    assert amount["verdict"] == "fail"
    assert amount["message"].startswith("does not follow lognormal(mean=3.5, sigma=0.6), round 2:")
    assert amount["observed"]["max_gap"] > amount["tolerance"]
    assert amount["observed"]["mean"] > 1.25 * amount["expected"]["mean"]


def test_aggregates_that_no_longer_add_up(shop_copy, capsys):
    rewrite(shop_copy, "customers", lambda rows: with_values(
        rows, "spend", lambda values: [value + 1 if index in (3, 7, 9) else value
                                       for index, value in enumerate(values)]))
    code, printed, report = run_validate(shop_copy, capsys)
    assert code == 3
    spend = check(report, "customers.spend adds up orders.amount")
    assert spend["verdict"] == "fail" and spend["observed"] == 3
    assert "3 customers rows differ from the sum of their orders" in spend["message"]
    assert check(report, "customers.n_orders counts orders")["verdict"] == "pass"


def test_a_missing_spike(shop_copy, capsys):
    """The promotion's orders spread over the year: the uplift the spec expects is gone."""
    def spread(rows):
        promo = rows.column("promo").to_pylist()
        return with_values(rows, "ordered_at", lambda values: [
            date(2024, 1, 1) + timedelta(days=index % 366) if is_promo else value
            for index, (value, is_promo) in enumerate(zip(values, promo))])

    rewrite(shop_copy, "orders", spread)
    code, printed, report = run_validate(shop_copy, capsys)
    assert code == 3
    spike = check(report, "the spring sale spikes orders")
    assert spike["verdict"] == "fail" and spike["observed"] < 1.5
    assert "outside [3, 30]" in spike["message"]
    assert "the spring sale spikes orders" in printed
    assert check(report, "orders.ordered_at [promo=True] ~ date uniform 2024-03-01..2024-03-07")["verdict"] == "fail"


def test_unexpected_nulls(shop_copy, capsys):
    rewrite(shop_copy, "orders", lambda rows: with_values(
        rows, "amount", lambda values: [None if index % 500 == 0 else value for index, value in enumerate(values)]))
    code, _, report = run_validate(shop_copy, capsys)
    assert code == 3
    nulls = check(report, "orders.amount nulls")
    assert nulls["verdict"] == "fail" and "but the spec declares none" in nulls["message"]


def test_missing_rows(shop_copy, capsys):
    rewrite(shop_copy, "orders", lambda rows: rows.slice(0, rows.num_rows - 100))
    code, _, report = run_validate(shop_copy, capsys)
    assert code == 3
    count = check(report, "orders: row count")
    assert count["verdict"] == "fail" and "(rows missing)" in count["message"]
    assert "customers.n_orders counts orders" in failed(report)


def test_a_child_before_its_parent(shop_copy, capsys):
    rewrite(shop_copy, "orders", lambda rows: with_values(
        rows, "first_seen", lambda values: [date(2022, 1, 1) if index < 4 else value
                                            for index, value in enumerate(values)]))
    code, _, report = run_validate(shop_copy, capsys)
    assert code == 3
    before = check(report, "orders.first_seen never before customer_id.signup")
    assert before["verdict"] == "fail" and before["observed"] == 4
    assert "4 rows are before its customers row's signup" in before["message"]


def test_a_parent_moved_after_its_children(shop_copy, capsys):
    # the child rows are untouched: only the parent's own time changed, so the count made while
    # streaming (parent times read from the plan) no longer holds and the tables are joined
    rewrite(shop_copy, "customers", lambda rows: with_values(
        rows, "signup", lambda values: [date(2030, 1, 1) if index < 3 else value
                                        for index, value in enumerate(values)]))
    orders = pq.read_table(next((shop_copy / "orders").glob("part-*.parquet")), columns=["customer_id"])
    children = sum(1 for key in orders.column("customer_id").to_pylist() if key in ("C-000000", "C-000001", "C-000002"))
    code, _, report = run_validate(shop_copy, capsys)
    assert code == 3
    before = check(report, "orders.first_seen never before customer_id.signup")
    assert before["verdict"] == "fail" and before["observed"] == children > 0


def test_streamed_and_joined_parent_order_agree(shop_copy, capsys):
    """The streaming count of children before their parent equals DuckDB's join, row for row."""
    import duckdb

    rewrite(shop_copy, "orders", lambda rows: with_values(
        rows, "first_seen", lambda values: [date(2022, 1, 1) if index % 7 == 0 else value
                                            for index, value in enumerate(values)]))
    _, _, report = run_validate(shop_copy, capsys)
    joined = duckdb.sql(
        f"select count(*) from read_parquet('{shop_copy}/orders/*.parquet') o "
        f"join read_parquet('{shop_copy}/customers/*.parquet') c on c.customer_id = o.customer_id "
        f"where o.first_seen < c.signup").fetchall()[0][0]
    assert check(report, "orders.first_seen never before customer_id.signup")["observed"] == joined > 0


def test_without_strict_a_failure_still_exits_0(shop_copy, capsys):
    rewrite(shop_copy, "orders", lambda rows: with_values(
        rows, "order_id", lambda values: [*values[:5], values[4], *values[6:]]))
    with pytest.raises(SystemExit) as exited:
        main(["validate", str(shop_copy)])
        raise SystemExit(0)
    assert exited.value.code == 0
    assert "validation FAIL" in capsys.readouterr().out


def test_the_command_as_a_user_runs_it(shop_copy):
    rewrite(shop_copy, "orders", lambda rows: with_values(
        rows, "customer_id", lambda values: ["C-999999", *values[1:]]))
    done = subprocess.run([sys.executable, "-m", "fabula", "validate", str(shop_copy), "--strict"],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 3, done.stderr
    assert "checks failed:" in done.stderr
    assert "orders.customer_id has no orphans: 1 row points at no customers row (e.g. 'C-999999')" in done.stderr
    assert f"hint: see {shop_copy / 'report.html'}" in done.stderr
    assert "validation FAIL" in done.stdout
