"""Option types and option groups shared by the commands, and the global `--allow-large` flag."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import click


class AsOfDate(click.ParamType):
    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date; write it as 2024-12-31", param, ctx)


class Scale(click.ParamType):
    """A positive, finite multiplier of at most MAX_SCALE (row counts stay within 64 bits)."""

    name = "X"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        from fabula.spec.bounds import MAX_SCALE

        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not (number > 0 and number <= MAX_SCALE):  # also refuses nan and inf
            self.fail(f"{value} is not between 0 (excluded) and {MAX_SCALE:g}", param, ctx)
        return number


def plan_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--seed, --scale and --as-of, shared by every command that compiles a plan."""
    command = click.option("--as-of", "as_of", type=AsOfDate(),
                           help="what relative dates count from (default: the spec's, else today)")(command)
    command = click.option("--scale", type=Scale(), default=1.0, show_default=True,
                           help="multiply every table's row count")(command)
    command = click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1),
                           help="override the spec's root seed")(command)
    return command


def allow_large() -> bool:
    """The global `fabula --allow-large` flag."""
    return bool((click.get_current_context().find_root().obj or {}).get("allow_large"))
