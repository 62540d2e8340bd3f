"""The Python API, mirroring the CLI: load → compile_plan → preview / generate."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Mapping

import pyarrow as pa

from fabula.engine.block import generate_block
from fabula.engine.local import Progress, run_local
from fabula.errors import Issue, SpecError
from fabula.plan import Plan, compile_plan as _compile
from fabula.scenarios import builtin_names, builtin_text
from fabula.sinks.parquet import ParquetSink
from fabula.spec import AnyColumn, DatasetSpec, build_spec, load_file, load_text
from fabula.spec.checks import check_dataset
from fabula.spec.load import SourceMap, parse_column

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
                 as_of: date | None = None) -> Plan:
    """The plan for a spec (see `Plan`); a Plan passes through unchanged."""
    if isinstance(source, Plan):
        return source
    return _compile(load_spec(source), seed=seed, scale=scale, as_of=as_of)


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
             progress: Progress | None = None, **plan_options: Any) -> dict[str, Any]:
    """Write every table as Parquet under `out` with a manifest; return the manifest.

    Nothing appears at `out` unless the whole run succeeds.
    """
    plan = compile_plan(source, **plan_options)
    sink = ParquetSink(out, mode=mode, compression=compression)
    return run_local(plan, sink, workers=workers, progress=progress)
