"""User SQL, contained: the one place fabula opens DuckDB and reads the SQL a spec carries.

A spec is untrusted input, and its `expect:` queries and `where:`/`value:` fragments are SQL.
Two guards keep that SQL to reading the output's own rows:

- **parsed before use** by DuckDB's own parser: a query must be one SELECT (or WITH … SELECT)
  statement (`parse_query`); a fragment must be one expression and nothing else — no FROM, no
  second statement, no alias — and is spliced into fabula's SQL as the parser writes it back
  (`parse_expression`), never as the text it came as, so no quote or parenthesis in it can
  close fabula's own;
- **run in a locked-down connection** (`connect`, `open_folder`): in memory, external access
  off (no file read or written, no ATTACH, no COPY or EXPORT, no network, no secrets), no
  extension installed or loaded, no Python variables scanned, and the configuration locked so
  no SET, RESET or PRAGMA undoes it. The output's tables are registered as Arrow datasets of
  its own Parquet files (only files that really are inside the folder, not links out of it), so
  DuckDB itself opens no file at all: the sandbox cannot be told to read or overwrite one, and
  an error can only quote the output's own rows.

The parser is the guard that gives a clear message at `fabula check`; the connection is the one
that holds even if a query got past it (tests/security/test_sql_sandbox.py tries both).
Imports nothing from fabula but `fabula.disk_cache` (standard library only), so every layer may
use it; duckdb and pyarrow are imported when used. What the parser says about a text is kept on
disk (`_parse_remembered`), so a small run opens no DuckDB to parse.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from fabula.disk_cache import answer_path, code_version, read_json, write_json

# Set when the connection opens. `enable_external_access` and the lock follow once it is open
# (DuckDB refuses external access off at open: it looks at its extension folder while starting).
_SETTINGS = {
    "autoinstall_known_extensions": False,   # a query naming httpfs must not fetch it
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "python_enable_replacements": False,     # `from secret` must not find a Python variable
}

QUERY_HINT = "write one SELECT (or WITH … SELECT) over the spec's tables, e.g. " \
             "select avg(amount) from orders where status = 'completed'"
FRAGMENT_HINT = "write one expression over the table's columns, e.g. status = 'completed' or avg(amount)"


class UnsafeSQL(ValueError):
    """SQL from a spec that is not what its key takes (one query, or one expression)."""

    def __init__(self, message: str, hint: str):
        super().__init__(message)
        self.hint = hint


def connect(views: Mapping[str, Any] | None = None, *, spill: str | None = None, threads: int | None = None):
    """A DuckDB connection that can read only `views` (name → Arrow table or dataset).

    `spill` is a private folder for DuckDB's temporary files (joins and sorts larger than
    memory); DuckDB writes there itself, and no query can name it.

    >>> import pyarrow as pa
    >>> connection = connect({"t": pa.table({"x": [1, 2, 3]})})
    >>> connection.execute("select sum(x) from t").fetchone()[0]
    6
    >>> try:
    ...     connection.execute("select * from read_csv('/etc/passwd')")
    ... except Exception as error:
    ...     print(type(error).__name__)
    PermissionException
    """
    import duckdb

    config: dict[str, str | bool | int | float | list[str]] = dict(_SETTINGS)
    if spill is not None:
        config["temp_directory"] = spill
    if threads is not None:
        config["threads"] = threads
    connection = duckdb.connect(":memory:", config=config)
    try:
        connection.execute("set enable_progress_bar = false")  # it would draw on the user's terminal
        connection.execute("set enable_external_access = false")
        # Arrow scans carry no row counts, so DuckDB's join-order search works blind and can put
        # an inequality join first: a nested loop over two tables (`returns × orders`) that ran
        # for minutes at scale 1 and hours at scale 10. The written order, with its equi-joins
        # hashed and filters pushed down, is never that bad.
        connection.execute("set disabled_optimizers = 'join_order'")
        for name, data in (views or {}).items():
            _register(connection, name, data)  # Arrow, scanned by pyarrow: DuckDB opens no file
        connection.execute("set lock_configuration = true")
    except BaseException:
        connection.close()
        raise
    return connection


def _register(connection, name: str, data) -> None:
    """`data` as the view `name`. A dataset of files is scanned with its cheapest column first,
    and the view shows its columns in their own order.

    A query that reads no column of a table, such as `select count(*) from orders where status
    <> 'cancelled'`, still makes DuckDB ask the Arrow scan for one column to count rows by: the
    scan's first. That is most often a text id, which pyarrow must decode in full: at 25M orders
    it cost 1.0 CPU-s more than a date column (issue 16). In-memory tables cost nothing to
    scan, and are registered as they are."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    if not isinstance(data, ds.Dataset) or len(data.schema) < 2:
        connection.register(name, data)
        return
    schema = data.schema
    first = min(range(len(schema)), key=lambda index: (_read_cost(schema.field(index).type), index))
    if first == 0:
        connection.register(name, data)
        return
    scan = f"{name} (scan)"  # a table name is a plain identifier (spec checks), so never this
    order = [first, *(index for index in range(len(schema)) if index != first)]
    connection.register(scan, data.replace_schema(pa.schema([schema.field(index) for index in order])))
    columns = ", ".join(quote(column) for column in schema.names)
    connection.execute(f"create temp view {quote(name)} as select {columns} from {quote(scan)}")


def _read_cost(kind) -> int:
    """Bits per row pyarrow fills to read a column of Arrow type `kind`: fixed-width types by
    their width, text and nested types above any of them."""
    try:
        return kind.bit_width
    except ValueError:  # variable width: strings, binary, lists, structs
        return 1 << 16


def quote(name: str) -> str:
    """An SQL identifier, quoted for DuckDB (table and column names are plain identifiers;
    quoted anyway)."""
    return '"' + name.replace('"', '""') + '"'


QUERY_SECONDS = 600.0
"""How long one query from a spec may run before it is stopped (`run_limited`)."""


class QueryTimeout(RuntimeError):
    """A spec's query ran past its time limit and was stopped."""


def run_limited(connection, sql: str, *, seconds: float = QUERY_SECONDS, rows: int = 2):
    """Run a spec's query, stopping it after `seconds` (a spec must not hold the machine):
    returns (the first `rows` rows, the number of columns), or raises QueryTimeout.

    >>> import pyarrow as pa
    >>> run_limited(connect({"t": pa.table({"x": [1, 2]})}), "select sum(x) from t")
    ([(3,)], 1)
    """
    stopped = threading.Event()

    def stop() -> None:
        stopped.set()
        connection.interrupt()

    timer = threading.Timer(seconds, stop)
    timer.daemon = True
    timer.start()
    try:
        cursor = connection.execute(sql)
        found = cursor.fetchmany(rows)
        return found, len(cursor.description or ())
    except Exception:
        if stopped.is_set():
            raise QueryTimeout(f"it ran longer than {seconds:g} s and was stopped") from None
        raise
    finally:
        timer.cancel()


def open_folder(folder: str | Path, tables: Iterable[str], *, spill: str | None = None,
                partitioned: Mapping[str, Any] | None = None):
    """`connect` with one view per table over its Parquet files in `folder` (`folder/<table>/*.parquet`,
    or below its partition folders, `folder/<table>/region=West/*.parquet`).

    A table with no files gets no view, so a query of it fails and names it. `partitioned` gives
    the planned Arrow schema of each table written in partition folders: its partition columns
    are typed from it (else as Arrow infers them from the folder names), and with no rows (no
    files) it is an empty view of that schema."""
    return connect(folder_views(folder, tables, partitioned=partitioned), spill=spill)


def folder_views(folder: str | Path, tables: Iterable[str], *,
                 partitioned: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """table → a pyarrow dataset of its Parquet files, read with dictionaries decoded (as the
    planned types are, so a query types the same here as when `fabula check` tried it). Files
    in Hive-style partition folders (`region=West/`) get the partition columns from the folder
    names, as the view's last columns."""
    import pyarrow.dataset as ds

    root = Path(folder).resolve()
    views = {}
    for table in tables:
        base = root / table
        schema = (partitioned or {}).get(table)
        for suffix, file_format in ((".parquet", "parquet"), (".csv", "csv"), (".jsonl", "json")):
            # formats (issue 13): a CSV or JSON Lines output is read as text, its ISO dates and
            # timestamps typed by Arrow's inference
            files = _files(base, root, suffix)
            if files:
                partitioning = _partitioning(base, files, schema)
                views[table] = ds.dataset(files, format=file_format, partitioning=partitioning,
                                          partition_base_dir=str(base),
                                          schema=_plain_schema(files[0], partitioning) if suffix == ".parquet"
                                          else None)
                break
        else:
            if schema is not None:  # a partitioned table with no rows has no file at all
                views[table] = _plain(schema).empty_table()
    return views


def _files(base: Path, root: Path, suffix: str) -> list[str]:
    """A table's data files: in its folder, or else in its partition folders (`name=value/`,
    walked without following links), never in a hidden or `_` folder such as `_delta_log`."""
    import os

    found = sorted(base.glob(f"*{suffix}"))
    if not found:
        for top, folders, names in os.walk(base):
            folders[:] = sorted(name for name in folders if "=" in name and not name.startswith((".", "_")))
            if Path(top) != base:
                found += sorted(Path(top) / name for name in names if name.endswith(suffix))
    return [str(path) for path in found if _inside(path, root)]


def _partitioning(base: Path, files: list[str], schema):
    """Hive partitioning when the files are in partition folders (None otherwise), the
    partition columns typed from `schema` when it is given."""
    import pyarrow.dataset as ds

    if Path(files[0]).parent == base:
        return None
    if schema is None:
        return ds.HivePartitioning.discover(infer_dictionary=False)
    import pyarrow as pa

    names = [part.split("=", 1)[0] for part in Path(files[0]).relative_to(base).parts[:-1]]
    plain = _plain(schema)
    return ds.partitioning(pa.schema([plain.field(name) for name in names]), flavor="hive")


def _plain(schema):
    """`schema` with dictionary types decoded."""
    import pyarrow as pa

    return pa.schema([field.with_type(field.type.value_type) if pa.types.is_dictionary(field.type) else field
                      for field in schema])


def _inside(path: Path, root: Path) -> bool:
    """A regular file that is really in the folder: a link to /etc/passwd named part-0.parquet is not."""
    resolved = path.resolve()
    return resolved.is_file() and resolved.is_relative_to(root)


def _plain_schema(file: str, partitioning=None):
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(file)
    fields = list(_plain(schema))
    if partitioning is not None:  # the partition columns, after the files' own
        if getattr(partitioning, "schema", None) is None:
            return None  # inferred from the folders: the dataset finds them
        fields += [field for field in partitioning.schema if field.name not in schema.names]
    return pa.schema(fields)


# -- parsing ---------------------------------------------------------------------------------------


def parse_query(text: str) -> str:
    """`text` as one SELECT statement (no trailing semicolon), or UnsafeSQL saying what it is.

    >>> parse_query("select avg(amount) from orders;")
    'select avg(amount) from orders'
    >>> parse_query("select 1; copy orders to 'x.csv'")
    Traceback (most recent call last):
    ...
    fabula.sandbox.UnsafeSQL: it holds 2 statements, and an expectation is one query
    """
    return _parsed("query", text)


def _parse_query(text: str) -> str:
    import duckdb

    try:
        statements = _parse_statements(text)
    except duckdb.Error as error:
        raise UnsafeSQL(f"DuckDB cannot parse it: {first_line(error).removeprefix('Parser Error: ')}",
                        QUERY_HINT) from None
    if len(statements) != 1:
        raise UnsafeSQL(f"it holds {len(statements)} statements, and an expectation is one query", QUERY_HINT)
    kind, query = statements[0]
    if kind != "SELECT":
        raise UnsafeSQL(f"it is not a SELECT but {'an' if kind[0] in 'AEIOU' else 'a'} {kind} statement, "
                        "and an expectation may only read", QUERY_HINT)
    return query.strip().rstrip(";").strip()


def parse_expression(text: str) -> str:
    """`text` as one SQL expression, written back by DuckDB's parser (comments dropped,
    parentheses made explicit), or UnsafeSQL saying why not.

    >>> parse_expression("status = 'completed' -- the usual case")
    "(status = 'completed')"
    >>> parse_expression("1=1) or (1=1")
    Traceback (most recent call last):
    ...
    fabula.sandbox.UnsafeSQL: DuckDB cannot parse it as one expression: syntax error at or near ")"
    """
    return _parsed("expression", text)


def _parse_expression(text: str) -> str:
    tree = _serialized("SELECT " + text)
    if tree.get("error"):
        raise UnsafeSQL(f"DuckDB cannot parse it as one expression: {_parser_words(tree)}", FRAGMENT_HINT)
    statements = tree["statements"]
    problem = "it is several statements" if len(statements) != 1 else _not_one_expression(statements[0]["node"])
    if problem:
        raise UnsafeSQL(f"it is not one expression: {problem}", FRAGMENT_HINT)
    written = _deserialized({"error": False, "statements": statements})
    if not written.startswith("SELECT "):  # the parser's own rendering: cannot happen, but never splice a surprise
        raise UnsafeSQL("DuckDB writes it back as something other than one expression", FRAGMENT_HINT)
    return written[len("SELECT "):]


_PARSERS = {"query": _parse_query, "expression": _parse_expression}


def _parsed(kind: str, text: str) -> str:
    verdict, value, hint = _parse_remembered(kind, text)
    if verdict == "unsafe":
        raise UnsafeSQL(value, hint or "")
    return value


@lru_cache(maxsize=1024)
def _parse_remembered(kind: str, text: str) -> tuple[str, str, str | None]:
    """("sql", the parsed text, None) or ("unsafe", the message, the hint), kept on disk.

    Opening DuckDB to parse costs a connection (a new in-memory database, 25 ms) and, at
    `fabula check` or `fabula plan`, the import of DuckDB itself (75 ms): a good part of a small
    run (issue 16). The outcome depends only on the text, DuckDB's version and this module's
    code (`fabula.disk_cache`), so it is kept in `$FABULA_CACHE_DIR/duckdb-sql/`, as trusted as the
    Faker pools beside it; the locked connection is the guard that holds either way."""
    path = answer_path("duckdb-sql", {"parse": kind, "text": text, "duckdb": _duckdb_release(),
                                      "code": code_version(__file__)})
    found = read_json(path)
    if (isinstance(found, list) and len(found) == 3 and found[0] in ("sql", "unsafe") and isinstance(found[1], str)
            and (found[2] is None or isinstance(found[2], str))):
        return found[0], found[1], found[2]
    try:
        outcome: tuple[str, str, str | None] = ("sql", _PARSERS[kind](text), None)
    except UnsafeSQL as error:
        outcome = ("unsafe", str(error), error.hint)
    write_json(path, list(outcome))
    return outcome


@lru_cache(maxsize=1)
def _duckdb_release() -> str:
    from importlib.metadata import version

    return version("duckdb")  # its metadata: reading it imports nothing


def _not_one_expression(node: Mapping[str, Any]) -> str | None:
    """Why the parsed `SELECT <text>` is more than `SELECT <one expression>`, or None."""
    if node["type"] != "SELECT_NODE":
        return "it combines queries (UNION, EXCEPT …)"
    if len(node["select_list"]) != 1:
        return f"it is a list of {len(node['select_list'])} expressions"
    clauses = {"a FROM": node["from_table"]["type"] != "EMPTY", "a WHERE": node["where_clause"] is not None,
               "a GROUP BY": bool(node["group_expressions"] or node["group_sets"]),
               "a HAVING": node["having"] is not None, "a QUALIFY": node["qualify"] is not None,
               "a SAMPLE": node["sample"] is not None, "a WITH": bool(node["cte_map"]["map"]),
               "DISTINCT, ORDER BY or LIMIT": bool(node["modifiers"]),
               "an alias": bool(node["select_list"][0].get("alias")),
               "GROUP BY ALL": node["aggregate_handling"] != "STANDARD_HANDLING"}
    found = [clause for clause, present in clauses.items() if present]
    return f"it carries {', '.join(found)}" if found else None


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# One connection, opened on first use, only ever asked to parse: the text is a bound parameter
# of DuckDB's own parse functions, never run. A lock, because a connection serves one thread.
_parser_lock = threading.Lock()
_parser: Any = None


def _parsing():
    global _parser
    if _parser is None:
        _parser = connect(threads=1)  # parsing needs no worker threads
    return _parser


@lru_cache(maxsize=512)
def _parse_statements(text: str) -> tuple[tuple[str, str], ...]:
    with _parser_lock:
        return tuple((statement.type.name, statement.query) for statement in _parsing().extract_statements(text))


@lru_cache(maxsize=512)
def _serialized_text(text: str) -> str:
    with _parser_lock:
        return _parsing().execute("select json_serialize_sql(?)", [text]).fetchone()[0]


def _serialized(text: str) -> dict:
    return json.loads(_serialized_text(text))


def _deserialized(tree: dict) -> str:
    with _parser_lock:
        return _parsing().execute("select json_deserialize_sql(?::json)", [json.dumps(tree)]).fetchone()[0]


def _parser_words(tree: Mapping[str, Any]) -> str:
    message = str(tree.get("error_message") or tree.get("error_type") or "not valid SQL")
    return message.splitlines()[0].removeprefix("Parser Error: ")
