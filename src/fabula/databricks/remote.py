"""`--on-cluster ID`: run the whole job on a cluster through the Command Execution API 1.2, in an
execution context that is reused between runs (imports and state persist, and a run does not pay
for a new Python process).

The context id is cached per (host, cluster) in the user's cache folder
(`$FABULA_CACHE_DIR`, default ~/.cache/fabula, file databricks-contexts.json: ids only, never a
credential). Before reuse its status is checked; after an eviction or a cluster restart a new
one is created. `--close-context` destroys it. The remote command prints one line of JSON (rows,
paths, verdict), never bulk data: the API caps results at 50K characters. A command that
finishes with `resultType: error` becomes a RemoteError carrying the cleaned traceback; a
timeout or Ctrl-C cancels the remote command.
"""

from __future__ import annotations

import json
import os
import re
import time
from datetime import date
from pathlib import Path
from typing import Any

from fabula.databricks.client import WorkspaceError, require_sdk, translated

CACHE_FILE = "databricks-contexts.json"
POLL_SECONDS = 0.5
CONTEXT_START_SECONDS = 600
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class RemoteError(WorkspaceError):
    """The command ran on the cluster and failed there."""


def cache_path() -> Path:
    root = os.environ.get("FABULA_CACHE_DIR") or os.path.join(Path.home(), ".cache", "fabula")
    return Path(root) / CACHE_FILE


class ContextCache:
    """Execution context ids by (host, cluster), in one small JSON file written atomically."""

    def __init__(self, path: Path | None = None):
        self.path = path or cache_path()

    def _read(self) -> dict[str, str]:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _write(self, entries: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(entries, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(temporary, self.path)

    @staticmethod
    def key(host: str, cluster: str) -> str:
        return f"{host.rstrip('/')}|{cluster}"

    def get(self, host: str, cluster: str) -> str | None:
        return self._read().get(self.key(host, cluster))

    def put(self, host: str, cluster: str, context: str) -> None:
        self._write({**self._read(), self.key(host, cluster): context})

    def drop(self, host: str, cluster: str) -> None:
        entries = self._read()
        if entries.pop(self.key(host, cluster), None) is not None:
            self._write(entries)


class ClusterSession:
    """Commands on one cluster, in the cached execution context."""

    def __init__(self, client, cluster: str, *, cache: ContextCache | None = None):
        self.client = client
        self.cluster = cluster
        self.cache = cache or ContextCache()
        self.host = client.config.host
        self.api = client.command_execution
        self.errors = require_sdk().errors

    def _step(self, action: str):
        return translated(action, privilege="CAN ATTACH TO", on=f"cluster {self.cluster}", host=self.host)

    def context(self) -> str:
        """The cached context if it is still running, else a new one (cached)."""
        from databricks.sdk.service.compute import ContextStatus, Language

        cached = self.cache.get(self.host, self.cluster)
        if cached is not None:
            if self._status(cached) == ContextStatus.RUNNING:
                return cached
            self.cache.drop(self.host, self.cluster)  # evicted, or the cluster restarted
        with self._step(f"creating an execution context on cluster {self.cluster}"):
            context = self.api.create(cluster_id=self.cluster, language=Language.PYTHON).context_id
            deadline = time.monotonic() + CONTEXT_START_SECONDS
            while (status := self._status(context)) != ContextStatus.RUNNING:
                if status == ContextStatus.ERROR or time.monotonic() > deadline:
                    raise WorkspaceError(f"the execution context on cluster {self.cluster} did not start",
                                         hint="check the cluster is running and you may attach to it")
                time.sleep(POLL_SECONDS)
        self.cache.put(self.host, self.cluster, context)
        return context

    def _status(self, context: str):
        with self._step(f"checking the execution context on cluster {self.cluster}"):
            try:
                return self.api.context_status(cluster_id=self.cluster, context_id=context).status
            except (self.errors.Unauthenticated, self.errors.PermissionDenied):
                raise
            except self.errors.DatabricksError:
                return None  # gone (evicted, cluster restarted): the caller makes a new one

    def close(self) -> bool:
        """Destroy the cached context (`--close-context`); False if there was none."""
        cached = self.cache.get(self.host, self.cluster)
        if cached is None:
            return False
        try:
            with self._step(f"destroying the execution context on cluster {self.cluster}"):
                self.api.destroy(cluster_id=self.cluster, context_id=cached)
        except self.errors.DatabricksError:
            pass  # already gone
        self.cache.drop(self.host, self.cluster)
        return True

    def run(self, code: str, *, timeout: float | None = None) -> str:
        """Run Python code in the context; return what it printed. Cancels it on timeout or Ctrl-C."""
        from databricks.sdk.service.compute import Language

        context = self.context()
        with self._step(f"running a command on cluster {self.cluster}"):
            try:
                command = self.api.execute(cluster_id=self.cluster, context_id=context, language=Language.PYTHON,
                                           command=code).command_id
            except (self.errors.BadRequest, self.errors.NotFound):
                # evicted between the status check and now: once more in a fresh context
                self.cache.drop(self.host, self.cluster)
                context = self.context()
                command = self.api.execute(cluster_id=self.cluster, context_id=context, language=Language.PYTHON,
                                           command=code).command_id
        return self._wait(context, command, timeout)

    def _wait(self, context: str, command: str, timeout: float | None) -> str:
        from databricks.sdk.service.compute import CommandStatus, ResultType

        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                with self._step(f"waiting for a command on cluster {self.cluster}"):
                    status = self.api.command_status(cluster_id=self.cluster, context_id=context, command_id=command)
                if status.status in (CommandStatus.FINISHED, CommandStatus.ERROR, CommandStatus.CANCELLED):
                    break
                if deadline is not None and time.monotonic() > deadline:
                    raise RemoteError(f"the command on cluster {self.cluster} took longer than {timeout:g}s; "
                                      "it was cancelled", hint="raise the timeout, or make the job smaller")
                time.sleep(POLL_SECONDS)
        except BaseException:
            try:
                self.api.cancel(cluster_id=self.cluster, context_id=context, command_id=command)
            except Exception:  # noqa: BLE001 - the original failure is what the user needs to see
                pass
            raise
        results = status.results
        if status.status == CommandStatus.CANCELLED:
            raise RemoteError(f"the command on cluster {self.cluster} was cancelled", hint="run it again")
        if status.status == CommandStatus.ERROR or (results is not None and results.result_type == ResultType.ERROR):
            summary = _clean(getattr(results, "summary", None) or "") or "the command failed"
            cause = _clean(getattr(results, "cause", None) or "")
            unindented = [line for line in (cause or summary).splitlines() if not line[:1].isspace()]
            headline = unindented[-1] if unindented else summary.splitlines()[-1]  # "ValueError: ..."
            raise RemoteError(f"the command failed on cluster {self.cluster}: {headline}",
                              hint=f"the remote traceback:\n{_indent(cause)}" if cause else None)
        return str(getattr(results, "data", "") or "")


def _clean(text: str) -> str:
    """A remote traceback without colour codes, rulers and the REPL's own frames."""
    lines = [_ANSI.sub("", line).rstrip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line and not set(line) <= {"-"})


def _indent(text: str, limit: int = 40) -> str:
    lines = text.splitlines()[-limit:]
    return "\n".join(f"      {line}" for line in lines)


# -- the job -------------------------------------------------------------------------------------

_JOB = """
import json as _json
try:
    import fabula as _fabula
except ImportError:
    raise ImportError("fabula is not installed in this cluster's Python") from None
_args = _json.loads({args!r})
if "as_of" in _args["plan"]:
    import datetime as _datetime
    _args["plan"]["as_of"] = _datetime.date.fromisoformat(_args["plan"]["as_of"])
_result = _fabula.generate(_fabula.load_spec(_args["spec"]), _args["out"], mode=_args["mode"],
                           validate=_args["validate"], strict=False, **_args["output"], **_args["plan"])
_tables = _result.manifest.tables
print(_json.dumps({{"out": _args["out"], "rows": {{t: v.rows for t, v in _tables.items()}},
                   "files": {{t: [f.path for f in v.files] for t, v in _tables.items()}},
                   "verdict": _result.report.verdict if _result.report is not None else None}}))
"""


def generate_on_cluster(session: ClusterSession, spec_text: str, out: str, *, mode: str = "error",
                        validate: bool = True, seed: int | None = None, scale: float = 1.0,
                        as_of: date | None = None, output_format: str = "parquet", compression: str = "snappy",
                        timeout: float | None = None) -> dict[str, Any]:
    """Generate on the cluster into `out` (a path the cluster sees, e.g. /Volumes/...); return the
    one-line summary it prints: out, rows and files per table, and the validation verdict.

    The cluster runs this fabula (`fabula.databricks.install.ensure_fabula` puts it there), so
    the job calls the same `fabula.generate` as a local run."""
    out = out[len("dbfs:"):] if out.startswith("dbfs:") else out
    plan = {"seed": seed, "scale": scale, "as_of": as_of.isoformat() if as_of is not None else None}
    args = json.dumps({"spec": spec_text, "out": out, "mode": mode, "validate": validate,
                       "output": {"output_format": output_format, "compression": compression},
                       "plan": {key: value for key, value in plan.items() if value is not None}})
    printed = session.run(_JOB.format(args=args), timeout=timeout)
    try:
        return json.loads(printed.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RemoteError(f"the command on cluster {session.cluster} printed no summary",
                          hint=f"it printed: {printed[:500]!r}") from None
