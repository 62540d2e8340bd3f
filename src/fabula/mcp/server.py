"""`fabula mcp`: an MCP server (stdio) whose tools mirror the command-line verbs, so that a coding
assistant writes a spec, shows the user the plan, generates and reads the verdict back, instead
of writing a generation script.

Safe by construction: specs go through the same loading, checks and SQL sandbox as the command
line; specs are read and data written only under the root folder; a bad spec or argument comes
back as data (`ok: false` with issues, or an error and a hint), never as an exception.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

import fabula
from fabula.errors import FabulaError, SpecError
from fabula.mcp import adapter
from fabula.mcp.paths import Root
from fabula.mcp.reference import column_reference

MAX_PREVIEW_ROWS = 100
"""Rows per table `preview` returns at most: enough to judge, small enough for a model's context."""

DEFAULT_MAX_ROWS = 50_000_000
"""Rows `generate` writes at most unless the server is started with a larger `--max-rows`: an
assistant runs unattended, and a typo in a scale should not fill the disk."""

INSTRUCTIONS = """\
fabula generates story-driven, multi-table synthetic data from a short YAML spec. Instead of
writing a Faker/Spark script: write a spec, `check` it, show the user the `plan` and ask before
generating, `preview` a few rows, `generate` into a folder, then read the `validate` verdict back.
`scenarios` lists built-in specs to start from; the resource fabula://reference/columns lists
every column kind. Specs are given as YAML text, a built-in name, or a file under the root.
"""

# argument descriptions, shown to the assistant in each tool's input schema
Spec = Annotated[str, Field(description="the spec: YAML text, a built-in name (see `scenarios`), "
                                        "or a .yaml file under the server's root")]
Seed = Annotated[int | None, Field(description="override the spec's root seed")]
Scale = Annotated[float, Field(description="multiply every table's rows (and timeline rates), "
                                           "e.g. 0.1 for a quick run")]
AsOf = Annotated[str | None, Field(description="the date relative dates count from, e.g. 2024-12-31 "
                                               "(default: the spec's, else today)")]
Out = Annotated[str, Field(description="an output folder relative to the server's root, e.g. out/shop")]


def build_server(root: str | Path = ".", *, max_rows: int = DEFAULT_MAX_ROWS) -> MCPServer:
    """The server, with its tools and the column-kind resource, confined to `root`."""
    folder = Root(root)
    server = MCPServer("fabula", version=fabula.__version__, instructions=INSTRUCTIONS)
    read_only = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)

    @server.tool(annotations=read_only)
    def scenarios(name: Annotated[str | None, Field(description="a built-in's name, "
                                                                "to return its YAML")] = None) -> dict[str, Any]:
        """List the built-in specs (name and description), or return one spec's YAML to copy and
        edit when `name` is given."""
        def run():
            if name is None:
                return {"ok": True, "scenarios": adapter.scenario_list()}
            return {"ok": True, "name": name, "yaml": adapter.scenario_text(name)}
        return _answer(run)

    @server.tool(annotations=read_only)
    def check(spec: Spec) -> dict[str, Any]:
        """Check a spec without generating anything. Returns `ok` and, for a bad spec, every
        problem at once: `issues` with code, path (the YAML key), message, hint and line."""
        return _answer(lambda: adapter.check_summary(adapter.compile_plan(folder.spec_source(spec))))

    @server.tool(annotations=read_only)
    def plan(spec: Spec, seed: Seed = None, scale: Scale = 1.0, as_of: AsOf = None) -> dict[str, Any]:
        """What a spec will generate, before anything is written: tables, row counts, every
        column's kind and parameters, timelines and events. `text` is the readable plan to show
        the user; `plan` is the same as data. Show it and ask before calling `generate`."""
        def run():
            compiled = _compile(folder, spec, seed, scale, as_of)
            return {"ok": True, "text": adapter.plan_text(compiled), "plan": adapter.plan_data(compiled)}
        return _answer(run)

    @server.tool(annotations=read_only)
    def preview(spec: Spec, rows: Annotated[int, Field(description=f"rows per table, 1 to {MAX_PREVIEW_ROWS}")] = 5,
                tables: Annotated[list[str] | None, Field(description="only these tables")] = None,
                seed: Seed = None, scale: Scale = 1.0, as_of: AsOf = None) -> dict[str, Any]:
        """The first rows of every table (or of `tables`) as JSON records, generated in memory:
        exactly what `generate` would write. Nothing is written."""
        def run():
            if not 1 <= rows <= MAX_PREVIEW_ROWS:
                raise fabula.UsageError(f"rows must be between 1 and {MAX_PREVIEW_ROWS} (got {rows})",
                                        hint="a few rows per table are enough to judge; generate for more")
            compiled = _compile(folder, spec, seed, scale, as_of)
            return {"ok": True, "tables": adapter.preview_rows(compiled, rows=rows, tables=tables)}
        return _answer(run)

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=True,
                                             open_world_hint=False))
    async def generate(spec: Spec, out: Out, ctx: Context,
                       mode: Annotated[Literal["error", "overwrite"], Field(
                           description="error: refuse a folder that holds data; overwrite: replace a folder "
                                       "fabula wrote")] = "error",
                       seed: Seed = None, scale: Scale = 1.0, as_of: AsOf = None) -> dict[str, Any]:
        """Generate a spec as Parquet into the folder `out` (relative to the server's root; never
        outside it), with manifest.json, report.json and report.html, and check the data while it
        is written. `mode: overwrite` replaces a folder fabula wrote before. Returns the rows
        written per table and the validation verdict. Databricks Volumes (dbfs:, /Volumes) are
        not supported yet. Reports progress while it runs."""
        def prepare():
            target = folder.output(out)
            compiled = _compile(folder, spec, seed, scale, as_of)
            if compiled.total_rows > max_rows:
                raise fabula.UsageError(
                    f"the plan has {compiled.total_rows:,} rows, more than this server writes ({max_rows:,})",
                    hint="lower `scale`, or start the server with a larger `fabula mcp --max-rows N`")
            return target, compiled

        try:  # compiling a large plan takes a while: off the event loop, like the writing
            target, compiled = await anyio.to_thread.run_sync(prepare)
        except FabulaError as error:
            return _failure(error)
        written = _Counter()

        def write():
            return {"ok": True, "out": str(target),
                    **adapter.generate(compiled, target, mode=mode, progress=written.add)}

        async def report(rows: int) -> None:
            await ctx.report_progress(rows, compiled.total_rows, f"{rows:,} of {compiled.total_rows:,} rows")

        return await _with_progress(write, written, report)

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True,
                                             open_world_hint=False))
    def validate(out: Annotated[str, Field(description="a folder `generate` wrote, relative to the root")],
                 all_checks: Annotated[bool, Field(description="return every check, not only the story, the declared "
                                                               "ones and the problems")] = False) -> dict[str, Any]:
        """Re-check a folder written by `generate` (under the root) against the spec, seed and
        scale its manifest records; rewrites its report.json and report.html. Returns the
        verdict (pass, warn or fail), the counts, the story and declared checks and every check
        that warned or failed (every check with `all_checks`). Read the verdict back to the user."""
        return _answer(lambda: {"ok": True, "out": str(folder.inside(out)),
                                **adapter.validate(folder.inside(out), all_checks=all_checks)})

    @server.resource("fabula://reference/columns", name="column-kinds", mime_type="text/markdown",
                     description="Every column kind with its parameters, the modifiers, tables, timelines and events")
    def columns_reference() -> str:
        return column_reference()

    return server


def run(root: str | Path = ".", *, max_rows: int = DEFAULT_MAX_ROWS) -> None:
    """Serve over stdio until the client closes the connection."""
    build_server(root, max_rows=max_rows).run("stdio")


# -- helpers ---------------------------------------------------------------------------------------


def _compile(folder: Root, spec: str, seed: int | None, scale: float, as_of: str | None):
    if not scale > 0:
        raise fabula.UsageError(f"scale must be above 0 (got {scale})", hint="e.g. scale: 0.1 for a tenth of the rows")
    if seed is not None and not 0 <= seed < 2**63:
        raise fabula.UsageError(f"seed must be between 0 and 2**63 - 1 (got {seed})")
    return adapter.compile_plan(folder.spec_source(spec), seed=seed, scale=scale, as_of=_as_of(as_of))


def _as_of(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fabula.UsageError(f"as_of {text!r} is not a date", hint="write it as 2024-12-31") from None


_ERROR_KINDS = {fabula.UsageError: "argument", fabula.OutputError: "output", fabula.ValidationFailed: "validation"}
"""What went wrong, as a word an assistant can branch on: a bad argument, or an output folder
that cannot be written or read as asked."""


def _answer(run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """What a tool returns: its result, or fabula's error as data."""
    try:
        return run()
    except FabulaError as error:
        return _failure(error)


def _failure(error: FabulaError) -> dict[str, Any]:
    """A bad spec lists its issues; any other error of fabula's is a message and a hint."""
    if isinstance(error, SpecError):
        return adapter.spec_error_data(error)
    return {"ok": False, "error": getattr(error, "message", None) or str(error),
            "hint": getattr(error, "hint", None), "kind": _ERROR_KINDS.get(type(error), "error")}


class _Counter:
    """Rows written so far, added to from the engine's worker threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self.rows = 0

    def add(self, rows: int) -> None:
        with self._lock:
            self.rows += rows


async def _with_progress(work: Callable[[], dict[str, Any]], counter: _Counter,
                         report: Callable[[int], Awaitable[None]], every: float = 0.25) -> dict[str, Any]:
    """Run blocking `work` in a thread, reporting the counter's rows as progress until it ends.

    The engine calls its progress callback from its own threads, which cannot talk to the
    event loop; so the loop polls the counter instead."""
    outcome: dict[str, Any] = {}
    finished = anyio.Event()

    async def run_work() -> None:
        try:
            outcome["value"] = await anyio.to_thread.run_sync(lambda: _answer(work))
        finally:
            finished.set()

    async with anyio.create_task_group() as group:
        group.start_soon(run_work)
        reported = -1
        while not finished.is_set():
            with anyio.move_on_after(every):
                await finished.wait()
            if counter.rows != reported:
                reported = counter.rows
                await report(reported)
    return outcome["value"]
