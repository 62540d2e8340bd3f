"""`--tables`: Delta tables with table and column comments, through the Statement Execution API."""

from __future__ import annotations

import json

import yaml

SPEC = {
    "name": "described", "seed": 1, "as_of": "2024-06-30", "description": "Customers, described",
    "tables": {"customers": {"rows": 500, "description": "one row per customer, it's the dimension", "columns": {
        "customer_id": {"kind": "id", "format": "C-{:04d}", "description": "the customer's key"},
        "tier": {"kind": "categorical", "values": {"Free": 3, "Pro": 1}, "description": "plan (Free or Pro)"},
        "signup": {"kind": "timestamp", "start": "-1y", "end": "today"}}}},
}
OUT = "dbfs:/Volumes/main/demo/raw/described"


def spec_file(tmp_path):
    path = tmp_path / "described.yaml"
    path.write_text(yaml.safe_dump(SPEC), encoding="utf-8")
    return str(path)


def test_tables_are_registered_with_comments(standin, tmp_path, run_cli):
    result = run_cli("generate", spec_file(tmp_path), "--out", OUT, "--tables", "--warehouse", "wh-1")
    assert result.returncode == 0, result.stderr
    assert "registered the Delta table main.demo.customers" in result.stdout
    table = standin.workspace.tables["main.demo.customers"]
    assert table["comment"] == "one row per customer, it's the dimension"
    columns = {column["name"]: column for column in table["columns"]}
    assert columns["customer_id"]["comment"] == "the customer's key"
    assert columns["tier"]["comment"] == "plan (Free or Pro)"
    assert columns["signup"]["type_text"] == "TIMESTAMP_NTZ" and "comment" not in columns["signup"]
    statements = [record["statement"] for record in standin.workspace.statements]
    assert statements[-1] == ("COPY INTO `main`.`demo`.`customers` FROM '/Volumes/main/demo/raw/described/customers' "
                              "FILEFORMAT = PARQUET")
    assert all(record["warehouse_id"] == "wh-1" for record in standin.workspace.statements)


def test_an_existing_table_is_refused_before_any_work_unless_overwrite(standin, tmp_path, run_cli):
    assert run_cli("generate", spec_file(tmp_path), "--out", OUT, "--tables", "--warehouse", "w").returncode == 0
    again = run_cli("generate", spec_file(tmp_path), "--out", OUT + "2", "--tables", "--warehouse", "w")
    assert again.returncode == 1 and "the table main.demo.customers already exists" in again.stderr
    assert "manifest.json" not in standin.workspace.listing("/Volumes/main/demo/raw/described2")
    replaced = run_cli("generate", spec_file(tmp_path), "--out", OUT, "--tables", "--warehouse", "w",
                       "--mode", "overwrite")
    assert replaced.returncode == 0, replaced.stderr
    assert standin.workspace.statements[-2]["statement"].startswith("CREATE OR REPLACE TABLE")


def test_a_missing_create_table_privilege_is_named(standin, tmp_path, run_cli):
    standin.workspace.deny("CREATE TABLE")
    result = run_cli("generate", spec_file(tmp_path), "--out", OUT, "--tables", "--warehouse", "w")
    assert result.returncode == 1
    assert "grant you the CREATE TABLE privilege on schema main.demo" in result.stderr


def test_tables_need_a_warehouse(standin, tmp_path, run_cli):
    result = run_cli("generate", spec_file(tmp_path), "--out", OUT, "--tables")
    assert result.returncode == 2 and "--warehouse" in result.stderr
    assert json.dumps(standin.workspace.statements) == "[]"


def test_the_docs_example_carries_its_descriptions():
    from pathlib import Path

    import fabula
    from fabula.databricks.paths import VolumePath
    from fabula.databricks.tables import table_statements

    doc = (Path(__file__).resolve().parents[2] / "docs" / "databricks.md").read_text(encoding="utf-8")
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    plan = fabula.compile_plan(example)
    create, copy = table_statements(plan, VolumePath.parse("dbfs:/Volumes/main/crm/raw/crm"), replace=False)["customers"]
    assert create == ("CREATE TABLE `main`.`crm`.`customers` (`customer_id` STRING COMMENT 'the customer\\'s key') "
                      "USING DELTA COMMENT 'one row per customer'")
    assert copy.startswith("COPY INTO `main`.`crm`.`customers` FROM '/Volumes/main/crm/raw/crm/customers'")
