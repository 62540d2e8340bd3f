"""`fabula generate`: parse the options, refuse the combinations that make no sense, call
`fabula.generate` and print what it wrote and found. Databricks destinations and compute are in
`fabula.cli.databricks`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import click

import fabula
from fabula.cli import databricks
from fabula.cli.options import allow_large, plan_options
from fabula.cli.printing import kept, out, print_warnings, show_run
from fabula.cli.process import collector_resumed, without_pandas
from fabula.cli.specs import compile_for_cli, spec_source
from fabula.sinks.choices import COMPRESSIONS, FORMATS, WRITE_MODES

SMALL_RUN_ROWS = 1_000_000
"""Below this many rows a run is short: it collects no cyclic garbage (`fabula.cli.process.collector_paused`)."""
PROGRESS_ROWS = 1_000_000
"""A progress bar from this many rows on (and only on a terminal)."""


@dataclass(frozen=True)
class GenerateRequest:
    """The options of one `fabula generate`, as parsed."""

    spec: str
    out: str
    seed: int | None
    scale: float
    as_of: date | None
    workers: int | None
    mode: str
    output_format: str
    compression: str
    quiet: bool
    engine: str
    master: str | None
    validate: bool
    strict: bool
    profile: str | None
    tables: bool
    warehouse: str | None
    cluster: str | None
    close_context: bool
    wheel_volume: str | None
    databricks: str | None

    @property
    def plan_options(self) -> dict[str, Any]:
        return {"seed": self.seed, "scale": self.scale, "as_of": self.as_of}

    @property
    def checks(self) -> dict[str, Any]:
        """`validate` and `strict` for the API: --strict, else the spec's `validation: {strict: ...}`
        (the API reads it)."""
        return {"validate": self.validate, "strict": True if self.strict else None}


@click.command()
@click.argument("spec", metavar="SPEC")
@click.option("--out", "-o", "out", required=True,
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
@click.option("--validate/--no-validate", "validate", default=True, show_default=True,
              help="check the data against the spec while it is written (report.json, report.html)")
@click.option("--strict", is_flag=True, help="exit with code 3 if a check fails (also: validation: {strict: true})")
@databricks.options
def generate(**options: Any) -> None:
    """Generate SPEC into --out (Parquet by default), then print a summary and the validation report.

    --out may be an object-store prefix (s3://, gs://, abfss://; see docs/formats.md) or a Unity
    Catalog Volume, dbfs:/Volumes/<catalog>/<schema>/<volume>/<folder>
    (pip install 'fabula[databricks]'; see docs/databricks.md)."""
    request = GenerateRequest(**options)
    if not small_and_here(request):
        collector_resumed()  # paused while the command started (`fabula.cli.main`)
    if request.strict and not request.validate:
        raise click.BadParameter("--strict needs the checks that --no-validate turns off", param_hint="--strict")
    if databricks.generate_there(request):
        return
    generate_here(request)


def small_and_here(request: GenerateRequest) -> bool:
    """Whether the run may be a small one on this machine: the local engine, into a folder or an
    object store (`generate_here` knows the rows once the plan is compiled)."""
    from fabula.databricks.paths import volume_target

    return (request.engine == "local" and request.databricks is None and request.cluster is None
            and volume_target(request.out) is None)


def generate_here(request: GenerateRequest) -> None:
    """On this machine, into a local folder or an object store, with the local or the Spark engine."""
    if request.engine == "local":  # Spark converts through pandas
        without_pandas()
    from fabula.sinks.remote import is_remote

    target: str | Path = request.out if is_remote(request.out) else Path(request.out)  # an object store as written
    if request.engine == "local" and request.master is not None:
        raise click.BadParameter("--master applies only with --engine spark", param_hint="--master")
    if request.engine == "spark" and request.workers is not None:
        raise click.BadParameter("--workers applies to --engine local; with --engine spark the master sets "
                                 "the parallelism, e.g. --master local[4]", param_hint="--workers")
    if request.engine == "spark" and (request.mode == "append" or isinstance(target, str)):
        raise click.BadParameter("--engine spark writes a new local folder for now; use the local engine "
                                 "for --mode append and object stores", param_hint="--engine")
    if isinstance(target, Path):
        from fabula.sinks.folder import check_path

        check_path(target)  # `.`, `/`, home… refused before the spec is even compiled
    output = {"mode": request.mode, "compression": request.compression, "output_format": request.output_format,
              **request.checks}
    if request.mode == "append":  # the batch's plan depends on the folder's state, so the API compiles it
        collector_resumed()  # however many rows it has
        result, failure = kept(lambda: fabula.generate(
            spec_source(request.spec), target, workers=request.workers, allow_large=allow_large(),
            **request.plan_options, **output))
        return show_run(result, failure, quiet=request.quiet)
    plan = compile_for_cli(request.spec, **request.plan_options)
    if plan.total_rows >= SMALL_RUN_ROWS:
        collector_resumed()
    if not request.quiet:
        print_warnings(plan)
    if request.engine == "spark":
        result, failure = kept(lambda: fabula.generate(plan, target, engine="spark", master=request.master, **output))
    elif not request.quiet and out.is_terminal and plan.total_rows >= PROGRESS_ROWS:
        result, failure = kept(lambda: with_progress_bar(plan.total_rows, lambda progress: fabula.generate(
            plan, target, workers=request.workers, progress=progress, **output)))
    else:
        result, failure = kept(lambda: fabula.generate(plan, target, workers=request.workers, **output))
    show_run(result, failure, quiet=request.quiet)


def with_progress_bar(total_rows: int, run: Callable[[Callable[[int], None]], Any]) -> Any:
    """`run(progress)` under a progress bar of the rows written."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("[bold]generating", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=out, transient=True) as bar:
        task = bar.add_task("rows", total=total_rows)
        return run(lambda rows: bar.advance(task, rows))
