"""The Python API, mirroring the CLI: load → compile_plan → preview / generate."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Mapping

import pyarrow as pa

from fabula.plan.blocks import generate_block
from fabula.engine.local import Progress, run_local
from fabula.errors import Issue, SpecError, ValidationFailed
from fabula.manifest import Manifest, read_manifest
from fabula.plan import Plan, compile_plan as _compile
from fabula.scenarios import builtin_names, builtin_text
from fabula.sinks.parquet import ParquetSink
from fabula.spec import AnyColumn, DatasetSpec, build_spec, load_file, load_text
from fabula.spec.checks import check_dataset
from fabula.spec.load import SourceMap, parse_column
from fabula.validate import REPORT_HTML, Report, Validation, check_queries, validate_folder

SpecSource = DatasetSpec | Mapping[str, Any] | str | Path


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
    if issues:
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
        return source
    plan = _compile(load_spec(source), seed=seed, scale=scale, as_of=as_of, allow_large=allow_large)
    issues = check_queries(plan)  # `expect:` SQL against the planned columns, before any work
    if issues:
        raise SpecError(issues)
    return plan


def preview(source: SpecSource | Plan, *, rows: int = 5, **plan_options: Any) -> dict[str, pa.Table]:
    """The first rows of every table, generated in memory (exactly what `generate` would write).

    >>> t = preview({"name": "d", "seed": 1, "tables": {"t": {"rows": 9, "columns": {
    ...     "id": {"kind": "id", "format": "T-{:02d}"}}}}}, rows=2)["t"]
    >>> t.column("id").to_pylist()
    ['T-00', 'T-01']
    """
    plan = compile_plan(source, **plan_options)
    tables = {}
    for table in plan.tables:
        if table.rows == 0:
            tables[table.name] = table.schema.empty_table()
            continue
        batch = generate_block(plan, table, 0)
        tables[table.name] = pa.Table.from_batches([batch.slice(0, rows)], schema=table.schema)
    return tables


def generate(source: SpecSource | Plan, out: str | Path, *, mode: str = "error",
             compression: str = "snappy", workers: int | None = None,
             progress: Progress | None = None, validate: bool = True, strict: bool | None = None,
             profile: str | None = None, uploaded: Progress | None = None,
             **plan_options: Any) -> Manifest:
    """Write every table as Parquet under `out` with a manifest; return the manifest.

    Nothing appears at `out` unless the whole run succeeds. With `validate` (the default) the
    data is checked as it is generated and `report.json` / `report.html` are written beside it
    (docs/validation.md); with `strict` (default: the spec's `validation: {strict: ...}`) a
    failed check raises ValidationFailed, after the output and its report are in place.

    `out` is replaced only when it is absent, empty, or (with `mode="overwrite"`) an output
    fabula wrote; a run locks it, so a second run to the same `out` fails at once
    (docs/how-it-works.md#output-layout).

    `out` may be a Unity Catalog Volume, `dbfs:/Volumes/<catalog>/<schema>/<volume>/<folder>`
    (docs/databricks.md): `profile` picks a ~/.databrickscfg profile, `uploaded` is called
    with the bytes of each file uploaded.
    """
    sink = _sink(out, mode=mode, compression=compression, profile=profile, uploaded=uploaded)  # refuses `.`, `/`, home…
    plan = compile_plan(source, **plan_options)
    if not validate:
        return run_local(plan, sink, workers=workers, progress=progress)
    validation = Validation(plan)
    manifest = run_local(plan, sink, workers=workers, progress=progress, observe=validation.observe,
                         reports=validation.finish)
    _fail_if_strict(validation.report, Path(str(sink.target)), plan.spec.validation.strict if strict is None else strict)
    return manifest


def _sink(out: str | Path, *, mode: str, compression: str, profile: str | None, uploaded: Progress | None):
    """A local folder, or a Unity Catalog Volume reached through the Files API."""
    from fabula.databricks.paths import volume_target

    target = volume_target(out)
    if target is None:
        return ParquetSink(out, mode=mode, compression=compression)
    from fabula.databricks.sink import VolumeSink

    return VolumeSink(target, mode=mode, compression=compression, profile=profile, uploaded=uploaded)


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
    report = validate_folder(out, workers=workers, allow_large=allow_large)
    if strict is None:
        strict = read_manifest(Path(out)).strict
    _fail_if_strict(report, Path(out), strict)
    return report


def _fail_if_strict(report: Report | None, out: Path, strict: bool) -> None:
    if strict and report is not None and report.failed:
        raise ValidationFailed([f"{check.name}: {check.message}" for check in report.failed],
                               report=str(out / REPORT_HTML))


def to_spark(source: SpecSource | Plan, spark, *, partitions: int | None = None,
             **plan_options: Any) -> dict[str, Any]:
    """One Spark DataFrame per table, generated by the executors with the same blocks as
    `generate`: the same rows, in the same order. `spark` is the session you already have
    (local, cluster, Spark Connect, Databricks); fabula never creates one. Needs
    `pip install 'fabula[spark]'`; to write the local layout, see `fabula.engine.spark.write_spark`.
    """
    from fabula.engine.spark import require_pyspark, to_dataframes

    require_pyspark()
    return to_dataframes(compile_plan(source, **plan_options), spark, partitions=partitions)
