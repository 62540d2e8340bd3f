"""A spec's SQL is untrusted: it reads the output's own tables and nothing else.

Each attack is tried for real: a file outside the output holds a known secret, and every
test asserts that the secret is not in what the user sees, or that the file an attack tried to
write does not exist. Three layers are tried on their own: the sandboxed connection
(`fabula.sandbox`), the parser that `fabula check` runs over every piece of a spec's SQL, and
the commands end to end (`check`, `plan`, `preview`, `validate` on a folder whose manifest is
hostile).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner

import fabula
from fabula.cli.main import main
from fabula.sandbox import QueryTimeout, UnsafeSQL, connect, open_folder, parse_expression, parse_query, run_limited
from fabula.spec.canonical import from_canonical

SECRET = "fabula-secret-7d1e0c"
REFUSED = "disabled by configuration"  # DuckDB's words when the sandbox refuses a file
LOCKED = "configuration has been locked"

SPEC = {
    "name": "tiny",
    "seed": 3,
    "as_of": "2024-06-30",
    "tables": {
        "orders": {
            "rows": 300,
            "columns": {
                "order_id": {"kind": "id", "format": "O-{:04d}"},
                "status": {"kind": "categorical", "values": {"completed": 80, "cancelled": 20}},
                "amount": {"kind": "lognormal", "mean": 3, "sigma": 0.5, "round": 2},
                "ordered_at": {"kind": "date", "start": "-90d", "end": "today"},
            },
        },
    },
    "expect": [{"name": "most orders complete", "share": {"table": "orders", "column": "status",
                                                         "value": "completed", "where": "amount > 0"},
                "between": [0.5, 1]}],
}


@pytest.fixture(scope="module")
def output(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sandbox") / "out"
    fabula.generate(json.loads(json.dumps(SPEC)), out, validate=False)
    return out


@pytest.fixture
def secret(tmp_path) -> Path:
    """A file outside the output whose content must never show (CSV-shaped, so every reader parses it)."""
    path = tmp_path / "outside" / "secret.csv"
    path.parent.mkdir()
    path.write_text(f"token\n{SECRET}\n")
    return path


@pytest.fixture
def sandbox(output):
    connection = open_folder(output, ["orders"])
    yield connection
    connection.close()


def refused(connection, sql: str, *, words: str = REFUSED) -> str:
    """The error DuckDB raises for `sql`, which must be the sandbox's refusal."""
    with pytest.raises(duckdb.Error) as caught:
        connection.execute(sql).fetchall()
    message = str(caught.value)
    assert words in message, message
    assert SECRET not in message and "root:" not in message
    return message


def part_files(output: Path) -> list[Path]:
    return sorted((output / "orders").glob("*.parquet"))


def digests(folder: Path) -> dict[str, str]:
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


# -- the connection -----------------------------------------------------------------------------------


def test_the_sandbox_reads_the_outputs_tables(sandbox, output):
    written = pq.read_table(part_files(output)).num_rows
    assert sandbox.execute("select count(*) from orders").fetchone()[0] == written == 300
    assert sandbox.execute("select count(*) from orders where status = 'completed'").fetchone()[0] > 0


READS = {
    "read_csv": "select * from read_csv('{secret}')",
    "read_csv_auto": "select * from read_csv_auto('{secret}')",
    "read_text": "select content from read_text('{secret}')",
    "read_blob": "select content from read_blob('{secret}')",
    "read_json": "select * from read_json('{secret}')",
    "read_parquet": "select * from read_parquet('{secret}')",
    "bare path": "select * from '{secret}'",
    "glob": "select * from glob('{secret_dir}/*')",
    "sniff_csv": "select * from sniff_csv('{secret}')",
    "etc/passwd": "select * from read_csv('/etc/passwd')",
    "etc/passwd as text": "select cast(content as int) from read_text('/etc/passwd')",
    "out of the output by ..": "select content from read_text('{output}/orders/../../outside/secret.csv')",
    "a url": "select * from read_parquet('https://example.com/data.parquet')",
    "the output's own file by path": "select content from read_blob('{part}')",
}


@pytest.mark.parametrize("query", READS.values(), ids=READS.keys())
def test_no_file_can_be_read(sandbox, secret, output, query):
    refused(sandbox, query.format(secret=secret, secret_dir=secret.parent, output=output, part=part_files(output)[0]))


WRITES = {
    "copy": "copy (select 'import os') to '{target}/evil.pth'",
    "copy parquet": "copy orders to '{target}/evil.parquet' (format parquet)",
    "export database": "export database '{target}/exported'",
    "attach": "attach '{target}/new.duckdb' as other",
}


@pytest.mark.parametrize("statement", WRITES.values(), ids=WRITES.keys())
def test_no_file_can_be_written(sandbox, tmp_path, statement):
    target = tmp_path / "target"
    target.mkdir()
    refused(sandbox, statement.format(target=target))
    assert list(target.iterdir()) == []


def test_the_outputs_own_files_cannot_be_overwritten(sandbox, output):
    before = digests(output)
    part = part_files(output)[0]
    refused(sandbox, f"copy (select 1 as x) to '{part}' (format parquet, use_tmp_file false)")
    refused(sandbox, f"copy (select 1 as x) to '{part}' (format csv, overwrite true)")
    assert digests(output) == before


@pytest.mark.parametrize("statement", ["install httpfs", "force install httpfs", "load httpfs"])
def test_no_extension_can_be_installed_or_loaded(sandbox, statement):
    with pytest.raises(duckdb.Error) as caught:
        sandbox.execute(statement)
    assert "disabled" in str(caught.value)


SETTINGS = ["set enable_external_access = true", "reset enable_external_access", "set threads = 1",
            "set global memory_limit = '1GB'", "pragma enable_profiling", "pragma threads = 1",
            "set allowed_paths = ['/etc/passwd']", "set allowed_directories = ['/']",
            "set autoinstall_known_extensions = true", "set lock_configuration = false",
            "call enable_logging(storage = 'file', storage_path = '/tmp')"]


@pytest.mark.parametrize("statement", SETTINGS)
def test_no_setting_can_change(sandbox, secret, statement):
    refused(sandbox, statement, words=LOCKED)
    refused(sandbox, f"select * from read_csv('{secret}')")  # and still locked


def test_python_variables_are_not_tables(sandbox):
    hidden_rows = pa.table({"token": [SECRET]})  # noqa: F841 - what a replacement scan would find
    with pytest.raises(duckdb.CatalogException) as caught:
        sandbox.execute("select * from hidden_rows").fetchall()
    assert SECRET not in str(caught.value)


def test_a_query_that_runs_too_long_is_stopped(sandbox):
    """A spec's query cannot hold the machine: past its time limit it is interrupted."""
    with pytest.raises(QueryTimeout, match="was stopped"):
        run_limited(sandbox, "select count(*) from range(1000000000000) a", seconds=0.5)
    assert run_limited(sandbox, "select 1")[0] == [(1,)]  # and the connection still answers


def test_joins_keep_the_written_order_with_their_keys_hashed(tmp_path):
    """The output's files are scanned as Arrow datasets, which carry no row counts, so a blind
    join-order search can start with an inequality: a nested loop over two whole tables
    (minutes at 100K rows, hours at 1M)."""
    n = 1000
    tables = {"orders": pa.table({"order_id": range(n), "shipped_at": range(n)}),
              "items": pa.table({"item_id": range(n), "order_id": range(n)}),
              "returns": pa.table({"item_id": range(n), "returned_at": range(n)})}
    for name, table in tables.items():
        (tmp_path / name).mkdir()
        pq.write_table(table, tmp_path / name / "part-00000.parquet")
    connection = open_folder(tmp_path, tables)
    plan = connection.execute(
        "explain select count(*) from returns r join items i on r.item_id = i.item_id "
        "join orders o on i.order_id = o.order_id where r.returned_at < o.shipped_at").fetchall()[0][1]
    assert "HASH_JOIN" in plan.replace(" ", "_").upper() and "NESTED_LOOP" not in plan.replace(" ", "_").upper()


def test_a_count_scans_the_cheapest_column_and_a_table_keeps_its_column_order(tmp_path):
    """`count(*)` needs no column, and DuckDB then reads the scan's first one: a text id here,
    which costs pyarrow far more to decode than a date."""
    (tmp_path / "orders").mkdir()
    pq.write_table(pa.table({"order_id": ["o-1", "o-2", "o-3"], "note": ["a", None, "c"],
                             "amount": [1.5, 2.5, None], "day": pa.array([1, 2, 3], pa.date32())}),
                   tmp_path / "orders" / "part-00000.parquet")
    connection = open_folder(tmp_path, ["orders"])
    try:
        plan = connection.execute("explain select count(*) from orders").fetchall()[0][1]
        assert "Projections: day" in plan and "order_id" not in plan
        assert [row[0] for row in connection.execute("describe orders").fetchall()] == ["order_id", "note", "amount",
                                                                                        "day"]
        assert connection.execute("select * from orders order by order_id").fetchall()[0][:3] == ("o-1", "a", 1.5)
        assert connection.execute("select count(*) from orders where amount > 2").fetchone()[0] == 1
    finally:
        connection.close()


def test_a_link_out_of_the_output_is_not_a_table_file(output, secret, tmp_path):
    copy = tmp_path / "copy"
    (copy / "orders").mkdir(parents=True)
    for part in part_files(output):
        (copy / "orders" / part.name).write_bytes(part.read_bytes())
    outside = tmp_path / "outside" / "other.parquet"
    pq.write_table(pa.table({"token": [SECRET]}), outside)
    (copy / "orders" / "part-99999.parquet").symlink_to(outside)
    (copy / "customers").symlink_to(tmp_path / "outside", target_is_directory=True)
    connection = open_folder(copy, ["orders", "customers"])
    try:
        assert connection.execute("select count(*) from orders").fetchone()[0] == 300
        with pytest.raises(duckdb.CatalogException):  # a table whose folder is a link out: no table
            connection.execute("select * from customers").fetchall()
        refused(connection, f"select * from read_parquet('{copy}/orders/part-99999.parquet')")
    finally:
        connection.close()


def test_check_time_tables_are_in_memory():
    connection = connect({"orders": pa.table({"amount": pa.array([], pa.float64())})})
    try:
        assert connection.execute("select count(*) from orders").fetchone()[0] == 0
        refused(connection, "select * from read_csv('/etc/passwd')")
    finally:
        connection.close()


# -- the parser ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", [
    "select 1; select 2",
    "select 1; copy (select 1) to 'x.csv'",
    "copy (select 1) to 'x.csv'",
    "export database 'x'",
    "attach 'x.duckdb'",
    "install httpfs",
    "load httpfs",
    "set threads = 1",
    "pragma threads = 1",
    "reset threads",
    "create table t as select 1",
    "call pragma_version()",
    "",
])
def test_a_query_is_one_select(query):
    with pytest.raises(UnsafeSQL):
        parse_query(query)


@pytest.mark.parametrize("query", ["select avg(amount) from orders", "with o as (select * from orders) select count(*) from o",
                                   "from orders select avg(amount);"])
def test_a_select_is_a_query(query):
    assert parse_query(query) == query.rstrip(";")


@pytest.mark.parametrize("fragment", [
    "1=1); COPY (select 1) TO 'x.csv'; select (1",
    "1) union select content from read_text('/etc/passwd') where (1",
    "1 from read_csv('/etc/passwd')",
    "amount > 1; select 1",
    "amount > 1 order by 1",
    "a, b",
    "a as b",
    "",
])
def test_a_fragment_is_one_expression(fragment):
    with pytest.raises(UnsafeSQL):
        parse_expression(fragment)


def test_a_fragment_is_spliced_as_the_parser_writes_it():
    """A comment cannot swallow what fabula writes after the fragment."""
    assert parse_expression("status = 'completed' -- ) or (true") == "(status = 'completed')"


# -- the commands ---------------------------------------------------------------------------------------


def run_cli(*args: str) -> tuple[int, str]:
    """The CLI in-process through `main`, so exit codes match the real command."""

    @click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    @click.pass_context
    def entry(ctx):
        main(ctx.args)

    result = CliRunner().invoke(entry, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def hostile(tmp_path: Path, **expectation) -> Path:
    spec = json.loads(json.dumps(SPEC))
    spec["expect"] = [{"name": "hostile", "between": [0, None], **expectation}]
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def written_by(tmp_path: Path) -> list[Path]:
    return sorted(path for path in tmp_path.rglob("*") if path.name.startswith("evil"))


WRITING_SPECS = {
    "copy to a .pth file": {"sql": "COPY (select 'import os; os.system(''id'')') TO '{tmp}/evil.pth'"},
    "a second statement": {"sql": "select count(*) from orders; COPY (select 1) TO '{tmp}/evil.csv'"},
    "export database": {"sql": "EXPORT DATABASE '{tmp}/evil'"},
    "attach": {"sql": "ATTACH '{tmp}/evil.duckdb'"},
    "install": {"sql": "INSTALL httpfs"},
    "where injection": {"share": {"table": "orders", "column": "status", "value": "completed",
                                  "where": "1=1); COPY (select 1) TO '{tmp}/evil.csv'; select (1"}},
    "value injection": {"ratio": {"table": "orders", "numerator": "count(*)) from orders; COPY (select 1) "
                                  "TO '{tmp}/evil.csv'; select (1", "denominator": "count(*)"}},
}


def _filled(value, tmp: Path):
    if isinstance(value, dict):
        return {key: _filled(item, tmp) for key, item in value.items()}
    return value.format(tmp=tmp) if isinstance(value, str) else value


@pytest.mark.parametrize("command", ["check", "plan", "preview"])
@pytest.mark.parametrize("expectation", WRITING_SPECS.values(), ids=WRITING_SPECS.keys())
def test_a_spec_that_writes_is_refused(tmp_path, command, expectation):
    spec = hostile(tmp_path, **_filled(expectation, tmp_path))
    code, shown = run_cli(command, str(spec))
    assert code == 2, shown
    assert "expect.0" in shown and "hint:" in shown
    assert written_by(tmp_path) == []


@pytest.mark.parametrize("command", ["check", "plan", "preview"])
@pytest.mark.parametrize("query", [
    "select count(*) from read_csv('{secret}')",
    "select cast(content as int) from read_text('{secret}')",
    "select count(*) from read_csv('/etc/passwd')",
])
def test_a_spec_that_reads_a_file_is_refused_without_reading_it(tmp_path, secret, command, query):
    spec = hostile(tmp_path, sql=query.format(secret=secret))
    code, shown = run_cli(command, str(spec))
    assert code == 2, shown
    assert REFUSED in shown and "expect.0.sql" in shown
    assert SECRET not in shown and "root:" not in shown


def test_check_as_a_user_runs_it(tmp_path, secret):
    """The real command in a subprocess: exit 2, the where injection named, nothing written."""
    spec = hostile(tmp_path, **_filled(WRITING_SPECS["where injection"], tmp_path))
    result = subprocess.run([sys.executable, "-m", "fabula", "check", str(spec)], capture_output=True, text=True,
                            cwd=tmp_path, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 2, result.stderr
    assert "expect.0.share.where" in result.stderr and "one expression" in result.stderr
    assert written_by(tmp_path) == [] and "Traceback" not in result.stderr


def test_check_reports_bad_sql_with_every_other_problem(tmp_path):
    spec = json.loads(json.dumps(SPEC))
    spec["tables"]["orders"]["columns"]["amount"]["sigmma"] = 1
    spec["expect"] = [{"name": "copy", "sql": f"COPY orders TO '{tmp_path}/evil.csv'", "between": [0, 1]}]
    with pytest.raises(fabula.SpecError) as caught:
        fabula.load_spec(spec)
    found = {(issue.code, issue.path) for issue in caught.value.issues}
    assert ("bad-sql", "expect.0.sql") in found and any(code == "unknown-key" for code, _ in found)
    issue = next(issue for issue in caught.value.issues if issue.code == "bad-sql")
    assert "COPY" in issue.message and issue.value.startswith("COPY") and issue.hint


# -- a folder someone sends you -------------------------------------------------------------------------


def _with_hostile_manifest(output: Path, folder: Path, expectation: dict) -> Path:
    import shutil

    shutil.copytree(output, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["spec"]["expect"] = [{**manifest["spec"]["expect"][0], "share": None, "name": "hostile", **expectation}]
    try:  # a careful attacker keeps the manifest consistent with itself
        manifest["spec_hash"] = from_canonical(manifest["spec"]).spec_hash()
    except Exception:  # noqa: BLE001 - a spec fabula refuses to rebuild: the hash does not matter
        pass
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_validate_runs_a_hostile_manifests_query_in_the_sandbox(output, tmp_path, secret):
    folder = _with_hostile_manifest(output, tmp_path / "sent",
                                    {"sql": f"select cast(content as int) from read_text('{secret}')"})
    code, shown = run_cli("validate", str(folder))
    assert code == 0, shown
    report = json.loads((folder / "report.json").read_text())
    (check,) = [check for check in report["checks"] if check["name"] == "hostile"]
    assert check["verdict"] == "fail" and REFUSED in check["message"]
    assert SECRET not in shown
    for path in folder.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_validate_refuses_a_manifest_whose_query_writes(output, tmp_path):
    folder = _with_hostile_manifest(output, tmp_path / "sent",
                                    {"sql": f"COPY (select 'import os') TO '{tmp_path}/evil.pth'"})
    code, shown = run_cli("validate", str(folder))
    assert code != 0 and "Traceback" not in shown
    assert "one query" in shown or "SELECT" in shown, shown
    assert written_by(tmp_path) == []
