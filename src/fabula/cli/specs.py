"""The SPEC argument: a built-in name or a path, compiled into a plan with every problem the
spec has, from every stage, in one answer."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import fabula
from fabula.cli.options import allow_large
from fabula.errors import SpecError, UsageError
from fabula.scenarios import builtin_names


def spec_source(value: str) -> str | Path:
    """SPEC as given: a built-in name, or a path handed to the loader as a Path (so a name such
    as `shop` that is a file is read as the file, and an odd path is a usage error, not a crash)."""
    if value in builtin_names():
        return value
    try:
        exists = os.path.lexists(value)
    except (OSError, ValueError) as error:
        raise UsageError(f"SPEC {value[:60]!r} is not a usable path: {error}",
                         hint="give the path of a YAML spec, or a built-in name (see `fabula scenarios`)") from None
    if len(value) > 4096:
        raise UsageError("SPEC is longer than 4,096 characters",
                         hint="give the path of a YAML spec, or a built-in name (see `fabula scenarios`)")
    return Path(value) if exists else value


def compile_for_cli(spec: str, **options: Any) -> Any:
    """compile_plan with the global --allow-large flag applied; a refused spec reports its
    independent problems from every stage at once (see `_with_later_issues`)."""
    large = allow_large() or options.pop("allow_large", False)
    try:
        return fabula.compile_plan(spec_source(spec), allow_large=large, **options)
    except SpecError as error:
        raise _with_later_issues(error, allow_large=large, **options) from None


def _with_later_issues(error: SpecError, **options: Any) -> SpecError:
    """Problems the loader finds stop the spec before it is compiled, which would hide problems
    only compiling finds (an expression's types, an overflow it proves). Compile the part of the
    spec no issue touches, and add what that finds: one `check` then shows every independent
    problem, and nothing that is only a consequence of another."""
    partial = getattr(error, "partial", None)
    if partial is None:
        return error
    from fabula.plan.compile import compile_plan as compile_spec

    try:
        compile_spec(partial, **options)
    except SpecError as later:
        seen = {(issue.code, issue.path) for issue in error.issues}
        extra = [issue for issue in later.issues if (issue.code, issue.path) not in seen]
        if extra:
            issues = sorted([*error.issues, *extra], key=lambda issue: issue.line if issue.line is not None else 0)
            return SpecError(issues)
    except Exception:  # noqa: BLE001 - a second look must never hide the first answer
        pass
    return error
