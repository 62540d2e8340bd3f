"""The one place where the MCP server calls fabula, turning what comes back into JSON-ready
values for a coding assistant.

fabula's internals move (the result of `generate`, the manifest's fields, the plan's story
objects); keeping every call here makes such a change a one-file change for the server. The
functions raise fabula's own errors (`SpecError`, `UsageError`, `OutputError`,
`ValidationFailed`); the server turns those into structured answers.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import fabula
from fabula.errors import Issue, SpecError
from fabula.plan.explain import column_lines, explain
from fabula.scenarios import builtin_names, builtin_text
from fabula.validate import REPORT_HTML, REPORT_JSON

ALWAYS_SHOWN = ("story", "expectations")
"""Check families whose every check an assistant reads back: the story the spec tells and the
checks the user asked for. Other families are summarised by their counts and problems."""


# -- issues -------------------------------------------------------------------------------------


def issue_data(issue: Issue) -> dict[str, Any]:
    """An issue as data: what the assistant needs to fix the spec (and to quote the line)."""
    data: dict[str, Any] = {"code": issue.code, "path": issue.path, "message": issue.message,
                            "hint": issue.hint, "line": issue.line}
    if issue.has_value:
        data["value"] = jsonable(issue.value)
    return data


def spec_error_data(error: SpecError) -> dict[str, Any]:
    return {"ok": False, "issues": [issue_data(issue) for issue in error.issues]}


# -- the verbs ------------------------------------------------------------------------------------


def scenario_list() -> list[dict[str, str]]:
    return [{"name": name, "description": fabula.load_spec(name).description or ""} for name in builtin_names()]


def scenario_text(name: str) -> str:
    if name not in builtin_names():
        raise SpecError([Issue("unknown-spec", "", f"no built-in spec named {name!r}",
                               hint=f"built-ins: {', '.join(builtin_names())}")])
    return builtin_text(name)


def compile_plan(spec: Any, *, seed: int | None = None, scale: float = 1.0, as_of: date | None = None):
    """Load, check and compile: every problem of the spec at once, as `fabula check` finds them
    (structure, references, uniqueness, `expect:` SQL against the planned columns)."""
    return fabula.compile_plan(fabula.load_spec(spec), seed=seed, scale=scale, as_of=as_of)


def check_summary(plan) -> dict[str, Any]:
    return {"ok": True, "dataset": plan.name, "tables": len(plan.tables),
            "columns": sum(len(table.columns) for table in plan.tables), "rows": plan.total_rows,
            "issues": []}


def plan_text(plan) -> str:
    """`fabula plan` as plain text (what the assistant shows the user)."""
    return "\n".join(line.rstrip() for line in explain(plan, width=110).splitlines())


def plan_data(plan) -> dict[str, Any]:
    """The plan as data: tables, rows, columns with their parameters, timelines and events."""
    story = plan.story
    timelines = {}
    events = {}
    if story is not None:
        for name, timeline in plan.spec.timelines.items():
            resolved = story.timelines[name]
            first = date(1970, 1, 1) + timedelta(days=int(resolved.first_day))
            timelines[name] = {"start": first.isoformat(),
                               "end": (first + timedelta(days=max(int(resolved.n_days) - 1, 0))).isoformat(),
                               "days": int(resolved.n_days), "rate": timeline.rate,
                               "description": timeline.description}
        for name, event in plan.spec.events.items():
            window = story.events[name]
            events[name] = {"start": str(window.start_date), "end": str(window.end_date),
                            "description": event.description,
                            "volume": {table: effect.factor for table, effect in event.volume.items()},
                            "changes": [f"{table.name}.{column.name}" for table in plan.tables
                                        for column in table.outputs
                                        for override in getattr(column.generator, "overrides", ())
                                        if override.event == name]}
    tables = []
    for name in plan.table_order or [table.name for table in plan.tables]:
        table = plan.table(name)
        arrivals = story.arrivals.get(name) if story is not None else None
        tables.append({
            "name": name, "rows": table.rows,
            "sized_by": ({"timeline": arrivals.timeline} if arrivals is not None
                         else {"per": table.per} if table.per else {"rows": table.rows}),
            "columns": [{"name": line.name, "type": line.type, "kind": line.kind,
                         "parameters": line.parameters, "modifiers": line.modifiers}
                        for line in map(column_lines, table.outputs)],
        })
    return {"dataset": plan.name, "description": plan.spec.description, "seed": plan.seed,
            "as_of": plan.as_of.isoformat(), "scale": plan.scale, "total_rows": plan.total_rows,
            "timelines": timelines, "events": events, "tables": tables}


def preview_rows(plan, *, rows: int, tables: list[str] | None = None) -> dict[str, Any]:
    """The first rows of every table (or of `tables`), as JSON records."""
    names = [table.name for table in plan.tables]
    unknown = [name for name in tables or () if name not in names]
    if unknown:
        raise fabula.UsageError(f"no table named {unknown[0]!r}", hint=f"tables: {', '.join(names)}")
    shown = {}
    for name, table in fabula.preview(plan, rows=rows).items():
        if tables and name not in tables:
            continue
        shown[name] = {"rows_in_table": plan.table(name).rows,
                       "columns": [field.name for field in table.schema],
                       "rows": [{key: jsonable(value) for key, value in row.items()} for row in table.to_pylist()]}
    return shown


def generate(plan, out: Path, *, mode: str, progress: Callable[[int], None]) -> dict[str, Any]:
    """Write the plan under `out` with its checks; a summary of what was written and the verdict.

    Never strict: a failed check is part of the answer (the assistant reads the verdict back),
    not an error."""
    result = fabula.generate(plan, out, mode=mode, progress=progress, validate=True, strict=False)
    manifest = result.manifest
    written = {name: {"rows": table.rows, "files": len(table.files), "bytes": table.bytes}
               for name, table in manifest.tables.items()}
    return {"dataset": manifest.dataset, "seed": manifest.seed, "as_of": manifest.as_of,
            "scale": manifest.scale, "tables": written,
            "validation": report_summary(result.report.to_dict(), out)}


def validate(out: Path, *, all_checks: bool = False) -> dict[str, Any]:
    """Re-check a folder written by `generate` against the spec its manifest records."""
    report = fabula.validate_output(out, strict=False)
    return report_summary(report.to_dict(), out, all_checks=all_checks)


def report_summary(report: dict[str, Any], out: Path, *, all_checks: bool = False) -> dict[str, Any]:
    """The verdict, the counts, the story and declared checks, and every check that warned or
    failed (all checks with `all_checks`): what an assistant reads back to the user."""
    shown = [check for check in report["checks"]
             if all_checks or check["family"] in ALWAYS_SHOWN or check["verdict"] in ("fail", "warn")]
    return {"verdict": report["verdict"], "counts": report["counts"],
            "checks": [{key: check.get(key) for key in ("family", "name", "verdict", "message",
                                                          "expected", "observed")} for check in shown],
            "report_html": str(out / REPORT_HTML), "report_json": str(out / REPORT_JSON)}


# -- JSON ------------------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """A value from Arrow or a spec as JSON: dates and times as ISO text, durations in seconds,
    non-finite floats and other objects as text, bytes as base64."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return str(value)
