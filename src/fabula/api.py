"""The Python API, mirroring the CLI: load → compile_plan → preview / generate → validate_output.

The CLI is a client of these functions: it parses and prints, and every decision — which
engine, which sink, whether a failed check fails the run — is taken here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from fabula.engine.local import Progress, run_local
from fabula.errors import Issue, OutputError, SpecError, UsageError, ValidationFailed
from fabula.manifest import Manifest, read_manifest
from fabula.plan import Plan
from fabula.plan import compile_plan as _compile
from fabula.plan.blocks import generate_block
from fabula.scenarios import builtin_names, builtin_text
from fabula.sinks.files import FilesSink
from fabula.sinks.remote import RemoteSink, is_remote
from fabula.spec import AnyColumn, DatasetSpec, build_spec, load_file, load_text
from fabula.spec.changes import changing_tables
from fabula.spec.checks import check_dataset
from fabula.spec.load import SourceMap, parse_column
from fabula.validate import REPORT_HTML, Report, Validation, check_queries, validate_folder

if TYPE_CHECKING:  # the Spark engine's module: a local run never loads it
    from fabula.engine.spark_executor import TaskTimes

SpecSource = DatasetSpec | Mapping[str, Any] | str | Path
ENGINES = ("local", "spark")


@dataclass(frozen=True)
class Timings:
    """Seconds one `generate` run spent in each phase, by the wall clock (for people and
    benchmarks; never written into the output)."""

    plan: float
    """Loading and compiling the spec; 0 when `generate` was given a compiled Plan."""
    write: float
    """Generating the blocks and writing them (the per-block summaries for the checks included)."""
    validate: float
    """The checks over the staged output, and rendering the reports."""
    total: float
    spark_tasks: TaskTimes | None = None
    """With the Spark engine: the part tasks' set-up (fabula unpacked and imported, the plan
    unpickled) and work, summed over the tasks."""


@dataclass(frozen=True)
class GenerateResult:
    """What `generate` wrote and found.

    >>> import tempfile
    >>> spec = {"name": "d", "seed": 1, "tables": {"t": {"rows": 500, "columns": {
    ...     "id": {"kind": "id", "format": "T-{:03d}"}, "x": {"kind": "normal", "mean": 5, "std": 1}}}}}
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     result = generate(spec, f"{folder}/d")
    >>> result.manifest.tables["t"].rows, result.report.verdict, result.strict, result.failed
    (500, 'pass', False, False)
    >>> result.timings.total >= result.timings.plan + result.timings.validate
    True
    """

    out: str
    """Where the output is: the local folder or object-store URI as given, or the Volume."""
    manifest: Manifest
    """The manifest committed with the output (`manifest.json`)."""
    report: Report | None
    """The validation report written beside the data; None with `validate=False`."""
    strict: bool
    """Whether a failed check fails the run: `strict=`, else the spec's `validation: {strict: ...}`."""
    timings: Timings
    created: tuple[str, ...] = ()
    """What the run created besides the output: a Volume's schema and volume in Unity Catalog."""

    @property
    def failed(self) -> bool:
        """A check failed and the run is strict: `generate` raised ValidationFailed carrying this."""
        return self.strict and self.report is not None and bool(self.report.failed)


def load_spec(source: SpecSource) -> DatasetSpec:
    """A spec from a file path, a built-in name, YAML text, a mapping or a DatasetSpec.

    Raises SpecError listing every problem.

    >>> load_spec({"name": "d", "tables": {"t": {"rows": 2, "columns": {"x": {"kind": "sequence"}}}}}).name
    'd'
    """
    if isinstance(source, DatasetSpec):
        return _checked(source)
    if isinstance(source, Mapping):
        return build_spec(dict(source))
    if isinstance(source, Path):
        return load_file(source)
    if isinstance(source, str):
        if "\n" not in source and source in builtin_names():
            return load_text(builtin_text(source), file=f"<builtin {source}>")
        if "\n" not in source and (Path(source).exists() or source.endswith((".yaml", ".yml", ".json"))):
            return load_file(source)
        if "\n" not in source and ":" not in source:
            raise SpecError([Issue(
                "unknown-spec", "", f"no spec file or built-in named {source!r}",
                hint=f"give a path to a YAML file, or one of: {', '.join(builtin_names())}")])
        return load_text(source)
    raise TypeError(f"cannot load a spec from {type(source).__name__}")


def column(kind: str, **parameters: Any) -> AnyColumn:
    """A column spec built in Python, validated like the same mapping in YAML.

    >>> column("lognormal", mean=8, sigma=0.6, round=2).sigma
    0.6
    >>> column("lognormal", by="tier", cases={"Pro": {"mean": 8, "sigma": 0.6}, "Free": 0}).by
    'tier'
    """
    issues: list[Issue] = []
    parsed = parse_column({"kind": kind, **parameters}, (), SourceMap(None), issues)
    if issues or parsed is None:
        raise SpecError(issues)
    return parsed


def _checked(spec: DatasetSpec) -> DatasetSpec:
    """A spec built from models directly gets the same cross-column checks as a loaded one."""
    issues = check_dataset(spec, source=spec.where or SourceMap(None), broken=set())
    if issues:
        raise SpecError(issues)
    return spec


def compile_plan(source: SpecSource | Plan, *, seed: int | None = None, scale: float = 1.0,
                 as_of: date | None = None, allow_large: bool = False) -> Plan:
    """The plan for a spec (see `Plan`); a Plan passes through unchanged.

    A plan beyond 10^12 rows or about 1 TB is refused unless `allow_large` (docs/security.md)."""
    if isinstance(source, Plan):
        if seed is not None or scale != 1.0 or as_of is not None:  # never silently ignored
            raise UsageError("seed, scale and as_of apply when a spec is compiled; this plan is compiled already",
                             hint="pass them to compile_plan, or pass the spec instead of the plan")
        return source
    plan = _compile(load_spec(source), seed=seed, scale=scale, as_of=as_of, allow_large=allow_large)
    issues = _bound_queries(plan)  # `expect:` SQL against the planned columns, before any work
    if issues:
        raise SpecError(issues)
    return plan


def _bound_queries(plan: Plan) -> list[Issue]:
    """`check_queries(plan)`, skipped when these very queries bound against these very tables
    before: binding opens a DuckDB (a new in-memory database, 25 ms) and asks it to bind each
    query, a part of a small run worth keeping (issue 16). Only a clean outcome is kept on disk
    (`fabula.disk_cache`), keyed by everything the binding reads (the expectations, the tables'
    columns and types, as_of, DuckDB's version) and the code that writes and binds the SQL; issues
    are found afresh, with the spec's lines."""
    if not plan.spec.expect:
        return []
    from importlib.metadata import version

    from fabula import sandbox
    from fabula.disk_cache import answer_path, code_version, read_json, write_json
    from fabula.spec import dates, expectations
    from fabula.validate.families import expectations as binding

    recipe = {"expect": [expectation.model_dump(mode="json") for expectation in plan.spec.expect],
              "tables": {table.name: str(table.schema) for table in plan.tables}, "as_of": plan.as_of.isoformat(),
              "duckdb": version("duckdb"),
              "code": [code_version(module.__file__ or "") for module in (binding, sandbox, expectations, dates)]}
    path = answer_path("bound-queries", recipe)
    if read_json(path) == "bound":
        return []
    issues = check_queries(plan)
    if not issues:
        write_json(path, "bound")
    return issues


def preview(source: SpecSource | Plan, *, rows: int = 5, seed: int | None = None, scale: float = 1.0,
            as_of: date | None = None, allow_large: bool = False) -> dict[str, pa.Table]:
    """The first rows of every table, generated in memory (exactly what `generate` would write).

    >>> t = preview({"name": "d", "seed": 1, "tables": {"t": {"rows": 9, "columns": {
    ...     "id": {"kind": "id", "format": "T-{:02d}"}}}}}, rows=2)["t"]
    >>> t.column("id").to_pylist()
    ['T-00', 'T-01']
    """
    plan = compile_plan(source, seed=seed, scale=scale, as_of=as_of, allow_large=allow_large)
    tables = {}
    for table in plan.tables:
        if table.rows == 0:
            tables[table.name] = table.schema.empty_table()
            continue
        batch = generate_block(plan, table, 0)
        tables[table.name] = pa.Table.from_batches([batch.slice(0, rows)], schema=table.schema)
    return tables


def generate(source: SpecSource | Plan, out: str | Path, *,
             seed: int | None = None, scale: float = 1.0, as_of: date | None = None, allow_large: bool = False,
             mode: str = "error", output_format: str = "parquet", compression: str = "snappy",
             engine: str = "local", workers: int | None = None, spark: Any = None, master: str | None = None,
             partitions: int | None = None, validate: bool = True, strict: bool | None = None,
             progress: Progress | None = None, profile: str | None = None,
             uploaded: Progress | None = None) -> GenerateResult:
    """Write every table under `out` with a manifest; return what was written and found.

    The spec: `seed`, `scale` and `as_of` override the spec's; `allow_large` lifts the size
    bounds (docs/security.md). A compiled Plan is taken as it is.

    The output: `output_format` is one of parquet, delta, csv, json (JSON Lines); `out` may be a
    local folder or an object-store prefix (s3://, gs://, abfss://). `mode="append"` adds a
    batch to an output written before: ids continue, the time window moves on, and the manifest
    keeps the history of batches. See docs/formats.md. `out` is replaced only when it is absent,
    empty, or (with `mode="overwrite"`) an output fabula wrote; a run locks it, so a second run
    to the same `out` fails at once (docs/how-it-works.md#output-layout). Nothing appears at
    `out` unless the whole run succeeds.

    The engine: `engine="local"` generates on `workers` threads (default: all cores) and calls
    `progress` with the rows of each block written; `engine="spark"` runs the same blocks as
    Spark tasks, on the session `spark`, or on one started for `master` (default `local[*]`,
    or `sc://host:port`) and stopped at the end; `partitions` spreads each table over that many
    files. Both write the same bytes (docs/how-it-works.md#spark-engine).

    The checks: with `validate` (the default) the data is checked as it is generated and
    `report.json` / `report.html` are written beside it (docs/validation.md). With `strict`
    (default: the spec's `validation: {strict: ...}`) a failed check raises ValidationFailed,
    after the output and its report are in place; the error carries this result.

    `out` may be a Unity Catalog Volume, `dbfs:/Volumes/<catalog>/<schema>/<volume>/<folder>`
    (docs/databricks.md): `profile` picks a ~/.databrickscfg profile, `uploaded` is called
    with the bytes of each file uploaded.
    """
    started = perf_counter()
    _check_run_options(out, engine=engine, mode=mode, workers=workers, spark=spark, master=master,
                       partitions=partitions, validate=validate, strict=strict)
    if mode == "append":  # formats (issue 13): a batch that continues the folder's state
        return _append(source, out, started=started, compression=compression, workers=workers,
                       progress=progress, validate=validate, strict=strict, output_format=output_format,
                       seed=seed, scale=scale, as_of=as_of, allow_large=allow_large)
    if engine == "spark":
        from fabula.engine.spark import folder_sink

        sink = folder_sink(out, mode=mode, compression=compression, output_format=output_format)
    else:
        sink = _sink(out, mode=mode, compression=compression, profile=profile, uploaded=uploaded,
                     output_format=output_format)  # refuses `.`, `/`, home… before any work
    plan = compile_plan(source, seed=seed, scale=scale, as_of=as_of, allow_large=allow_large)
    planned = perf_counter()
    validation = Validation(plan) if validate else None
    checks = _Stopwatch()
    tasks: list[TaskTimes] = []
    if engine == "spark":
        manifest = _run_spark(plan, sink, spark=spark, master=master, mode=mode, partitions=partitions,
                              validation=validation, checks=checks, on_tasks=tasks.append)
    else:
        manifest = _run_local(plan, sink, workers=workers, progress=progress, validation=validation, checks=checks)
    return _finished(GenerateResult(
        out=_location(out), manifest=manifest, report=validation.report if validation else None,
        strict=validate and (plan.spec.validation.strict if strict is None else strict),
        timings=replace(_timings(started, planned, checks.seconds), spark_tasks=tasks[0] if tasks else None),
        created=tuple(getattr(sink, "created", ()))))


def _check_run_options(out: str | Path, *, engine: str, mode: str, workers: int | None, spark: Any,
                       master: str | None, partitions: int | None, validate: bool, strict: bool | None) -> None:
    """Arguments that contradict each other, refused before any work."""
    from fabula.databricks.paths import volume_target

    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}", hint=f"use one of: {', '.join(ENGINES)}")
    if strict and not validate:
        raise UsageError("strict=True needs the checks that validate=False turns off", hint="drop one of them")
    if engine == "local":
        for given, name in ((spark, "spark"), (master, "master"), (partitions, "partitions")):
            if given is not None:
                raise UsageError(f"{name}= applies only with engine='spark'", hint="pass engine='spark' too")
        return
    if spark is not None and master is not None:
        raise UsageError("pass either a Spark session (spark=) or a master to start one (master=), not both",
                         hint="drop master=: the session's own master is used")
    if workers is not None:
        raise UsageError("workers= applies to the local engine; with engine='spark' the session sets the "
                         "parallelism", hint="start the session on e.g. master='local[4]'")
    if mode == "append" or is_remote(out):
        raise UsageError("engine='spark' writes a new local folder for now",
                         hint="use the local engine for mode='append' and object stores")
    if volume_target(out) is not None:
        raise UsageError("a Volume out (dbfs:/Volumes/...) is written by the local engine",
                         hint="with Spark on Databricks, write to the Volume's path from the cluster")


def _run_local(plan: Plan, sink, *, workers: int | None, progress: Progress | None,
               validation: Validation | None, checks: _Stopwatch) -> Manifest:
    """The local engine's run, with the change tables the spec asks for beside the tables."""
    def reports(folder: Path, parts) -> dict[str, bytes]:
        if changing_tables(plan.spec):
            # formats (issue 13): change feeds and SCD2 history beside the tables; their module
            # is imported only for a spec that asks
            from fabula.engine.changes import write_change_tables

            write_change_tables(plan, sink)
        return checks.timed(validation.finish)(folder, parts) if validation is not None else {}

    manifest = run_local(plan, sink, workers=workers, progress=progress,
                         observe=validation.observe if validation else None,
                         witness=validation.witness if validation else None, reports=reports)
    return getattr(sink, "committed", None) or manifest  # with the change tables a sink lists


def _run_spark(plan: Plan, sink, *, spark: Any, master: str | None, mode: str, partitions: int | None,
               validation: Validation | None, checks: _Stopwatch,
               on_tasks: Callable[[TaskTimes], None] | None = None) -> Manifest:
    """The Spark engine's run, on the caller's session or on one started for it (and stopped)."""
    from fabula.defects import compile_defects
    from fabula.engine.spark import cli_session, refuse_changes, run_spark
    from fabula.sinks.folder import check_target

    refuse_changes(plan.spec)  # as the engine would, but before Spark's start-up
    compile_defects(plan)  # a defect that cannot apply to its column: SpecError before the start-up too
    check_target(sink.target, mode)  # before Spark's start-up too (the run re-checks it under its lock)
    session, created = (spark, False) if spark is not None else cli_session(master or "local[*]")
    try:
        return run_spark(plan, session, sink, partitions=partitions, validation=validation,
                         reports=checks.timed(validation.finish) if validation is not None else None,
                         on_tasks=on_tasks)
    finally:
        if created:
            session.stop()


def _sink(out: str | Path, *, mode: str, compression: str, profile: str | None, uploaded: Progress | None,
          output_format: str = "parquet"):
    """A local folder, an object store (s3://, gs://, abfss://), or a Unity Catalog Volume
    reached through the Files API."""
    from fabula.databricks.paths import volume_target

    target = volume_target(out)
    if target is None:
        if is_remote(out):  # formats (issue 13): committed manifest last (docs/formats.md)
            return RemoteSink(str(out), mode=mode, compression=compression, output_format=output_format)
        return FilesSink(out, mode=mode, compression=compression, output_format=output_format)
    if output_format != "parquet":
        raise OutputError(f"a Volume takes Parquet for now, not {output_format}",
                          hint="write the other format to a local folder, or leave out --format")
    from fabula.databricks.sink import VolumeSink

    return VolumeSink(target, mode=mode, compression=compression, profile=profile, uploaded=uploaded)


def _append(source: SpecSource | Plan, out: str | Path, *, started: float, compression: str,
            workers: int | None, progress: Progress | None, validate: bool, strict: bool | None,
            output_format: str, seed: int | None, scale: float, as_of: date | None,
            allow_large: bool) -> GenerateResult:
    """One batch more in `out` (or its first batch): see fabula.engine.append."""
    from fabula.engine.append import batch_plan, next_batch, read_previous, with_history

    if is_remote(out):
        raise OutputError("--mode append writes to local folders for now",
                          hint="append to a local folder, then copy it to the object store")
    spec = source.spec if isinstance(source, Plan) else load_spec(source)
    if changing_tables(spec):
        raise OutputError("--mode append does not write change data (`changes:`) yet",
                          hint="generate the change feed as a new output, or remove `changes:` to append")
    previous = read_previous(Path(out))
    if previous is not None and previous.output_format != output_format:
        raise OutputError(f"cannot append {output_format} to {out}: it holds {previous.output_format} files",
                          hint=f"pass --format {previous.output_format}, or write to a new --out")
    state = next_batch(spec, previous, seed=seed, as_of=as_of)
    plan = batch_plan(spec, state, previous, Path(out), scale=scale, allow_large=allow_large)
    planned = perf_counter()
    sink = FilesSink(out, mode="append", compression=compression, output_format=output_format, batch=state.batch,
                     amend=lambda manifest: with_history(manifest, state, spec, previous))
    # the first batch is checked as it is generated, like any run; a later one only once it is
    # in place, with the batches before it (`validate_output`), so it is not checked twice
    validation = Validation(plan) if validate and not state.batch else None
    checks = _Stopwatch()
    run_local(plan, sink, workers=workers, progress=progress, observe=validation.observe if validation else None,
              reports=checks.timed(validation.finish) if validation else None)
    report = None
    if validate and state.batch:
        report = checks.timed(validate_output)(out, strict=False, workers=workers, allow_large=allow_large)
    elif validation is not None:
        report = validation.report
    assert sink.committed is not None  # run_local committed it, or raised
    return _finished(GenerateResult(
        out=_location(out), manifest=sink.committed, report=report,
        strict=validate and (spec.validation.strict if strict is None else strict),
        timings=_timings(started, planned, checks.seconds)))


class _Stopwatch:
    """Seconds spent in the checks, which an engine calls from inside its run."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def timed(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed_call(*args: Any, **kwargs: Any) -> Any:
            started = perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += perf_counter() - started

        return timed_call


def _timings(started: float, planned: float, validating: float) -> Timings:
    ended = perf_counter()
    return Timings(plan=planned - started, write=max(ended - planned - validating, 0.0), validate=validating,
                   total=ended - started)


def _location(out: str | Path) -> str:
    """`out` as people read it: an object-store URI as given, a Volume as dbfs:/Volumes/..., a
    folder as its path."""
    from fabula.databricks.paths import volume_target

    target = volume_target(out)
    if target is not None:
        return str(target)
    return str(out) if is_remote(out) else str(Path(out))


def _finished(result: GenerateResult) -> GenerateResult:
    """The result, or ValidationFailed carrying it when the run is strict and a check failed."""
    if result.failed:
        _fail_if_strict(result.report, result.out, True, result=result)
    return result


def stream(source: SpecSource | Plan, out: str | Path, *, every: float = 0.0, batches: int | None = None,
           output_format: str = "parquet", window_days: int = 1, on_batch=None,
           seed: int | None = None, scale: float | None = None, as_of: date | None = None) -> dict[str, Any]:
    """`fabula stream`: write the dataset into `out` as timeline-ordered micro-batches, one file
    per table and batch, `every` seconds apart; resume from `out`'s state (whose seed, scale and
    as_of are the defaults then). Returns the stream's state. See fabula.engine.stream."""
    from fabula.engine.stream import read_state
    from fabula.engine.stream import stream as write_stream

    if is_remote(out):
        raise OutputError("fabula stream writes to local folders for now", hint="stream into a local --out")
    state = read_state(Path(out))
    recorded = state["stream"] if state else {}
    if isinstance(source, Plan):
        plan = source
    else:
        plan = compile_plan(source, seed=seed if seed is not None else recorded.get("seed"),
                            scale=scale if scale is not None else recorded.get("scale", 1.0),
                            as_of=as_of or (date.fromisoformat(recorded["as_of"]) if recorded else None))
    return write_stream(plan, out, every=every, batches=batches, output_format=output_format,
                        window_days=window_days, on_batch=on_batch)


def validate_output(out: str | Path, *, strict: bool | None = None, workers: int | None = None,
                    profile: str | None = None, allow_large: bool = False) -> Report:
    """`fabula validate DIR`: re-check an output folder (also one copied from elsewhere) against
    the spec, seed and scale its manifest records, rewrite its report.json / report.html, and
    return the report.

    With `strict` (default: the recorded spec's `validation: {strict: ...}`) a failed check
    raises ValidationFailed. A Volume (`dbfs:/Volumes/...`) is read back through the Files API
    and its reports are put back there.
    """
    from fabula.databricks.paths import volume_target

    target = volume_target(out)
    if target is not None:
        from fabula.databricks.validate import validate_volume

        def check(folder: Path) -> tuple[Report, bool]:
            return (validate_output(folder, strict=False, workers=workers, allow_large=allow_large),
                    read_manifest(folder).strict)

        report, recorded = validate_volume(target, check, profile=profile)  # reports are back in the volume
        _fail_if_strict(report, Path(str(target)), recorded if strict is None else strict)
        return report
    with _locked(Path(out)):  # a run replacing the folder meanwhile would mix two datasets in one report
        manifest = read_manifest(Path(out))
        if len(manifest.batches) > 1:  # formats (issue 13): every batch, and across them
            from fabula.engine.append_checks import validate_batches
            from fabula.validate.run import write_reports

            report = validate_batches(Path(out), manifest, workers=workers)
            write_reports(report, Path(out))
        else:
            report = validate_folder(out, workers=workers, allow_large=allow_large)
    if strict is None:
        strict = manifest.strict
    _fail_if_strict(report, Path(out), strict)
    return report


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """The folder's run lock, as `generate` takes it, while validation reads the folder and
    rewrites its reports: OutputBusyError (exit code 1) when a run is writing it. Where the
    lock cannot even be created (a parent folder that is not ours to write), validation reads
    on unlocked, as it would a copy."""
    from fabula.sinks.folder import OutputWriteError, TargetLock

    lock = TargetLock(folder.absolute())
    try:
        lock.acquire()
    except OutputWriteError:
        pass  # release() below is then a no-op: nothing was held
    try:
        yield
    finally:
        lock.release()


def _fail_if_strict(report: Report | None, out: str | Path, strict: bool, *, result: Any = None) -> None:
    """The one strict gate: failed checks of a strict run raise ValidationFailed, which carries
    what the run produced (`result`, else the report) for a caller to show."""
    if strict and report is not None and report.failed:
        raise ValidationFailed([f"{check.name}: {check.message}" for check in report.failed],
                               report=f"{str(out).rstrip('/')}/{REPORT_HTML}",
                               result=report if result is None else result)


def to_spark(source: SpecSource | Plan, spark, *, partitions: int | None = None, seed: int | None = None,
             scale: float = 1.0, as_of: date | None = None, allow_large: bool = False) -> dict[str, Any]:
    """One Spark DataFrame per table, generated by the executors with the same blocks as
    `generate`: the same rows, in the same order. `spark` is the session you already have
    (local, cluster, Spark Connect, Databricks); fabula never creates one. Needs
    `pip install 'fabula[spark]'`; to write the local layout, `generate(..., engine="spark", spark=spark)`.
    """
    from fabula.engine.spark import require_pyspark, to_dataframes

    require_pyspark()
    plan = compile_plan(source, seed=seed, scale=scale, as_of=as_of, allow_large=allow_large)
    return to_dataframes(plan, spark, partitions=partitions)
