"""`--tables`: register each generated table as a Delta table in `<catalog>.<schema>`, with the
spec's table and column `description:` as comments, through the SQL Statement Execution API on a
warehouse (`--warehouse ID`). The data comes from the Parquet files just delivered to the Volume
(`COPY INTO`), so the table holds exactly the rows the manifest lists."""

from __future__ import annotations

import time
from typing import Any

import pyarrow as pa

from fabula.databricks.client import WorkspaceError, translated
from fabula.databricks.paths import VolumePath
from fabula.engine.spark_schema import spark_arrow_type
from fabula.plan.model import Plan

_SQL_TYPES = [(pa.types.is_boolean, "BOOLEAN"), (pa.types.is_int8, "TINYINT"), (pa.types.is_int16, "SMALLINT"),
              (pa.types.is_int32, "INT"), (pa.types.is_int64, "BIGINT"), (pa.types.is_float32, "FLOAT"),
              (pa.types.is_float64, "DOUBLE"), (pa.types.is_string, "STRING"), (pa.types.is_binary, "BINARY"),
              (pa.types.is_date32, "DATE")]
POLL_SECONDS = 1.0
STATEMENT_TIMEOUT_SECONDS = 3600


def sql_type(arrow_type: pa.DataType, *, column: str = "") -> str:
    """The Databricks SQL type of a column, via the one Arrow→Spark mapping fabula has.

    >>> sql_type(pa.dictionary(pa.int32(), pa.string())), sql_type(pa.timestamp("ms")), sql_type(pa.uint32())
    ('STRING', 'TIMESTAMP_NTZ', 'BIGINT')
    """
    spark = spark_arrow_type(arrow_type, column=column)
    if pa.types.is_timestamp(spark):
        return "TIMESTAMP" if spark.tz else "TIMESTAMP_NTZ"
    if pa.types.is_decimal(spark):
        return f"DECIMAL({spark.precision},{spark.scale})"
    for check, name in _SQL_TYPES:
        if check(spark):
            return name
    return "STRING"  # a null-typed column: Delta needs a concrete type


def quote_name(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def sql_string(text: str) -> str:
    """A SQL string literal (Databricks SQL reads backslash escapes).

    >>> print(sql_string("it's"))
    'it\\'s'
    """
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def table_statements(plan: Plan, target: VolumePath, *, replace: bool) -> dict[str, list[str]]:
    """For every table: CREATE TABLE with types and comments, then COPY INTO from its Volume folder."""
    statements = {}
    for table in plan.tables:
        spec = plan.spec.tables.get(table.name)  # None for the events table (`events_table:`)
        columns_spec = spec.columns if spec is not None else {}
        comment = spec.description if spec is not None else f"the events of {plan.name}"
        full = f"{quote_name(target.catalog)}.{quote_name(target.schema)}.{quote_name(table.name)}"
        columns = []
        for field in table.schema:  # the written columns (hidden helper columns are not)
            described = getattr(columns_spec.get(field.name), "description", None)
            text = f"{quote_name(field.name)} {sql_type(field.type, column=field.name)}"
            columns.append(text + (f" COMMENT {sql_string(described)}" if described else ""))
        create = (f"CREATE {'OR REPLACE ' if replace else ''}TABLE {full} ({', '.join(columns)}) USING DELTA"
                  + (f" COMMENT {sql_string(comment)}" if comment else ""))
        copy = f"COPY INTO {full} FROM {sql_string(target.child(table.name))} FILEFORMAT = PARQUET"
        statements[table.name] = [create, copy]
    return statements


def check_tables_free(client, plan: Plan, target: VolumePath) -> None:
    """With --mode error, refuse before any work if one of the tables already exists."""
    from databricks.sdk.errors import NotFound

    for table in plan.tables:
        full = f"{target.schema_name}.{table.name}"
        try:
            with translated(f"looking up the table {full}", privilege="USE SCHEMA", on=f"schema {target.schema_name}",
                            host=client.config.host):
                client.tables.get(full)
        except NotFound:
            continue
        raise WorkspaceError(f"the table {full} already exists",
                             hint="pass --mode overwrite to replace it, or write to another schema")


def register_tables(client, plan: Plan, target: VolumePath, *, warehouse: str, replace: bool) -> list[str]:
    """Run the statements on the warehouse, table by table; return the tables' full names."""
    done = []
    for name, statements in table_statements(plan, target, replace=replace).items():
        full = f"{target.schema_name}.{name}"
        for statement in statements:
            execute(client, statement, warehouse=warehouse, action=f"registering the table {full}",
                    privilege="CREATE TABLE" if statement.startswith("CREATE") else "MODIFY",
                    on=f"schema {target.schema_name}" if statement.startswith("CREATE") else f"table {full}")
        done.append(full)
    return done


def execute(client, statement: str, *, warehouse: str, action: str, privilege: str, on: str) -> Any:
    """One statement, waited for; a FAILED state becomes a clear error naming the privilege."""
    from databricks.sdk.service.sql import ExecuteStatementRequestOnWaitTimeout, StatementState

    host = client.config.host
    with translated(action, privilege=privilege, on=on, host=host):
        response = client.statement_execution.execute_statement(
            statement=statement, warehouse_id=warehouse, wait_timeout="30s",
            on_wait_timeout=ExecuteStatementRequestOnWaitTimeout.CONTINUE)
        deadline = time.monotonic() + STATEMENT_TIMEOUT_SECONDS
        try:
            while response.status.state in (StatementState.PENDING, StatementState.RUNNING):
                if time.monotonic() > deadline:
                    raise WorkspaceError(f"{action} took longer than {STATEMENT_TIMEOUT_SECONDS}s",
                                         hint="check the warehouse is running")
                time.sleep(POLL_SECONDS)
                response = client.statement_execution.get_statement(response.statement_id)
        except BaseException:
            client.statement_execution.cancel_execution(response.statement_id)  # never leave it running
            raise
    state = response.status.state
    if state != StatementState.SUCCEEDED:
        error = response.status.error
        code = getattr(error, "error_code", None)
        message = getattr(error, "message", None) or str(state)
        # a warehouse reports missing grants in the message ([INSUFFICIENT_PERMISSIONS] ...),
        # not in a code of its own
        denied = any(word in f"{getattr(code, 'value', code)} {message}"
                     for word in ("INSUFFICIENT_PERMISSIONS", "PERMISSION_DENIED", "does not have"))
        hint = (f"ask an admin to grant you the {privilege} privilege on {on}" if denied
                else f"the statement was: {statement[:200]}")
        raise WorkspaceError(f"the warehouse {warehouse} failed while {action}: {message}", hint=hint)
    return response
