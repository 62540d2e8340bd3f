"""`fabula check | plan | preview | generate | scenarios` — see `fabula --help`."""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

import fabula
from fabula.errors import FabulaError, ValidationFailed
from fabula.plan.explain import render
from fabula.scenarios import builtin_names, builtin_text
from fabula.manifest import read_manifest
from fabula.sinks import COMPRESSIONS
from fabula.sinks.files import WRITE_MODES  # formats (issue 13): error, overwrite, append
from fabula.sinks.folder import check_path
from fabula.sinks.formats import FORMATS
from fabula.validate import REPORT_HTML, REPORT_JSON, Report
from fabula.validate.terminal import summary as validation_summary

out = Console()
err = Console(stderr=True)

SPEC_HELP = "a YAML spec file, or the name of a built-in spec (see `fabula scenarios`)"


class AsOfDate(click.ParamType):
    name = "DATE"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date; write it as 2024-12-31", param, ctx)


def plan_options(command):
    """--seed, --scale and --as-of, shared by every command that compiles a plan."""
    command = click.option("--as-of", "as_of", type=AsOfDate(),
                           help="what relative dates count from (default: the spec's, else today)")(command)
    command = click.option("--scale", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
                           help="multiply every table's row count")(command)
    command = click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1),
                           help="override the spec's root seed")(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(fabula.__version__, prog_name="fabula")
def cli():
    """fabula: story-driven synthetic data for lakehouses.

    \b
    Describe a dataset in YAML, then:
      fabula check SPEC                 validate it (every problem at once)
      fabula plan SPEC                  see the tables, row counts and assumptions
      fabula preview SPEC               see a few rows of every table
      fabula generate SPEC --out DIR    write Parquet and a manifest, and check the data
      fabula validate DIR               re-check a folder written earlier (or copied)
      fabula stream SPEC --out DIR      write it as micro-batches over time (--every 10s)
    \b
    Try it with the built-in spec:  fabula generate retail --out out/retail
    """


@cli.command()
@click.argument("spec", metavar="SPEC")
def check(spec):
    """Validate SPEC without generating anything. Exit code 2 if it has problems."""
    loaded = fabula.compile_plan(spec, scale=1.0)
    columns = sum(len(table.columns) for table in loaded.tables)
    out.print(f"[green]ok[/]  {loaded.name}: {len(loaded.tables)} tables, {columns} columns, "
              f"{loaded.total_rows:,} rows")


@cli.command()
@click.argument("spec", metavar="SPEC")
@plan_options
def plan(spec, seed, scale, as_of):
    """Show what SPEC will generate: tables, rows, columns, parameters and rules."""
    out.print(render(fabula.compile_plan(spec, seed=seed, scale=scale, as_of=as_of)))


@cli.command()
@click.argument("spec", metavar="SPEC")
@click.option("--rows", "-n", type=click.IntRange(min=1, max=1000), default=5, show_default=True,
              help="rows to show per table")
@click.option("--table", "-t", "only", multiple=True, help="show only this table (repeatable)")
@plan_options
def preview(spec, rows, only, seed, scale, as_of):
    """Show the first rows of every table of SPEC, without writing anything."""
    plan_ = fabula.compile_plan(spec, seed=seed, scale=scale, as_of=as_of)
    names = [table.name for table in plan_.tables]
    unknown = [name for name in only if name not in names]
    if unknown:
        raise click.BadParameter(f"no table named {unknown[0]!r}; tables: {', '.join(names)}",
                                 param_hint="--table")
    for name, table in fabula.preview(plan_, rows=rows).items():
        if only and name not in only:
            continue
        out.print(_preview_grid(f"{name} ({plan_.table(name).rows:,} rows)", table))


def _preview_grid(title: str, table) -> Table:
    """Rows as rows when they fit the terminal; otherwise one line per column (wide tables)."""
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


@cli.command()
@click.argument("spec", metavar="SPEC")
@click.option("--out", "-o", "out_dir", required=True,
              help="folder to write (one sub-folder per table, plus manifest.json), or an object-store "
                   "prefix: s3://bucket/path, gs://…, abfss://…")
@plan_options
@click.option("--workers", "-w", type=click.IntRange(min=1), help="parallel workers (default: all cores)")
@click.option("--mode", type=click.Choice(WRITE_MODES), default="error", show_default=True,
              help="what to do if --out already holds data; append adds a batch that continues it "
                   "(ids after the last, the next time window)")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="parquet", show_default=True,
              help="file format (json = JSON Lines); see docs/formats.md")
@click.option("--compression", type=click.Choice(COMPRESSIONS),
              default="snappy", show_default=True)
@click.option("--quiet", "-q", is_flag=True, help="print nothing but errors")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True,
              help="generate with local threads, or on Spark (pip install 'fabula[spark]'); same data")
@click.option("--master", help="with --engine spark: the Spark master, or a Spark Connect URL sc://host:port "
                                "[default: local[*]]")
@click.option("--validate/--no-validate", "validate_", default=True, show_default=True,
              help="check the data against the spec while it is written (report.json, report.html)")
@click.option("--strict", is_flag=True, help="exit with code 3 if a check fails (also: validation: {strict: true})")
def generate(spec, out_dir, seed, scale, as_of, workers, mode, output_format, compression, quiet, engine, master,
             validate_, strict):
    """Generate SPEC into --out (Parquet by default), then print a summary and the validation report."""
    if strict and not validate_:
        raise click.BadParameter("--strict needs the checks that --no-validate turns off", param_hint="--strict")
    out_dir = _out_location(out_dir)
    if engine == "local" and master is not None:
        raise click.BadParameter("--master applies only with --engine spark", param_hint="--master")
    if engine == "spark" and workers is not None:
        raise click.BadParameter("--workers applies to --engine local; with --engine spark the master sets "
                                 "the parallelism, e.g. --master local[4]", param_hint="--workers")
    if engine == "spark" and (mode == "append" or isinstance(out_dir, str)):
        raise click.BadParameter("--engine spark writes a new local folder for now; use the local engine "
                                 "for --mode append and object stores", param_hint="--engine")
    if not isinstance(out_dir, str):
        check_path(out_dir)  # `.`, `/`, home… refused before any work
    if mode == "append":  # formats (issue 13): the batch's plan depends on the folder's state
        started = time.perf_counter()
        manifest = fabula.generate(spec, out_dir, workers=workers, mode=mode, compression=compression,
                                   validate=validate_, strict=False, output_format=output_format,
                                   seed=seed, scale=scale, as_of=as_of)
        report = _written_report(out_dir) if validate_ else None
        if not quiet:
            _print_summary(manifest, out_dir, time.perf_counter() - started)
            if report is not None:
                out.print(validation_summary(report, f"{out_dir}/{REPORT_HTML}"))
        _gate(report, out_dir, strict or fabula.load_spec(spec).validation.strict)
        return
    plan_ = fabula.compile_plan(spec, seed=seed, scale=scale, as_of=as_of)
    started = time.perf_counter()
    show_progress = not quiet and out.is_terminal and plan_.total_rows >= 1_000_000
    if engine == "spark":
        manifest = _generate_on_spark(plan_, out_dir, master or "local[*]", mode, compression, validate_,
                                      output_format)
    elif show_progress:
        manifest = _generate_with_progress(plan_, out_dir, workers, mode, compression, validate_, output_format)
    else:
        manifest = fabula.generate(plan_, out_dir, workers=workers, mode=mode, compression=compression,
                                   validate=validate_, strict=False, output_format=output_format)
    report = _written_report(out_dir) if validate_ else None  # both engines check while they write
    elapsed = time.perf_counter() - started
    if not quiet:
        _print_summary(manifest, out_dir, elapsed)
        if report is not None:
            out.print(validation_summary(report, f"{out_dir}/{REPORT_HTML}"))
    _gate(report, out_dir, strict or plan_.spec.validation.strict)


@cli.command()
@click.argument("spec", metavar="SPEC")
@click.option("--out", "-o", "out_dir", required=True, type=click.Path(path_type=Path),
              help="folder to write the micro-batches into (resumed if a stream wrote it)")
@click.option("--every", default="10s", show_default=True,
              help="time between micro-batches: 10s, 500ms, 2m; 0 writes as fast as possible")
@click.option("--batches", type=click.IntRange(min=1), help="write this many micro-batches, then stop "
                                                             "[default: all that remain]")
@click.option("--window", "window_days", type=click.IntRange(min=1), default=1, show_default=True,
              help="days of the dataset's timeline in one micro-batch")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="parquet", show_default=True,
              help="file format (json = JSON Lines)")
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), help="override the spec's root seed")
@click.option("--scale", type=click.FloatRange(min=0, min_open=True), help="multiply every table's row count")
@click.option("--as-of", "as_of", type=AsOfDate(), help="what relative dates count from")
@click.option("--quiet", "-q", is_flag=True, help="print nothing but errors")
def stream(spec, out_dir, every, batches, window_days, output_format, seed, scale, as_of, quiet):
    """Write SPEC into --out as timeline-ordered micro-batches (one file per table and batch,
    each committed atomically), for Auto Loader and Structured Streaming tests. Run it again
    to resume where it stopped. See docs/formats.md#streaming."""
    from fabula.api import stream as write_stream
    from fabula.engine.stream import parse_every

    try:
        interval = parse_every(every)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--every") from None

    def report(number, rows):
        if not quiet:
            out.print(f"batch {number}: " + ", ".join(f"{table} {count:,}" for table, count in rows.items()),
                      highlight=False)

    state = write_stream(spec, out_dir, every=interval, batches=batches, output_format=output_format,
                         window_days=window_days, on_batch=report, seed=seed, scale=scale, as_of=as_of)
    if not quiet:
        out.print(f"{state['next_batch']} of {state['batches_total']} micro-batches in {out_dir}")


@cli.command()
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="exit with code 3 if a check fails (also: validation: {strict: true})")
@click.option("--workers", "-w", type=click.IntRange(min=1), help="parallel workers (default: all cores)")
@click.option("--quiet", "-q", is_flag=True, help="print nothing but errors")
def validate(folder, strict, workers, quiet):
    """Re-check DIR, written by `fabula generate`, against the spec, seed and scale its manifest
    records; rewrite DIR/report.json and DIR/report.html. Exit code 3 with --strict if a check fails."""
    report = fabula.validate_output(folder, strict=False, workers=workers)
    if not quiet:
        out.print(validation_summary(report, str(folder / REPORT_HTML)))
    _gate(report, folder, strict or read_manifest(folder).strict)


def _out_location(out_dir: str):
    """A local folder as a Path; an object-store URI (s3://…) as written (formats, issue 13)."""
    from fabula.sinks.remote import is_remote

    return out_dir if is_remote(out_dir) else Path(out_dir)


def _written_report(out_dir) -> Report:
    if isinstance(out_dir, str):  # an object store
        from fabula.sinks.remote import read_text

        return Report.from_dict(json.loads(read_text(out_dir, REPORT_JSON)))
    return Report.from_dict(json.loads((out_dir / REPORT_JSON).read_text(encoding="utf-8")))


def _gate(report, folder: Path, strict: bool) -> None:
    """With --strict (or the spec's validation: {strict: true}), failed checks end the command with code 3."""
    if strict and report is not None and report.failed:
        raise ValidationFailed([f"{check.name}: {check.message}" for check in report.failed],
                               report=f"{folder}/{REPORT_HTML}")


def _generate_on_spark(plan_, out_dir, master, mode, compression, validate_, output_format="parquet"):
    """A command-line user has no Spark session, so this one makes (and stops) its own."""
    from fabula.engine.spark import cli_session, write_spark
    from fabula.sinks.folder import check_target

    check_target(out_dir, mode)  # before Spark's start-up, not after (the run re-checks it under its lock)
    session, created = cli_session(master)
    try:
        return write_spark(plan_, session, out_dir, mode=mode, compression=compression, validate=validate_,
                           output_format=output_format)
    finally:
        if created:
            session.stop()


def _generate_with_progress(plan_, out_dir, workers, mode, compression, validate_, output_format="parquet"):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("[bold]generating", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=out, transient=True) as bar:
        task = bar.add_task("rows", total=plan_.total_rows)
        return fabula.generate(plan_, out_dir, workers=workers, mode=mode, compression=compression,
                               progress=lambda rows: bar.advance(task, rows), validate=validate_, strict=False,
                               output_format=output_format)


def _print_summary(manifest, out_dir, elapsed):
    grid = Table(title=f"{manifest.dataset} → {out_dir}", title_justify="left", title_style="bold")
    for heading, justify in (("table", "left"), ("rows", "right"), ("files", "right"), ("size", "right")):
        grid.add_column(heading, justify=justify)
    total = 0
    for name, table in manifest.tables.items():
        total += table.rows
        grid.add_row(name, f"{table.rows:,}", str(len(table.files)), _size(table.bytes))
    out.print(grid)
    rate = f", {total / elapsed:,.0f} rows/s" if elapsed > 0 else ""
    out.print(f"{total:,} rows in {elapsed:.2f}s{rate}; seed {manifest.seed}, as_of {manifest.as_of}")


def _size(count: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return str(count)


@cli.command()
@click.argument("name", required=False)
def scenarios(name):
    """List the built-in specs, or print one (NAME) as YAML to copy and edit."""
    if name is None:
        for builtin in builtin_names():
            description = fabula.load_spec(builtin).description or ""
            out.print(f"[bold]{builtin}[/]  {description}", highlight=False, soft_wrap=True)
        out.print("[dim]fabula scenarios NAME > my_spec.yaml  copies one out to edit[/]")
        return
    if name not in builtin_names():
        raise click.BadParameter(f"no built-in spec {name!r}; built-ins: {', '.join(builtin_names())}",
                                 param_hint="NAME")
    click.echo(builtin_text(name), nl=False)


@cli.command()
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=".", show_default=True,
              help="the only folder the server reads spec files from and writes data to")
@click.option("--max-rows", type=click.IntRange(min=1), help="refuse to generate plans with more rows "
              "[default: 50,000,000]")
def mcp(root, max_rows):
    """Serve fabula to a coding assistant over MCP (stdio): tools scenarios, check, plan, preview,
    generate and validate (pip install 'fabula[mcp]')."""
    from fabula.mcp import serve  # the MCP SDK is optional: imported only here

    serve(root, max_rows=max_rows)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="fabula", standalone_mode=False)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except FabulaError as error:
        err.print(str(error), markup=False, highlight=False, soft_wrap=True)  # one issue per line, never wrapped
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted; nothing was written")
        sys.exit(130)
