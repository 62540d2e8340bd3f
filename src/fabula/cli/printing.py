"""What the `fabula` command prints: warnings, preview grids, the summary of a run and its
validation report. Rich renders it; the heavy layers are imported only when something is shown."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from rich.console import Console

from fabula.errors import ValidationFailed

REPORT_HTML = "report.html"  # as fabula.validate.report names it (importing that would load Arrow)

out = Console()
err = Console(stderr=True)

T = TypeVar("T")


def kept(run: Callable[[], T]) -> tuple[T, ValidationFailed | None]:
    """What `run` produced, and the ValidationFailed it raised when a strict run's checks failed
    (None otherwise). The API decides strictness and keeps the output and its report either way;
    the command shows them, then re-raises the error for its exit code (3)."""
    try:
        return run(), None
    except ValidationFailed as failed:
        if failed.result is None:
            raise
        return failed.result, failed


def show_run(result: Any, failure: ValidationFailed | None, *, quiet: bool, first: Iterable[str] = ()) -> None:
    """Print a `fabula.generate` result (after the lines `first`), unless `quiet`; then raise
    the strict failure that came with it, if any."""
    if not quiet:
        for line in first:
            out.print(line)
        print_result(result)
    if failure is not None:
        raise failure


def print_warnings(plan: Any) -> None:
    """Things in the spec that cannot have an effect (an event outside its timeline...): worth
    saying, not worth refusing the spec for."""
    where = getattr(plan.spec, "where", None)
    for warning in getattr(where, "warnings", ()):
        err.print(f"warning: {warning.render()}", markup=False, highlight=False, soft_wrap=True)


def print_result(result: Any) -> None:
    """A `fabula.generate` result: what was written where, how fast, and the validation verdict."""
    print_summary(result.manifest, result.out, result.timings.total - result.timings.plan)
    if result.report is not None:
        print_report(result.report, result.out)


def print_report(report: Any, location: str) -> None:
    """The terminal summary of a validation report that lies at `location`/report.html."""
    from fabula.validate.terminal import summary

    out.print(summary(report, f"{location}/{REPORT_HTML}"))


def print_summary(manifest: Any, location: str, elapsed: float) -> None:
    from rich.table import Table

    grid = Table(title=f"{manifest.dataset} → {location}", title_justify="left", title_style="bold")
    for heading in ("table", "rows", "files", "size"):
        grid.add_column(heading, justify="left" if heading == "table" else "right")
    total = 0
    for name, table in manifest.tables.items():
        total += table.rows
        grid.add_row(name, f"{table.rows:,}", str(len(table.files)), size(table.bytes))
    out.print(grid)
    rate = f", {total / elapsed:,.0f} rows/s" if elapsed > 0 else ""
    out.print(f"{total:,} rows in {elapsed:.2f}s{rate}; seed {manifest.seed}, as_of {manifest.as_of}")


def size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return str(count)


def preview_grid(title: str, table: Any) -> Any:
    """Rows as rows when they fit the terminal; otherwise one line per column (wide tables)."""
    from rich.table import Table
    from rich.text import Text

    cells = [[Text("∅", style="dim") if value is None else Text(str(value)) for value in row.values()]
             for row in table.to_pylist()]
    grid = Table(title=title, title_justify="left", title_style="bold")
    if table.num_columns * 12 <= out.width:
        for field in table.schema:
            grid.add_column(field.name, overflow="fold")
        for row in cells:
            grid.add_row(*row)
        return grid
    grid.add_column("column", style="bold")
    for index in range(len(cells)):
        grid.add_column(f"row {index + 1}", overflow="fold")
    for position, field in enumerate(table.schema):
        grid.add_row(field.name, *(row[position] for row in cells))
    return grid
