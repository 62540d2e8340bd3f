"""`fabula check | plan | preview | generate | scenarios` — see `fabula --help`."""

from __future__ import annotations

import errno
import json
import os
import sys
import time
from datetime import date
from pathlib import Path

import click
from rich.console import Console

import fabula
from fabula.errors import DataError, FabulaError, SpecError, UsageError, ValidationFailed
from fabula.scenarios import builtin_names, builtin_text
from fabula.sinks.choices import COMPRESSIONS, FORMATS, WRITE_MODES

# Everything that pulls NumPy, Arrow or the validation in is imported inside the command that
# needs it, so `fabula --help` and a mistyped option answer at once.
REPORT_JSON, REPORT_HTML = "report.json", "report.html"  # as fabula.validate.report names them

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


class Scale(click.ParamType):
    """A positive, finite multiplier of at most MAX_SCALE (row counts stay within 64 bits)."""

    name = "X"

    def convert(self, value, param, ctx):
        from fabula.spec.bounds import MAX_SCALE

        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not (number > 0 and number <= MAX_SCALE):  # also refuses nan and inf
            self.fail(f"{value} is not between 0 (excluded) and {MAX_SCALE:g}", param, ctx)
        return number


def spec_source(value: str):
    """SPEC as given: a built-in name, or a path handed to the loader as a Path (so a name such
    as `shop` that is a file is read as the file, and an odd path is a usage error, not a crash)."""
    if value in builtin_names():
        return value
    try:
        exists = os.path.lexists(value)
    except (OSError, ValueError) as error:
        raise UsageError(f"SPEC {value[:60]!r} is not a usable path: {error}",
                         hint="give the path of a YAML spec, or a built-in name (see `fabula scenarios`)")
    if len(value) > 4096:
        raise UsageError("SPEC is longer than 4,096 characters",
                         hint="give the path of a YAML spec, or a built-in name (see `fabula scenarios`)")
    return Path(value) if exists else value


def _allow_large() -> bool:
    """The global `fabula --allow-large` flag."""
    return bool((click.get_current_context().find_root().obj or {}).get("allow_large"))


def compile_for_cli(spec, **options):
    """compile_plan with the global --allow-large flag applied; a refused spec reports its
    independent problems from every stage at once (see `_with_later_issues`)."""
    allow_large = _allow_large() or options.pop("allow_large", False)
    try:
        return fabula.compile_plan(spec_source(spec), allow_large=allow_large, **options)
    except SpecError as error:
        raise _with_later_issues(error, allow_large=allow_large, **options) from None


def _with_later_issues(error: SpecError, **options) -> SpecError:
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


def plan_options(command):
    """--seed, --scale and --as-of, shared by every command that compiles a plan."""
    command = click.option("--as-of", "as_of", type=AsOfDate(),
                           help="what relative dates count from (default: the spec's, else today)")(command)
    command = click.option("--scale", type=Scale(), default=1.0, show_default=True,
                           help="multiply every table's row count")(command)
    command = click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1),
                           help="override the spec's root seed")(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(fabula.__version__, prog_name="fabula")
@click.option("--debug", is_flag=True, help="show a Python traceback when something fails (for bug reports)")
@click.option("--allow-large", is_flag=True,
              help="allow plans beyond 10^12 rows or about 1 TB of data (refused by default, see docs/security.md)")
@click.pass_context
def cli(ctx, debug, allow_large):
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
    \b
    Exit codes: 0 ok, 1 environment (disk, permissions, a missing package), 2 bad spec or
    usage, 3 failed checks with --strict. `fabula --debug ...` shows a traceback.
    """
    ctx.obj = {"debug": debug, "allow_large": allow_large}


@cli.command()
@click.argument("spec", metavar="SPEC")
def check(spec):
    """Validate SPEC without generating anything. Exit code 2 if it has problems."""
    loaded = compile_for_cli(spec, scale=1.0)
    _print_warnings(loaded)
    columns = sum(len(table.columns) for table in loaded.tables)
    out.print(f"[green]ok[/]  {loaded.name}: {len(loaded.tables)} tables, {columns} columns, "
              f"{loaded.total_rows:,} rows")


@cli.command()
@click.argument("spec", metavar="SPEC")
@plan_options
def plan(spec, seed, scale, as_of):
    """Show what SPEC will generate: tables, rows, columns, parameters and rules."""
    from fabula.plan.explain import render

    plan_ = compile_for_cli(spec, seed=seed, scale=scale, as_of=as_of)
    _print_warnings(plan_)
    out.print(render(plan_))


@cli.command()
@click.argument("spec", metavar="SPEC")
@click.option("--rows", "-n", type=click.IntRange(min=1, max=1000), default=5, show_default=True,
              help="rows to show per table")
@click.option("--table", "-t", "only", multiple=True, help="show only this table (repeatable)")
@plan_options
def preview(spec, rows, only, seed, scale, as_of):
    """Show the first rows of every table of SPEC, without writing anything."""
    plan_ = compile_for_cli(spec, seed=seed, scale=scale, as_of=as_of)
    _print_warnings(plan_)
    names = [table.name for table in plan_.tables]
    unknown = [name for name in only if name not in names]
    if unknown:
        raise click.BadParameter(f"no table named {unknown[0]!r}; tables: {', '.join(names)}",
                                 param_hint="--table")
    for name, table in fabula.preview(plan_, rows=rows).items():
        if only and name not in only:
            continue
        out.print(_preview_grid(f"{name} ({plan_.table(name).rows:,} rows)", table))


def _print_warnings(plan_) -> None:
    """Things in the spec that cannot have an effect (an event outside its timeline...): worth
    saying, not worth refusing the spec for."""
    where = getattr(plan_.spec, "where", None)
    for warning in getattr(where, "warnings", ()):
        err.print(f"warning: {warning.render()}", markup=False, highlight=False, soft_wrap=True)


def _preview_grid(title: str, table):
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
@click.option("--profile", help="with --out dbfs:/Volumes/...: the ~/.databrickscfg profile to use "
                                "[default: DATABRICKS_* variables, else the DEFAULT profile]")
@click.option("--tables", "tables", is_flag=True, help="with --out dbfs:/Volumes/...: also register each table as a "
              "Delta table in the volume's catalog.schema, with the spec's descriptions as comments")
@click.option("--warehouse", metavar="ID", help="with --tables: the SQL warehouse that runs the statements "
                                                "[default: DATABRICKS_WAREHOUSE_ID]")
@click.option("--on-cluster", "cluster", metavar="ID", help="run the whole job on this Databricks cluster, in an "
              "execution context reused between runs; --out is a path the cluster sees (e.g. /Volumes/...)")
@click.option("--close-context", is_flag=True, help="with --on-cluster: destroy the cached execution context "
                                                    "after the run")
@click.option("--wheel-volume", metavar="DBFS_PATH", help="with --on-cluster: the Volume folder fabula's wheel is "
              "uploaded to when the cluster lacks this fabula [default: _fabula/wheels in --out's Volume]")
@click.option("--databricks", "databricks", metavar="cluster:ID|serverless", help="with --engine spark: run on this "
              "Databricks compute through Databricks Connect (pip install 'fabula[databricks-connect]'); --out is a "
              "folder it and this machine both see, --tables registers the tables with spark.sql")
def generate(spec, out_dir, seed, scale, as_of, workers, mode, output_format, compression, quiet, engine, master,
             validate_, strict, profile, tables, warehouse, cluster, close_context, wheel_volume, databricks):
    """Generate SPEC into --out (Parquet by default), then print a summary and the validation report.

    --out may be an object-store prefix (s3://, gs://, abfss://; see docs/formats.md) or a Unity
    Catalog Volume, dbfs:/Volumes/<catalog>/<schema>/<volume>/<folder>
    (pip install 'fabula[databricks]'; see docs/databricks.md)."""
    if strict and not validate_:
        raise click.BadParameter("--strict needs the checks that --no-validate turns off", param_hint="--strict")
    from fabula.databricks.paths import volume_target

    if databricks is not None:
        return _generate_with_connect(spec, out_dir, databricks, seed=seed, scale=scale, as_of=as_of, mode=mode,
                                      compression=compression, quiet=quiet, engine=engine, master=master,
                                      validate_=validate_, strict=strict, profile=profile, tables=tables,
                                      warehouse=warehouse, cluster=cluster, workers=workers)
    if cluster is not None:
        return _generate_on_cluster(spec, Path(out_dir), cluster, seed=seed, scale=scale, as_of=as_of, mode=mode,
                                    validate_=validate_, profile=profile, close_context=close_context,
                                    wheel_volume=wheel_volume, quiet=quiet)
    for given, name in ((close_context or None, "--close-context"), (wheel_volume, "--wheel-volume")):
        if given is not None:
            raise click.BadParameter(f"{name} goes with --on-cluster", param_hint=name)
    if volume_target(out_dir) is not None:
        if output_format != "parquet" or mode == "append":
            raise click.BadParameter("a Volume --out takes Parquet, written whole, for now (no --format, "
                                     "no --mode append)", param_hint="--out")
        return _generate_to_volume(spec, volume_target(out_dir), seed=seed, scale=scale, as_of=as_of,
                                   workers=workers, mode=mode, compression=compression, quiet=quiet,
                                   engine=engine, validate_=validate_, strict=strict, profile=profile,
                                   tables=tables, warehouse=warehouse)
    for given, name in ((profile, "--profile"), (tables or None, "--tables"), (warehouse, "--warehouse")):
        if given is not None:
            raise click.BadParameter(f"{name} applies only to a Databricks --out (dbfs:/Volumes/...)",
                                     param_hint=name)
    out_dir = _out_location(out_dir)  # formats (issue 13): a Path, or an object-store URI as text
    if engine == "local" and master is not None:
        raise click.BadParameter("--master applies only with --engine spark", param_hint="--master")
    if engine == "spark" and workers is not None:
        raise click.BadParameter("--workers applies to --engine local; with --engine spark the master sets "
                                 "the parallelism, e.g. --master local[4]", param_hint="--workers")
    from fabula.sinks.folder import check_path
    from fabula.validate.terminal import summary as validation_summary

    if engine == "spark" and (mode == "append" or isinstance(out_dir, str)):
        raise click.BadParameter("--engine spark writes a new local folder for now; use the local engine "
                                 "for --mode append and object stores", param_hint="--engine")
    if not isinstance(out_dir, str):
        check_path(out_dir)  # `.`, `/`, home… refused before any work
    if mode == "append":  # the batch's plan depends on the folder's state, so the API compiles it
        started = time.perf_counter()
        manifest = fabula.generate(spec_source(spec), out_dir, workers=workers, mode=mode, compression=compression,
                                   validate=validate_, strict=False, output_format=output_format,
                                   seed=seed, scale=scale, as_of=as_of, allow_large=_allow_large()).manifest
        report = _written_report(out_dir) if validate_ else None
        if not quiet:
            _print_summary(manifest, out_dir, time.perf_counter() - started)
            if report is not None:
                out.print(validation_summary(report, f"{out_dir}/{REPORT_HTML}"))
        _gate(report, out_dir, strict or manifest.strict)
        return
    plan_ = compile_for_cli(spec, seed=seed, scale=scale, as_of=as_of)
    if not quiet:
        _print_warnings(plan_)
    started = time.perf_counter()
    show_progress = not quiet and out.is_terminal and plan_.total_rows >= 1_000_000
    if engine == "spark":
        manifest = _generate_on_spark(plan_, out_dir, master or "local[*]", mode, compression, validate_,
                                      output_format)
    elif show_progress:
        manifest = _generate_with_progress(plan_, out_dir, workers, mode, compression, validate_, output_format)
    else:
        manifest = fabula.generate(plan_, out_dir, workers=workers, mode=mode, compression=compression,
                                   validate=validate_, strict=False, output_format=output_format).manifest
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
@click.option("--profile", help="with DIR dbfs:/Volumes/...: the ~/.databrickscfg profile to use")
def validate(folder, strict, workers, quiet, profile):
    """Re-check DIR, written by `fabula generate`, against the spec, seed and scale its manifest
    records; rewrite DIR/report.json and DIR/report.html. Exit code 3 with --strict if a check fails.
    DIR may be a Volume, dbfs:/Volumes/..., read back through the Files API."""
    from fabula.databricks.paths import volume_target
    from fabula.manifest import read_manifest
    from fabula.validate.terminal import summary as validation_summary

    if volume_target(folder) is not None:
        return _validate_volume(volume_target(folder), strict=strict, workers=workers, quiet=quiet, profile=profile)
    report = fabula.validate_output(folder, strict=False, workers=workers, allow_large=_allow_large())
    if not quiet:
        out.print(validation_summary(report, str(folder / REPORT_HTML)))
    _gate(report, folder, strict or read_manifest(folder).strict)


def _generate_to_volume(spec, target, *, seed, scale, as_of, workers, mode, compression, quiet, engine,
                        validate_, strict, profile, tables, warehouse):
    """Generate locally (streaming) and upload each file to the Volume as it is written."""
    from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TransferSpeedColumn

    from fabula.databricks.sink import VolumeSink
    from fabula.engine.local import run_local
    from fabula.validate import Validation
    from fabula.validate.terminal import summary as validation_summary

    if engine != "local":
        raise click.BadParameter("a Volume --out is written by the local engine; with Spark on Databricks, "
                                 "write to the Volume's path from the cluster", param_hint="--engine")
    from fabula.databricks.client import workspace_client
    from fabula.databricks.tables import check_tables_free, register_tables

    if warehouse is not None and not tables:
        raise click.BadParameter("--warehouse is for --tables", param_hint="--warehouse")
    plan_ = compile_for_cli(spec, seed=seed, scale=scale, as_of=as_of)
    client = workspace_client(profile)
    if tables:
        warehouse = warehouse or client.config.warehouse_id
        if not warehouse:
            raise click.BadParameter("--tables runs its statements on a SQL warehouse: give its id",
                                     param_hint="--warehouse")
        if mode == "error":
            check_tables_free(client, plan_, target)
    validation = Validation(plan_) if validate_ else None
    started = time.perf_counter()
    bars = Progress("[bold]{task.description}", BarColumn(), MofNCompleteColumn(), DownloadColumn(),
                    TransferSpeedColumn(), console=out, transient=True, disable=quiet or not out.is_terminal)
    with bars:
        rows = bars.add_task("generating", total=plan_.total_rows)
        sent = bars.add_task("uploading", total=None)
        sink = VolumeSink(target, mode=mode, compression=compression, client=client,
                          uploaded=lambda size: bars.advance(sent, size))
        manifest = run_local(plan_, sink, workers=workers, progress=lambda count: bars.advance(rows, count),
                             observe=validation.observe if validation else None,
                             reports=validation.finish if validation else None)
    report = validation.report if validation else None
    registered = register_tables(client, plan_, target, warehouse=warehouse, replace=mode == "overwrite") \
        if tables else []
    if not quiet:
        for created in sink.created:
            out.print(f"created {created}")
        for name in registered:
            out.print(f"registered the Delta table {name}")
        _print_summary(manifest, target, time.perf_counter() - started)
        if report is not None:
            out.print(validation_summary(report, f"{target}/{REPORT_HTML}"))
    _gate(report, Path(str(target)), strict or plan_.spec.validation.strict)


def _generate_on_cluster(spec, out_dir, cluster, *, seed, scale, as_of, mode, validate_, profile, close_context,
                         wheel_volume=None, quiet=False):
    """The job runs on the cluster (fabula installed into its context first when it lacks this
    fabula); this prints the one line of JSON it sends back."""
    from fabula.databricks.client import workspace_client
    from fabula.databricks.install import ensure_fabula, wheel_folder
    from fabula.databricks.remote import ClusterSession, generate_on_cluster

    compile_for_cli(spec, seed=seed, scale=scale, as_of=as_of)  # a bad spec fails here, not remotely
    path = Path(spec)
    text = path.read_text(encoding="utf-8") if path.is_file() else builtin_text(spec) if spec in builtin_names() else spec
    session = ClusterSession(workspace_client(profile), cluster)
    try:
        installed = ensure_fabula(session, wheel_folder(wheel_volume, str(out_dir)))
        if installed["installed"] and not quiet:
            err.print(f"installed fabula {fabula.__version__} into the execution context on cluster {cluster} "
                      f"from {installed['wheel']}", markup=False, highlight=False, soft_wrap=True)
        summary = generate_on_cluster(session, text, str(out_dir), mode=mode, validate=validate_,
                                      seed=seed, scale=scale, as_of=as_of)
    finally:
        if close_context:
            session.close()
    click.echo(json.dumps(summary))


def _generate_with_connect(spec, out_dir, databricks, *, seed, scale, as_of, mode, compression, quiet, engine,
                           master, validate_, strict, profile, tables, warehouse, cluster, workers):
    """The Spark engine on Databricks compute through Databricks Connect; tables through spark.sql."""
    from fabula.databricks.connect import ConnectTarget, connect_session, generate_with_connect, output_folder
    from fabula.databricks.paths import VolumePath

    if engine != "spark":
        raise click.BadParameter("--databricks runs the Spark engine: add --engine spark", param_hint="--databricks")
    for given, name in ((master, "--master"), (cluster, "--on-cluster"), (warehouse, "--warehouse"),
                        (workers, "--workers")):
        if given is not None:
            raise click.BadParameter(f"{name} does not go with --databricks (the tables are registered with "
                                     "spark.sql on the same compute)" if name == "--warehouse" else
                                     f"{name} does not go with --databricks", param_hint=name)
    target = ConnectTarget.parse(databricks)
    text = str(out_dir)
    volume = VolumePath.parse(text) if text.startswith(("dbfs:", "/Volumes/")) else None
    if tables and volume is None:
        raise click.BadParameter("--tables registers the tables in the catalog.schema of --out's Volume: give "
                                 "--out as /Volumes/<catalog>/<schema>/<volume>/<folder>", param_hint="--tables")
    plan_ = compile_for_cli(spec, seed=seed, scale=scale, as_of=as_of)
    folder = output_folder(out_dir)  # refused here, before a session starts, if this machine cannot see it
    from fabula.sinks.folder import check_path, check_target
    from fabula.validate.terminal import summary as validation_summary

    check_target(check_path(folder), mode)  # as with --engine spark: before the session, not after
    started = time.perf_counter()
    session, _ = connect_session(target, profile=profile)
    try:
        manifest, registered = generate_with_connect(plan_, session, folder, mode=mode, compression=compression,
                                                     validate=validate_,
                                                     tables=(volume.catalog, volume.schema) if tables else None)
    finally:
        session.stop()
    report = _written_report(folder) if validate_ else None
    if not quiet:
        for name in registered:
            out.print(f"registered the Delta table {name}")
        _print_summary(manifest, folder, time.perf_counter() - started)
        if report is not None:
            out.print(validation_summary(report, str(folder / REPORT_HTML)))
    _gate(report, folder, strict or plan_.spec.validation.strict)


def _validate_volume(target, *, strict, workers, quiet, profile):
    from fabula.databricks.validate import validate_volume
    from fabula.manifest import read_manifest
    from fabula.validate.terminal import summary as validation_summary

    def check(folder: Path):
        return (fabula.validate_output(folder, strict=False, workers=workers, allow_large=_allow_large()),
                read_manifest(folder).strict)

    report, recorded = validate_volume(target, check, profile=profile)
    if not quiet:
        out.print(validation_summary(report, f"{target}/{REPORT_HTML}"))
    _gate(report, Path(str(target)), strict or recorded)


def _out_location(out_dir: str):
    """A local folder as a Path; an object-store URI (s3://…) as written."""
    from fabula.sinks.remote import is_remote

    return out_dir if is_remote(out_dir) else Path(out_dir)


def _written_report(out_dir):
    from fabula.validate import Report

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
                               output_format=output_format).manifest


def _print_summary(manifest, out_dir, elapsed):
    from rich.table import Table

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
    """The `fabula` command: every failure ends as one readable message and an exit code
    (2: bad spec or usage, 1: the environment, 3: failed checks with --strict); a traceback only
    with `fabula --debug ...`."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = _wants_debug(args)
    try:
        cli.main(args=args, prog_name="fabula", standalone_mode=False)
    except click.exceptions.Abort:
        err.print("aborted")
        sys.exit(130)
    except click.exceptions.Exit as done:  # --help, --version
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except FabulaError as error:
        _debug_traceback(debug)
        err.print(str(error), markup=False, highlight=False, soft_wrap=True)  # one issue per line, never wrapped
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted; nothing was written")
        sys.exit(130)
    except MemoryError:
        _debug_traceback(debug)
        _fail(1, "out of memory", "generate fewer rows at once (a smaller --scale), or fewer --workers")
    except RecursionError:
        _debug_traceback(debug)
        _fail(2, "the spec is nested too deeply to process", "write it with less nesting")
    except OSError as error:
        _debug_traceback(debug)
        _fail(1, _os_message(error), _os_hint(error))
    except ImportError as error:  # an optional package that is not installed
        _debug_traceback(debug)
        package = (error.name or "a package").split(".")[0]
        _fail(1, f"{package} is not installed: {_first_line(error)}",
              f"install it into this environment, e.g. pip install {package}"
              + (" (or pip install 'fabula[spark]')" if package in ("pyspark", "py4j") else ""))
    except Exception as error:  # noqa: BLE001 - the safety net: never a bare traceback
        _debug_traceback(debug)
        if _is_generation_error(error):
            cause = _spec_cause(error)
            if cause is not None:
                _fail(2, f"cannot generate the data: {_first_line(error)}",
                      getattr(cause, "hint", None) or "change the spec so this column stays within its limits")
        _fail(1, f"internal error: {type(error).__name__}: {_first_line(error)}",
              "this is a bug in fabula, please report it; rerun with `fabula --debug ...` for the traceback")


def _is_generation_error(error: BaseException) -> bool:
    """A column failed while generating (only possible once the generators are loaded)."""
    generators = sys.modules.get("fabula.generators.base")
    return generators is not None and isinstance(error, generators.GenerationError)


def _spec_cause(error: BaseException) -> BaseException | None:
    """The spec's own problem behind a generation failure (an expression that fails on the data,
    a value past its limits), or None when the failure is fabula's."""
    from fabula.generators.base import GenerationError
    from fabula.spec.expressions import ExpressionError

    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, (ExpressionError, DataError)):
            return error
        if isinstance(error, (ValueError, OverflowError, FloatingPointError)) and not isinstance(error, GenerationError):
            # numpy refusing a column's parameters (poisson lam 1e300, integers beyond int64)
            return DataError(str(error), hint="check the column's parameters: very large or small numbers "
                                              "cannot be drawn")
        error = error.__cause__ or error.__context__
        seen += 1
    return None


def _wants_debug(args: list[str]) -> bool:
    """--debug before the command; also FABULA_DEBUG=1, for when the flag cannot be passed."""
    for arg in args:
        if arg == "--debug":
            return True
        if not arg.startswith("-"):
            break
    return os.environ.get("FABULA_DEBUG", "") not in ("", "0")


def _debug_traceback(debug: bool) -> None:
    if debug:
        import traceback

        traceback.print_exc(file=sys.stderr)


def _fail(code: int, message: str, hint: str | None) -> None:
    err.print(f"error: {message}" + (f"\n    hint: {hint}" if hint else ""), markup=False, highlight=False,
              soft_wrap=True)
    sys.exit(code)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else "(no message)"


def _os_message(error: OSError) -> str:
    where = f" ({error.filename})" if getattr(error, "filename", None) else ""
    return f"{error.strerror or _first_line(error)}{where}"


_OS_HINTS = {
    errno.ENOSPC: "the disk is full: free some space, or write to another --out",
    errno.EDQUOT: "the disk quota is used up: free some space, or write to another --out",
    errno.EACCES: "fabula has no permission there: choose another --out, or fix the folder's permissions",
    errno.EPERM: "fabula has no permission there: choose another --out, or fix the folder's permissions",
    errno.EROFS: "the file system is read-only: write to another --out",
    errno.ENAMETOOLONG: "use a shorter path",
    errno.ENOENT: "check the path",
    errno.EMFILE: "too many open files: lower --workers, or raise the limit (ulimit -n)",
}


def _os_hint(error: OSError) -> str:
    return _OS_HINTS.get(error.errno, "check the path, free disk space and permissions; "
                                      "rerun with `fabula --debug ...` for details")
