"""`fabula generate` on or into Databricks: the Databricks options, and the three ways to use
them — upload to a Unity Catalog Volume (and register its tables through a SQL warehouse),
run the whole job on a cluster, or run the Spark engine through Databricks Connect.

The SDKs are imported only inside the function that needs them (`pip install 'fabula[databricks]'`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

import fabula
from fabula.cli.printing import err, kept, out, show_run
from fabula.cli.specs import compile_for_cli
from fabula.scenarios import builtin_names, builtin_text

if TYPE_CHECKING:
    from fabula.cli.generate import GenerateRequest
    from fabula.databricks.paths import VolumePath


def options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--profile, --tables, --warehouse, --on-cluster, --close-context, --wheel-volume and --databricks."""
    for option in reversed((
        click.option("--profile", help="with --out dbfs:/Volumes/...: the ~/.databrickscfg profile to use "
                                       "[default: DATABRICKS_* variables, else the DEFAULT profile]"),
        click.option("--tables", "tables", is_flag=True, help="with --out dbfs:/Volumes/...: also register each "
                     "table as a Delta table in the volume's catalog.schema, with the spec's descriptions as comments"),
        click.option("--warehouse", metavar="ID", help="with --tables: the SQL warehouse that runs the statements "
                                                       "[default: DATABRICKS_WAREHOUSE_ID]"),
        click.option("--on-cluster", "cluster", metavar="ID", help="run the whole job on this Databricks cluster, in "
                     "an execution context reused between runs; --out is a path the cluster sees (e.g. /Volumes/...)"),
        click.option("--close-context", is_flag=True, help="with --on-cluster: destroy the cached execution context "
                                                           "after the run"),
        click.option("--wheel-volume", metavar="DBFS_PATH", help="with --on-cluster: the Volume folder fabula's wheel "
                     "is uploaded to when the cluster lacks this fabula [default: _fabula/wheels in --out's Volume]"),
        click.option("--databricks", "databricks", metavar="cluster:ID|serverless", help="with --engine spark: run on "
                     "this Databricks compute through Databricks Connect (pip install 'fabula[databricks-connect]'); "
                     "--out is a folder it and this machine both see, --tables registers the tables with spark.sql"),
    )):
        command = option(command)
    return command


def generate_there(request: GenerateRequest) -> bool:
    """Generate on or into Databricks when the options say so (True); otherwise refuse the
    Databricks-only options (False: the caller generates here)."""
    from fabula.databricks.paths import volume_target

    if request.databricks is not None:
        generate_with_connect(request)
        return True
    if request.cluster is not None:
        generate_on_cluster(request)
        return True
    for given, name in ((request.close_context or None, "--close-context"), (request.wheel_volume, "--wheel-volume")):
        if given is not None:
            raise click.BadParameter(f"{name} goes with --on-cluster", param_hint=name)
    target = volume_target(request.out)
    if target is not None:
        if request.output_format != "parquet" or request.mode == "append":
            raise click.BadParameter("a Volume --out takes Parquet, written whole, for now (no --format, "
                                     "no --mode append)", param_hint="--out")
        generate_to_volume(request, target)
        return True
    for given, name in ((request.profile, "--profile"), (request.tables or None, "--tables"),
                        (request.warehouse, "--warehouse")):
        if given is not None:
            raise click.BadParameter(f"{name} applies only to a Databricks --out (dbfs:/Volumes/...)",
                                     param_hint=name)
    return False


def generate_to_volume(request: GenerateRequest, target: VolumePath) -> None:
    """Generate here (streaming) and upload each file to the Volume as it is written; with
    --tables, register the tables through a SQL warehouse afterwards."""
    from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TransferSpeedColumn

    if request.engine != "local":
        raise click.BadParameter("a Volume --out is written by the local engine; with Spark on Databricks, "
                                 "write to the Volume's path from the cluster", param_hint="--engine")
    if request.warehouse is not None and not request.tables:
        raise click.BadParameter("--warehouse is for --tables", param_hint="--warehouse")
    plan = compile_for_cli(request.spec, **request.plan_options)
    register = _warehouse_registration(request, plan, target) if request.tables else None
    bars = Progress("[bold]{task.description}", BarColumn(), MofNCompleteColumn(), DownloadColumn(),
                    TransferSpeedColumn(), console=out, transient=True,
                    disable=request.quiet or not out.is_terminal)
    with bars:
        rows = bars.add_task("generating", total=plan.total_rows)
        sent = bars.add_task("uploading", total=None)
        result, failure = kept(lambda: fabula.generate(
            plan, str(target), mode=request.mode, compression=request.compression, workers=request.workers,
            profile=request.profile, progress=lambda count: bars.advance(rows, count),
            uploaded=lambda size: bars.advance(sent, size), **request.checks))
    registered = register() if register is not None else []  # the output is kept, so its tables too
    show_run(result, failure, quiet=request.quiet,
             first=[*(f"created {created}" for created in result.created),
                    *(f"registered the Delta table {name}" for name in registered)])


def _warehouse_registration(request: GenerateRequest, plan: Any, target: VolumePath) -> Callable[[], list[str]]:
    """--tables: the warehouse checked and the tables found free before any work; returns what
    registers them once the output is there."""
    from fabula.databricks.client import workspace_client
    from fabula.databricks.tables import check_tables_free, register_tables

    client = workspace_client(request.profile)
    warehouse = request.warehouse or client.config.warehouse_id
    if not warehouse:
        raise click.BadParameter("--tables runs its statements on a SQL warehouse: give its id",
                                 param_hint="--warehouse")
    if request.mode == "error":
        check_tables_free(client, plan, target)
    return lambda: register_tables(client, plan, target, warehouse=warehouse, replace=request.mode == "overwrite")


def generate_on_cluster(request: GenerateRequest) -> None:
    """The job runs on the cluster (fabula installed into its context first when it lacks this
    fabula); this prints the one line of JSON it sends back."""
    from fabula.databricks.client import workspace_client
    from fabula.databricks.install import ensure_fabula, wheel_folder
    from fabula.databricks.remote import ClusterSession
    from fabula.databricks.remote import generate_on_cluster as run_on_cluster

    spec, out_dir = request.spec, Path(request.out)
    compile_for_cli(spec, **request.plan_options)  # a bad spec fails here, not remotely
    path = Path(spec)
    text = (path.read_text(encoding="utf-8") if path.is_file()
            else builtin_text(spec) if spec in builtin_names() else spec)
    assert request.cluster is not None  # this flow runs only with --cluster
    session = ClusterSession(workspace_client(request.profile), request.cluster)
    try:
        installed = ensure_fabula(session, wheel_folder(request.wheel_volume, str(out_dir)))
        if installed["installed"] and not request.quiet:
            err.print(f"installed fabula {fabula.__version__} into the execution context on cluster "
                      f"{request.cluster} from {installed['wheel']}", markup=False, highlight=False, soft_wrap=True)
        summary = run_on_cluster(session, text, str(out_dir), mode=request.mode, validate=request.validate,
                                 output_format=request.output_format, compression=request.compression,
                                 **request.plan_options)
    finally:
        if request.close_context:
            session.close()
    click.echo(json.dumps(summary))


def generate_with_connect(request: GenerateRequest) -> None:
    """The Spark engine on Databricks compute through Databricks Connect; with --tables, the
    tables registered through spark.sql on the same compute."""
    from fabula.databricks.connect import (
        ConnectTarget,
        check_spark_tables_free,
        connect_session,
        output_folder,
        register_tables_spark,
    )
    from fabula.databricks.paths import VolumePath
    from fabula.sinks.folder import check_path, check_target

    if request.engine != "spark":
        raise click.BadParameter("--databricks runs the Spark engine: add --engine spark", param_hint="--databricks")
    for given, name in ((request.master, "--master"), (request.cluster, "--on-cluster"),
                        (request.warehouse, "--warehouse"), (request.workers, "--workers")):
        if given is not None:
            raise click.BadParameter(f"{name} does not go with --databricks (the tables are registered with "
                                     "spark.sql on the same compute)" if name == "--warehouse" else
                                     f"{name} does not go with --databricks", param_hint=name)
    assert request.databricks is not None  # this flow runs only with --databricks
    target = ConnectTarget.parse(request.databricks)
    volume = VolumePath.parse(request.out) if request.out.startswith(("dbfs:", "/Volumes/")) else None
    if request.tables and volume is None:
        raise click.BadParameter("--tables registers the tables in the catalog.schema of --out's Volume: give "
                                 "--out as /Volumes/<catalog>/<schema>/<volume>/<folder>", param_hint="--tables")
    if request.tables and request.output_format != "parquet":
        raise click.BadParameter("--tables fills the tables from the Parquet files it writes: leave out --format, "
                                 f"or leave out --tables to keep the {request.output_format} files",
                                 param_hint="--tables")
    plan = compile_for_cli(request.spec, **request.plan_options)
    folder = output_folder(request.out)  # refused here, before a session starts, if this machine cannot see it
    check_target(check_path(folder), request.mode)  # as with --engine spark: before the session, not after
    session, _ = connect_session(target, profile=request.profile)
    try:
        if volume is not None and request.tables and request.mode == "error":
            check_spark_tables_free(session, plan, volume.catalog, volume.schema)  # before any work
        result, failure = kept(lambda: fabula.generate(plan, folder, engine="spark", spark=session, mode=request.mode,
                                                       compression=request.compression,
                                                       output_format=request.output_format, **request.checks))
        registered = register_tables_spark(session, plan, folder, volume.catalog, volume.schema,
                                           replace=request.mode == "overwrite") \
            if volume is not None and request.tables else []
    finally:
        session.stop()
    show_run(result, failure, quiet=request.quiet,
             first=[f"registered the Delta table {name}" for name in registered])
