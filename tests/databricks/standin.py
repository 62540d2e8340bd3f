"""A local stand-in for the parts of a Databricks workspace fabula uses, on 127.0.0.1.

It speaks the documented REST paths exactly as `databricks-sdk` calls them:

- Files API:            PUT/GET/HEAD/DELETE /api/2.0/fs/files{path},
                        GET/PUT/HEAD/DELETE /api/2.0/fs/directories{path}
- Unity Catalog:        GET /api/2.1/unity-catalog/catalogs/{name},
                        GET/POST /api/2.1/unity-catalog/schemas[/{full_name}],
                        GET/POST /api/2.1/unity-catalog/volumes[/{full_name}],
                        GET /api/2.1/unity-catalog/tables/{full_name}
- Statement Execution:  POST /api/2.0/sql/statements, GET /api/2.0/sql/statements/{id}
                        (CREATE TABLE / COMMENT statements are recorded and registered as tables;
                        the data itself is not converted to Delta)
- Command Execution 1.2: POST /api/1.2/contexts/create|destroy, GET /api/1.2/contexts/status,
                        POST /api/1.2/commands/execute|cancel, GET /api/1.2/commands/status;
                        each context is a local Python process whose globals persist between
                        commands (`evict()` kills them all, as a cluster restart does)

Errors come back as the workspace sends them: `{"error_code": ..., "message": ...}` with the
HTTP status the SDK maps to its exception classes (401, 403, 404, 409). A wrong bearer token
gets 401; `deny("WRITE VOLUME")` makes every call needing that privilege answer 403 with the
privilege named, as Unity Catalog does. `fail_uploads_after(n)` makes the (n+1)-th file upload
fail with a 500, to interrupt a run half-way.

What it does not prove: OAuth and profile flows, real UC grants and ownership, Delta
conversion, and the workspace's own limits (docs/databricks.md lists them).

Run by hand: `python tests/databricks/standin.py` prints the host and a token to use.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

TOKEN = "dapi-standin-0123456789abcdef"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Workspace:
    """The state behind the server: catalogs, schemas, volumes, files, tables, statements."""

    token: str = TOKEN
    catalogs: set[str] = field(default_factory=lambda: {"main"})
    schemas: dict[str, dict] = field(default_factory=dict)
    volumes: dict[str, dict] = field(default_factory=dict)
    tables: dict[str, dict] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    directories: set[str] = field(default_factory=set)
    statements: list[dict] = field(default_factory=list)
    denied: set[str] = field(default_factory=set)
    requests: list[tuple[str, str]] = field(default_factory=list)
    uploads_left: int | None = None
    clusters: "Clusters" = field(default_factory=lambda: Clusters({"0101-standin"}))
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- set-up helpers for tests --------------------------------------------------------------

    def add_volume(self, catalog: str, schema: str, volume: str) -> None:
        self.catalogs.add(catalog)
        self.schemas.setdefault(f"{catalog}.{schema}", {"name": schema, "catalog_name": catalog,
                                                        "full_name": f"{catalog}.{schema}"})
        self.volumes.setdefault(f"{catalog}.{schema}.{volume}", _volume_info(catalog, schema, volume, None))

    def deny(self, *privileges: str) -> None:
        self.denied.update(privileges)

    def fail_uploads_after(self, count: int | None) -> None:
        self.uploads_left = count

    def listing(self, prefix: str) -> dict[str, bytes]:
        prefix = prefix.rstrip("/") + "/"
        return {path[len(prefix):]: data for path, data in self.files.items() if path.startswith(prefix)}


def _volume_info(catalog: str, schema: str, name: str, comment: str | None) -> dict:
    info = {"catalog_name": catalog, "schema_name": schema, "name": name, "volume_type": "MANAGED",
            "full_name": f"{catalog}.{schema}.{name}", "volume_id": uuid.uuid4().hex,
            "storage_location": f"s3://standin/{catalog}/{schema}/{name}"}
    if comment:
        info["comment"] = comment
    return info


class _Handler(BaseHTTPRequestHandler):
    workspace: Workspace
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # quiet: tests read state, not logs
        pass

    def do_GET(self):
        self._dispatch("GET")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_PATCH(self):
        self._dispatch("PATCH")

    # -- plumbing ------------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._read_chunked()
        ws = self.workspace
        with ws.lock:
            ws.requests.append((method, path))
        try:
            if path == "/.well-known/databricks-config":
                raise ApiError(404, "NOT_FOUND", "no host metadata here")
            if self.headers.get("Authorization") != f"Bearer {ws.token}":
                raise ApiError(401, "UNAUTHENTICATED", "Invalid access token.")
            status, payload, headers = _route(ws, method, path, query, body)
        except ApiError as error:
            status, headers = error.status, {}
            payload = {"error_code": error.code, "message": error.message}
        self._reply(method, status, payload, headers)

    def _read_chunked(self) -> bytes:
        data = b""
        while True:
            size = int(self.rfile.readline().strip(), 16)
            if size == 0:
                self.rfile.readline()
                return data
            data += self.rfile.read(size)
            self.rfile.readline()

    def _reply(self, method: str, status: int, payload, headers: dict) -> None:
        if isinstance(payload, bytes):
            data, kind = payload, "application/octet-stream"
        elif payload is None:
            data, kind = b"", None
        else:
            data, kind = json.dumps(payload).encode(), "application/json"
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if kind:
            self.send_header("Content-Type", kind)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(data)


def _need(ws: Workspace, privilege: str, on: str) -> None:
    if privilege in ws.denied:
        raise ApiError(403, "PERMISSION_DENIED", f"User does not have {privilege} on {on}.")


def _route(ws: Workspace, method: str, path: str, query: dict, body: bytes):
    if path.startswith("/api/2.0/fs/files/"):
        return _files(ws, method, path[len("/api/2.0/fs/files"):], query, body)
    if path.startswith("/api/2.0/fs/directories/"):
        return _directories(ws, method, path[len("/api/2.0/fs/directories"):].rstrip("/"), query)
    if path.startswith("/api/2.1/unity-catalog/"):
        return _unity_catalog(ws, method, path[len("/api/2.1/unity-catalog/"):], json.loads(body or b"{}"))
    if path.startswith("/api/1.2/"):
        return ws.clusters.handle(method, path[len("/api/1.2/"):], query, json.loads(body or b"{}"))
    if path.startswith("/api/2.0/sql/statements"):
        return _statements(ws, method, path[len("/api/2.0/sql/statements"):].strip("/"), json.loads(body or b"{}"))
    raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'")


# -- Files API --------------------------------------------------------------------------------------

_VOLUME_PATH = re.compile(r"^/Volumes/([^/]+)/([^/]+)/([^/]+)(/.*)?$")


def _volume_of(ws: Workspace, path: str) -> str:
    match = _VOLUME_PATH.match(path)
    if not match:
        raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Invalid path: {path}")
    catalog, schema, volume = match.group(1, 2, 3)
    _need(ws, "USE CATALOG", f"Catalog '{catalog}'")
    _need(ws, "USE SCHEMA", f"Schema '{catalog}.{schema}'")
    full = f"{catalog}.{schema}.{volume}"
    if full not in ws.volumes:
        raise ApiError(404, "NOT_FOUND", f"Volume '{full}' does not exist.")
    return full


def _files(ws: Workspace, method: str, path: str, query: dict, body: bytes):
    volume = _volume_of(ws, path)
    with ws.lock:
        if method == "PUT":
            _need(ws, "WRITE VOLUME", f"Volume '{volume}'")
            if query.get("overwrite", "true").lower() == "false" and path in ws.files:
                raise ApiError(409, "ALREADY_EXISTS", f"The file being created already exists: {path}")
            if ws.uploads_left is not None:
                if ws.uploads_left <= 0:
                    raise ApiError(500, "INTERNAL_ERROR", "the stand-in was told to fail this upload")
                ws.uploads_left -= 1
            ws.files[path] = body
            return 204, None, {}
        _need(ws, "READ VOLUME", f"Volume '{volume}'")
        if path not in ws.files:
            raise ApiError(404, "NOT_FOUND", f"The file does not exist: {path}")
        data = ws.files[path]
        if method == "GET":
            return 200, data, {"Last-Modified": formatdate(time.time(), usegmt=True)}
        if method == "HEAD":
            return 200, None, {"Content-Length": str(len(data)), "Content-Type": "application/octet-stream",
                               "Last-Modified": formatdate(time.time(), usegmt=True)}
        if method == "DELETE":
            _need(ws, "WRITE VOLUME", f"Volume '{volume}'")
            del ws.files[path]
            return 204, None, {}
    raise ApiError(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on files")


def _directories(ws: Workspace, method: str, path: str, query: dict):
    volume = _volume_of(ws, path)
    prefix = path + "/"
    with ws.lock:
        children = [p for p in ws.files if p.startswith(prefix)]
        subdirs = [d for d in ws.directories if d.startswith(prefix)]
        exists = bool(children or subdirs or path in ws.directories or _VOLUME_PATH.match(path).group(4) in (None, ""))
        if method == "PUT":
            _need(ws, "WRITE VOLUME", f"Volume '{volume}'")
            ws.directories.add(path)
            return 204, None, {}
        if not exists:
            raise ApiError(404, "NOT_FOUND", f"The directory does not exist: {path}")
        if method == "HEAD":
            return 200, None, {}
        if method == "DELETE":
            _need(ws, "WRITE VOLUME", f"Volume '{volume}'")
            if children or subdirs:
                raise ApiError(409, "DIRECTORY_NOT_EMPTY", f"The directory is not empty: {path}")
            ws.directories.discard(path)
            return 204, None, {}
        if method == "GET":
            _need(ws, "READ VOLUME", f"Volume '{volume}'")
            entries: dict[str, dict] = {}
            for file in children:
                rest = file[len(prefix):]
                name = rest.split("/", 1)[0]
                if "/" in rest:
                    entries[name] = {"path": prefix + name, "name": name, "is_directory": True}
                else:
                    entries[name] = {"path": file, "name": name, "is_directory": False,
                                     "file_size": len(ws.files[file]), "last_modified": int(time.time() * 1000)}
            for directory in subdirs:
                name = directory[len(prefix):].split("/", 1)[0]
                entries.setdefault(name, {"path": prefix + name, "name": name, "is_directory": True})
            ordered = [entries[name] for name in sorted(entries)]
            size = min(int(query.get("page_size", 1000)), 1000)
            start = int(query.get("page_token", 0) or 0)
            page = {"contents": ordered[start:start + size]}
            if start + size < len(ordered):
                page["next_page_token"] = str(start + size)
            return 200, page, {}
    raise ApiError(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on directories")


# -- Unity Catalog ------------------------------------------------------------------------------------


def _unity_catalog(ws: Workspace, method: str, rest: str, body: dict):
    kind, _, name = rest.partition("/")
    with ws.lock:
        if kind == "catalogs" and method == "GET" and name:
            _need(ws, "USE CATALOG", f"Catalog '{name}'")
            if name not in ws.catalogs:
                raise ApiError(404, "CATALOG_DOES_NOT_EXIST", f"Catalog '{name}' does not exist.")
            return 200, {"name": name, "full_name": name}, {}
        if kind == "schemas":
            if method == "GET" and name:
                catalog = name.split(".")[0]
                _need(ws, "USE CATALOG", f"Catalog '{catalog}'")
                if catalog not in ws.catalogs:
                    raise ApiError(404, "CATALOG_DOES_NOT_EXIST", f"Catalog '{catalog}' does not exist.")
                if name not in ws.schemas:
                    raise ApiError(404, "SCHEMA_DOES_NOT_EXIST", f"Schema '{name}' does not exist.")
                return 200, ws.schemas[name], {}
            if method == "POST" and not name:
                catalog, schema = body["catalog_name"], body["name"]
                _need(ws, "USE CATALOG", f"Catalog '{catalog}'")
                if catalog not in ws.catalogs:
                    raise ApiError(404, "CATALOG_DOES_NOT_EXIST", f"Catalog '{catalog}' does not exist.")
                _need(ws, "CREATE SCHEMA", f"Catalog '{catalog}'")
                full = f"{catalog}.{schema}"
                if full in ws.schemas:
                    raise ApiError(409, "SCHEMA_ALREADY_EXISTS", f"Schema '{schema}' already exists")
                ws.schemas[full] = {"name": schema, "catalog_name": catalog, "full_name": full,
                                    **({"comment": body["comment"]} if body.get("comment") else {})}
                return 200, ws.schemas[full], {}
        if kind == "volumes":
            if method == "GET" and name:
                catalog, schema = name.split(".")[:2]
                _need(ws, "USE CATALOG", f"Catalog '{catalog}'")
                if name not in ws.volumes:
                    raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Volume '{name}' does not exist.")
                return 200, ws.volumes[name], {}
            if method == "POST" and not name:
                catalog, schema, volume = body["catalog_name"], body["schema_name"], body["name"]
                _need(ws, "USE CATALOG", f"Catalog '{catalog}'")
                if f"{catalog}.{schema}" not in ws.schemas:
                    raise ApiError(404, "SCHEMA_DOES_NOT_EXIST", f"Schema '{catalog}.{schema}' does not exist.")
                _need(ws, "CREATE VOLUME", f"Schema '{catalog}.{schema}'")
                full = f"{catalog}.{schema}.{volume}"
                if full in ws.volumes:
                    raise ApiError(409, "RESOURCE_ALREADY_EXISTS", f"Volume '{volume}' already exists")
                ws.volumes[full] = _volume_info(catalog, schema, volume, body.get("comment"))
                return 200, ws.volumes[full], {}
        if kind == "tables" and method == "GET" and name:
            if name not in ws.tables:
                raise ApiError(404, "TABLE_DOES_NOT_EXIST", f"Table '{name}' does not exist.")
            return 200, ws.tables[name], {}
    raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} /api/2.1/unity-catalog/{rest}'")


# -- Statement Execution ----------------------------------------------------------------------------

_CREATE = re.compile(r"CREATE (?:OR REPLACE )?TABLE\s+(`?[\w.`]+`?)\s*\((?P<columns>.*)\)\s*USING DELTA\s*"
                     r"(?:COMMENT\s+'(?P<comment>(?:[^'\\]|\\.)*)')?\s*$", re.S | re.I)
_COLUMN = re.compile(r"`(?P<name>[^`]+)`\s+(?P<type>[\w<>,: ]+?)(?:\s+COMMENT\s+'(?P<comment>(?:[^'\\]|\\.)*)')?\s*(?:,|$)",
                     re.S)


def _statements(ws: Workspace, method: str, statement_id: str, body: dict):
    with ws.lock:
        if method == "POST" and not statement_id:
            if not body.get("warehouse_id"):
                raise ApiError(400, "INVALID_PARAMETER_VALUE", "warehouse_id is required")
            record = {"statement_id": uuid.uuid4().hex, "statement": body["statement"],
                      "warehouse_id": body["warehouse_id"]}
            try:
                _execute(ws, body["statement"])
                record["status"] = {"state": "SUCCEEDED"}
            except ApiError as error:
                record["status"] = {"state": "FAILED", "error": {"error_code": error.code, "message": error.message}}
            ws.statements.append(record)
            return 200, {"statement_id": record["statement_id"], "status": record["status"]}, {}
        if method == "GET" and statement_id:
            for record in ws.statements:
                if record["statement_id"] == statement_id:
                    return 200, {"statement_id": statement_id, "status": record["status"]}, {}
            raise ApiError(404, "NOT_FOUND", f"statement {statement_id} not found")
    raise ApiError(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on statements")


def _execute(ws: Workspace, sql: str) -> None:
    """Register the table a CREATE TABLE statement names, with its table and column comments."""
    match = _CREATE.match(sql.strip())
    if not match:
        return  # other statements are recorded only
    full = match.group(1).replace("`", "")
    catalog, schema, _ = full.split(".")
    if f"{catalog}.{schema}" not in ws.schemas:
        raise ApiError(404, "SCHEMA_NOT_FOUND", f"[SCHEMA_NOT_FOUND] The schema `{catalog}`.`{schema}` cannot be found.")
    if "CREATE TABLE" in ws.denied:  # a warehouse reports grants as a failed statement, not a 403
        raise ApiError(400, "BAD_REQUEST", "[INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not "
                                           f"have CREATE TABLE on Schema '{catalog}.{schema}'.")
    columns = [{"name": column["name"], "type_text": column["type"].strip(),
                **({"comment": column["comment"].replace("\\'", "'")} if column["comment"] else {})}
               for column in _COLUMN.finditer(match.group("columns") or "")]
    info = {"full_name": full, "name": full.split(".")[-1], "catalog_name": catalog, "schema_name": schema,
            "table_type": "MANAGED", "data_source_format": "DELTA", "columns": columns}
    if match.group("comment"):
        info["comment"] = match.group("comment").replace("\\'", "'")
    ws.tables[full] = info


# -- Command Execution API 1.2 -------------------------------------------------------------------------

# A context: a Python process that execs each command in one globals dict and answers with the
# command's printed output, or the traceback, as one JSON line (what a cluster's REPL returns).
_REPL = r"""
import contextlib, io, json, sys, traceback
scope = {"__name__": "__main__"}
real = sys.stdout
for line in sys.stdin:
    code = json.loads(line)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(code, "<command>", "exec"), scope)
        answer = {"resultType": "text", "data": printed.getvalue()}
    except BaseException:
        text = traceback.format_exc()
        answer = {"resultType": "error", "summary": text.strip().splitlines()[-1],
                  "cause": "\x1b[0;31m---------------------------------------------------------------------------\x1b[0m\n" + text}
    real.write(json.dumps(answer) + "\n")
    real.flush()
"""


class Clusters:
    """Clusters by id, their execution contexts (processes) and their commands."""

    def __init__(self, ids: set[str]):
        self.ids = ids
        self.contexts: dict[str, subprocess.Popen] = {}
        self.commands: dict[str, dict] = {}
        self.created = 0
        self.lock = threading.Lock()
        self.running = threading.Lock()

    def evict(self) -> None:
        """What a cluster restart does: every context is gone."""
        with self.lock:
            for process in self.contexts.values():
                process.kill()
                process.wait()
            self.contexts.clear()

    def close(self) -> None:
        self.evict()

    def handle(self, method: str, rest: str, query: dict, body: dict):
        cluster = body.get("clusterId") or query.get("clusterId")
        if cluster not in self.ids:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Cluster {cluster} does not exist")
        if (method, rest) == ("POST", "contexts/create"):
            process = subprocess.Popen([sys.executable, "-u", "-c", _REPL], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True)
            context = uuid.uuid4().hex
            with self.lock:
                self.contexts[context] = process
                self.created += 1
            return 200, {"id": context}, {}
        context = body.get("contextId") or query.get("contextId")
        if (method, rest) == ("GET", "contexts/status"):
            process = self.contexts.get(context)
            if process is None or process.poll() is not None:
                raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"ContextId {context} does not exist")
            return 200, {"id": context, "status": "Running"}, {}
        if (method, rest) == ("POST", "contexts/destroy"):
            with self.lock:
                process = self.contexts.pop(context, None)
            if process is not None:
                process.kill()
                process.wait()
            return 200, {}, {}
        if (method, rest) == ("POST", "commands/execute"):
            process = self.contexts.get(context)
            if process is None or process.poll() is not None:
                raise ApiError(400, "INVALID_PARAMETER_VALUE", f"ContextId {context} does not exist")
            command = {"id": uuid.uuid4().hex, "status": "Running", "context": context}
            self.commands[command["id"]] = command
            threading.Thread(target=self._run, args=(command, process, body["command"]), daemon=True).start()
            return 200, {"id": command["id"]}, {}
        if (method, rest) == ("GET", "commands/status"):
            command = self.commands.get(query.get("commandId"))
            if command is None:
                raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", "Command does not exist")
            answer = {"id": command["id"], "status": command["status"]}
            if "results" in command:
                answer["results"] = command["results"]
            return 200, answer, {}
        if (method, rest) == ("POST", "commands/cancel"):
            command = self.commands.get(body.get("commandId"))
            if command is not None and command["status"] == "Running":
                command["status"] = "Cancelled"
                process = self.contexts.get(command["context"])
                if process is not None:
                    process.send_signal(signal.SIGINT)  # a KeyboardInterrupt in the command, as a cluster does
            return 200, {}, {}
        raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} /api/1.2/{rest}'")

    def _run(self, command: dict, process: subprocess.Popen, code: str) -> None:
        with self.running:  # one command at a time, like a cluster's REPL
            try:
                process.stdin.write(json.dumps(code) + "\n")
                process.stdin.flush()
                line = process.stdout.readline()
            except OSError:
                line = ""
        if command["status"] == "Cancelled":
            return
        if not line:
            command["status"], command["results"] = "Error", {"resultType": "error", "summary": "the context died",
                                                             "cause": "the context died"}
            return
        results = json.loads(line)
        if len(results.get("data") or "") > 50_000:  # the API caps results
            results["data"] = results["data"][:50_000]
            results["truncated"] = True
        command["results"], command["status"] = results, "Finished"


# -- the server -------------------------------------------------------------------------------------------


class StandIn:
    """The server on an ephemeral port of 127.0.0.1, in a daemon thread."""

    def __init__(self, workspace: Workspace | None = None):
        self.workspace = workspace or Workspace()
        handler = type("Handler", (_Handler,), {"workspace": self.workspace})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.host = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="databricks-standin", daemon=True)

    def __enter__(self) -> "StandIn":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.workspace.clusters.close()


if __name__ == "__main__":
    with StandIn() as standin:
        standin.workspace.add_volume("main", "demo", "raw")
        print(f"DATABRICKS_HOST={standin.host} DATABRICKS_TOKEN={standin.workspace.token}")
        threading.Event().wait()
