"""The manifest written with every output: one typed model, read and written only here.

It records what was generated, from what and by which versions, and lists every file of the
output (tables' part files and the reports) with its rows, size and sha256, so `fabula validate`
can tell the data fabula wrote from data changed afterwards. A `digest` (sha256 of the canonical
JSON of everything else) makes an edited manifest detectable, and the `format` marker is what
lets a sink recognise a folder as fabula's own before it replaces it. No wall-clock time is
recorded: two runs of the same plan write the same manifest.

Format version 2 (version 1, before the file checksums, is refused with a hint to re-generate):

    {"format": "fabula-manifest", "manifest_version": 2, "engine": "local",
     "dataset": ..., "spec_hash": ..., "seed": ..., "as_of": "2024-12-31", "scale": 1.0,
     "output_format": "parquet", "layout": {...}, "versions": {...},
     "tables": {"orders": {"rows": 9, "columns": [{"name": ..., "type": ...}],
                           "files": [{"path": "orders/part-00000.parquet", "rows": 9,
                                      "bytes": 1234, "sha256": "..."}]}},
     "reports": [{"path": "report.json", "rows": null, "bytes": 10, "sha256": "..."}],
     "spec": {...canonical spec...}, "spec_dates": [["tables", "t", "columns", "d", "value"]],
     "digest": "..."}
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fabula.errors import OutputError, SpecError

MANIFEST = "manifest.json"
FORMAT = "fabula-manifest"
VERSION = 2
ENGINES = ("local", "spark")
MAX_BYTES = 32 * 2**20
"""A manifest larger than this is refused unread (a real one lists a spec and its files: KBs)."""
MAX_DEPTH = 48
"""JSON nesting deeper than this is refused (a real one nests about ten levels)."""
REGENERATE = "re-generate the data with this version of fabula (`fabula generate SPEC --out DIR`)"


@dataclass(frozen=True)
class FileEntry:
    """One file of an output, by its path relative to the output folder."""

    path: str
    bytes: int
    sha256: str
    rows: int | None = None
    """Rows in a table's part file; None for a report."""

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "rows": self.rows, "bytes": self.bytes, "sha256": self.sha256}


@dataclass(frozen=True)
class TableEntry:
    rows: int
    columns: tuple[tuple[str, str], ...]
    """(name, Arrow type as text) in the table's order."""
    files: tuple[FileEntry, ...]

    @property
    def bytes(self) -> int:
        return sum(entry.bytes for entry in self.files)


@dataclass(frozen=True)
class Manifest:
    """Everything needed to reproduce or re-check an output."""

    dataset: str
    spec_hash: str
    seed: int
    as_of: str
    scale: float
    engine: str
    output_format: str
    layout: Mapping[str, Any]
    versions: Mapping[str, str]
    tables: Mapping[str, TableEntry]
    spec: Mapping[str, Any] = field(repr=False)
    spec_dates: tuple[tuple[str | int, ...], ...] = ()
    """Where the spec held a date or time its canonical JSON wrote as text (e.g. a constant
    date), so the spec rebuilds exactly."""
    reports: tuple[FileEntry, ...] = ()
    batches: tuple[Mapping[str, Any], ...] = ()
    """formats (issue 13): an appended output's batches, oldest first (fabula.engine.append);
    empty for an output written in one run."""
    base: Mapping[str, Any] | None = None
    """formats (issue 13): what every batch derives from (the spec's identity and the root seed)."""
    recorded_digest: str | None = field(default=None, compare=False)
    """The digest read from the file (None for a manifest built in this process)."""

    # -- what it lists ------------------------------------------------------------------------------

    def files(self) -> Iterator[FileEntry]:
        """Every listed file: the tables' parts, then the reports."""
        for table in self.tables.values():
            yield from table.files
        yield from self.reports

    def column_types(self) -> dict[str, dict[str, str]]:
        return {name: dict(table.columns) for name, table in self.tables.items()}

    def with_reports(self, reports: Iterable[FileEntry]) -> Manifest:
        return replace(self, reports=tuple(reports))

    @property
    def strict(self) -> bool:
        """The recorded spec's `validation: {strict: ...}`."""
        validation = self.spec.get("validation") or {}
        return bool(validation.get("strict", False)) if isinstance(validation, Mapping) else False

    # -- the JSON form --------------------------------------------------------------------------------

    def body(self) -> dict[str, Any]:
        """The JSON form without the digest."""
        return {
            "format": FORMAT,
            "manifest_version": VERSION,
            "engine": self.engine,
            "dataset": self.dataset,
            "spec_hash": self.spec_hash,
            "seed": self.seed,
            "as_of": self.as_of,
            "scale": self.scale,
            "output_format": self.output_format,
            "layout": dict(self.layout),
            "versions": dict(self.versions),
            "tables": {name: {"rows": table.rows,
                              "columns": [{"name": column, "type": kind} for column, kind in table.columns],
                              "files": [entry.to_dict() for entry in table.files]}
                       for name, table in self.tables.items()},
            "reports": [entry.to_dict() for entry in self.reports],
            "spec": self.spec,
            "spec_dates": [list(path) for path in self.spec_dates],
            # formats (issue 13): only in appended outputs, so other manifests are unchanged
            **({"base": dict(self.base or {}), "batches": [dict(batch) for batch in self.batches]}
               if self.batches else {}),
        }

    @property
    def digest(self) -> str:
        """sha256 of the canonical JSON of `body()` (sorted keys, no spaces)."""
        return _digest(self.body())

    @property
    def digest_matches(self) -> bool:
        """False when the file's digest is not that of its contents (the manifest was edited)."""
        return self.recorded_digest is None or self.recorded_digest == self.digest

    def to_dict(self) -> dict[str, Any]:
        return {**self.body(), "digest": self.digest}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _digest(body: Mapping[str, Any]) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- writing --------------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def library_versions() -> dict[str, str]:
    import numpy
    import pyarrow

    from fabula import __version__
    from fabula.providers.faker_pool import faker_version  # its metadata: no import of Faker

    return {"fabula": __version__, "numpy": numpy.__version__, "pyarrow": pyarrow.__version__,
            "faker": faker_version(), "python": platform.python_version()}


def _versions(plan) -> dict[str, str]:
    """The libraries whose versions can change this plan's data (holidays and tzdata only when
    used: a new release of either moves a holiday or a zone's offsets, and so the rows)."""
    from importlib.metadata import version

    from fabula.spec.zones import uses_zones

    versions = library_versions()
    if any(timeline.holidays for timeline in plan.spec.timelines.values()):
        versions["holidays"] = version("holidays")  # its metadata, not an import of the package
    if uses_zones(plan.spec):
        versions["tzdata"] = version("tzdata")
    return versions


def build_manifest(plan, parts: Iterable, *, engine: str, output_format: str = "parquet",
                   reports: Iterable[FileEntry] = ()) -> Manifest:
    """The manifest of `plan`'s output made of `parts` (`PartWritten`s, any order)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}")
    by_table: dict[str, list] = {}
    for part in sorted(parts, key=lambda p: (p.table, p.part, p.path)):  # a partitioned part: several files
        by_table.setdefault(part.table, []).append(part)
    tables = {
        table.name: TableEntry(
            # the rows written: the plan's, or more where duplicates were injected (issue 14)
            rows=sum(part.rows for part in by_table[table.name]) if by_table.get(table.name) else table.rows,
            columns=tuple((column.name, str(column.arrow_type)) for column in table.columns),
            files=tuple(FileEntry(path=part.path, rows=part.rows, bytes=part.bytes, sha256=part.sha256)
                        for part in by_table.get(table.name, [])))
        for table in plan.tables
    }
    return Manifest(
        dataset=plan.name, spec_hash=plan.spec_hash, seed=plan.seed, as_of=plan.as_of.isoformat(),
        scale=plan.scale, engine=engine, output_format=output_format,
        layout={"block_rows": plan.tables[0].block_rows if plan.tables else None,
                "blocks_per_row_group": plan.layout.blocks_per_row_group,
                "blocks_per_file": plan.layout.blocks_per_file},
        versions=_versions(plan), tables=tables, spec=plan.spec.canonical(),
        spec_dates=tuple(_date_paths(plan.spec)), reports=tuple(reports))


def _date_paths(spec) -> Iterator[tuple[str | int, ...]]:
    """Paths of the values that are dates or times in the spec's model but text in its
    canonical JSON (a constant `value: 2024-01-01`): the canonical form cannot tell them apart."""
    dumped = spec.model_dump(mode="python", serialize_as_any=True)
    stack: list[tuple[tuple, Any]] = [((), dumped)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, (date, datetime)):
            yield path
        elif isinstance(value, Mapping):
            stack.extend((path + (key,), item) for key, item in value.items() if isinstance(key, str))
        elif isinstance(value, (list, tuple)):
            stack.extend((path + (index,), item) for index, item in enumerate(value))


# -- reading ----------------------------------------------------------------------------------------


def read_manifest(folder: Path) -> Manifest:
    """The manifest of an output folder, or an OutputError saying why it cannot be trusted
    enough to read (missing, too big, too deep, not fabula's, an older version, malformed).
    A manifest whose digest does not match is returned (`digest_matches` is False): validate
    reports it as a failed check."""
    folder = Path(folder)
    if not folder.is_dir():
        raise OutputError(f"{folder} is not a folder", hint="give the folder `fabula generate --out` wrote")
    path = folder / MANIFEST
    if not path.is_file():
        raise OutputError(f"{folder} has no {MANIFEST}, so it was not written by fabula",
                          hint="give the folder `fabula generate --out` wrote")
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise OutputError(f"cannot read {path}: {error.strerror}", hint="check its permissions") from None
    return parse_manifest(data, where=str(path))


def parse_manifest(data: bytes, *, where: str) -> Manifest:
    """A manifest from its bytes; every problem is an OutputError naming `where`."""
    def bad(what: str, hint: str = REGENERATE) -> OutputError:
        return OutputError(f"{where} is not a usable fabula manifest: {what}", hint=hint)

    if len(data) > MAX_BYTES:
        raise bad(f"it is larger than {MAX_BYTES // 2**20} MiB")
    try:
        raw = json.loads(data.decode("utf-8"))
    except RecursionError:
        raise bad(f"it is nested more than {MAX_DEPTH} levels deep") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise bad(f"it is not valid JSON ({error})") from None
    if _depth_exceeds(raw, MAX_DEPTH):
        raise bad(f"it is nested more than {MAX_DEPTH} levels deep")
    if not isinstance(raw, dict):
        raise bad("it is not a JSON object")
    if raw.get("format") != FORMAT:
        if raw.get("manifest_version") == 1:
            raise bad("it was written by an older fabula (manifest version 1, without file checksums)")
        raise bad(f"it has no \"format\": \"{FORMAT}\" marker, so fabula did not write it",
                  hint="give the folder `fabula generate --out` wrote")
    if raw.get("manifest_version") != VERSION:
        raise bad(f"manifest_version {raw.get('manifest_version')!r} is not {VERSION}")
    try:
        manifest = _from_dict(raw)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise bad(f"a field is missing or malformed ({type(error).__name__}: {error})") from None
    return manifest


def _depth_exceeds(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        items: Iterable[Any]
        if isinstance(item, dict):
            items = item.values()
        elif isinstance(item, list):
            items = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in items)
    return False


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} is not text")
    return value


def _count(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError(f"{name} is not a count")
    return value


def _optional_count(value: Any, name: str) -> int | None:
    return None if value is None else _count(value, name)


def _file(raw: Any, *, report: bool = False) -> FileEntry:
    if not isinstance(raw, dict):
        raise TypeError("a file entry is not an object")
    path = _text(raw["path"], "a file's path")
    parts = path.split("/")
    # listed paths stay inside the folder: relative, no `..`, no empty or hidden parts
    if any(part in ("", ".", "..") for part in parts) or path.startswith("/") or "\\" in path:
        raise ValueError(f"the file path {path!r} leaves the output folder")
    if (len(parts) != 1) if report else (len(parts) < 2 or not all(map(_PARTITION_FOLDER.match, parts[1:-1]))):
        raise ValueError(f"the file path {path!r} is not where fabula puts {'reports' if report else 'parts'}")
    sha = _text(raw["sha256"], "a file's sha256")
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ValueError(f"{sha!r} is not a sha256")
    return FileEntry(path=path, bytes=_count(raw["bytes"], "bytes"), sha256=sha,
                     rows=_optional_count(raw.get("rows"), "rows"))


_PARTITION_FOLDER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=[^/]*$")
"""A Hive-style partition folder between a table's folder and its files (`region=West`)."""


def _spec_path(raw: Any) -> tuple[str | int, ...]:
    if not isinstance(raw, list) or not raw or any(
            not isinstance(key, (str, int)) or isinstance(key, bool) for key in raw):
        raise TypeError("a spec_dates entry is not a path of names and positions")
    return tuple(raw)


def _from_dict(raw: dict[str, Any]) -> Manifest:
    tables = {}
    raw_tables = raw["tables"]
    if not isinstance(raw_tables, dict):
        raise TypeError("tables is not an object")
    for name, table in raw_tables.items():
        if not isinstance(table, dict):
            raise TypeError(f"table {name!r} is not an object")
        files = tuple(_file(entry) for entry in table["files"])
        if any(not entry.path.startswith(f"{name}/") for entry in files):
            raise ValueError(f"table {name!r} lists a file outside its folder")
        tables[name] = TableEntry(
            rows=_count(table["rows"], "rows"),
            columns=tuple((_text(column["name"], "a column name"), _text(column["type"], "a column type"))
                          for column in table["columns"]),
            files=files)
    engine = _text(raw["engine"], "engine")
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}")
    seed, scale = raw["seed"], raw["scale"]
    if not isinstance(seed, int) or isinstance(scale, bool) or not isinstance(scale, (int, float)):
        raise TypeError("seed or scale is not a number")
    date.fromisoformat(_text(raw["as_of"], "as_of"))
    for key in ("layout", "versions", "spec"):
        if not isinstance(raw[key], dict):
            raise TypeError(f"{key} is not an object")
    return Manifest(
        dataset=_text(raw["dataset"], "dataset"), spec_hash=_text(raw["spec_hash"], "spec_hash"),
        seed=seed, as_of=raw["as_of"], scale=scale, engine=engine,
        output_format=_text(raw["output_format"], "output_format"), layout=raw["layout"],
        versions=raw["versions"], tables=tables, spec=raw["spec"],
        spec_dates=tuple(_spec_path(path) for path in raw["spec_dates"]),
        reports=tuple(_file(entry, report=True) for entry in raw["reports"]),
        batches=_batches(raw.get("batches", [])), base=raw.get("base"),
        recorded_digest=_text(raw["digest"], "digest"))


def _batches(raw: Any) -> tuple[Mapping[str, Any], ...]:
    """formats (issue 13): the batch history, each entry an object with its files inside the folder."""
    if not isinstance(raw, list) or any(not isinstance(entry, dict) for entry in raw):
        raise TypeError("batches is not a list of objects")
    for entry in raw:
        for table, paths in entry["files"].items():
            if any(not isinstance(path, str) or not path.startswith(f"{table}/") or ".." in path.split("/")
                   for path in paths):
                raise ValueError(f"batch {entry.get('batch')!r} lists a file outside table {table!r}")
    return tuple(raw)


# -- the plan that wrote it ------------------------------------------------------------------------


def plan_from_manifest(manifest: Manifest, folder: Path, *, allow_large: bool = False):
    """The plan that wrote the folder: its spec, seed, as_of, scale and layout, as recorded.

    formats (issue 13): for an output of several batches, the last batch's plan, built on the
    plans of the batches before it (each from its own record), since its references may name
    their rows (`plan.earlier`)."""
    earlier = batch_plans(manifest.batches[:-1], manifest, folder, allow_large=allow_large)
    return _recorded_plan(manifest.spec, manifest.spec_dates, seed=manifest.seed, scale=manifest.scale,
                          as_of=manifest.as_of, layout=manifest.layout, column_types=manifest.column_types(),
                          folder=folder, allow_large=allow_large, earlier=earlier)


def batch_plans(records: Iterable[Mapping[str, Any]], manifest: Manifest, folder: Path, *,
                allow_large: bool = False) -> tuple:
    """formats (issue 13): the plans of batches as `manifest.batches` records them, oldest
    first, each built on the ones before it."""
    plans: tuple = ()
    for record in records:
        plans += (_recorded_plan(record["spec"], record.get("spec_dates", ()), seed=record["seed"],
                                 scale=record["scale"], as_of=record["as_of"],
                                 layout=record.get("layout") or manifest.layout,
                                 column_types=manifest.column_types(), folder=folder, allow_large=allow_large,
                                 earlier=plans),)
    return plans


def _recorded_plan(canonical: Mapping[str, Any], spec_dates: Iterable, *, seed: int, scale: float, as_of: str,
                   layout: Mapping[str, Any], column_types, folder: Path, allow_large: bool, earlier: tuple):
    from fabula.plan import compile_plan
    from fabula.plan.model import Layout
    from fabula.spec.canonical import from_canonical

    try:
        spec = _with_dates(from_canonical(canonical, column_types=column_types),
                           [tuple(path) for path in spec_dates])
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, SpecError) as error:
        raise OutputError(f"cannot rebuild the spec recorded in {Path(folder) / MANIFEST}: {error}",
                          hint=REGENERATE) from None
    options: dict[str, Any] = {}
    if layout.get("block_rows"):
        options["block_rows"] = layout["block_rows"]
    if layout.get("blocks_per_file") and layout.get("blocks_per_row_group"):
        options["layout"] = Layout(blocks_per_file=layout["blocks_per_file"],
                                   blocks_per_row_group=layout["blocks_per_row_group"])
    try:
        return compile_plan(spec, seed=seed, scale=scale, as_of=date.fromisoformat(as_of),
                            allow_large=allow_large, earlier=earlier, **options)
    except SpecError as error:
        raise OutputError(f"the spec recorded in {Path(folder) / MANIFEST} does not compile: {error}",
                          hint=REGENERATE) from None


def _with_dates(spec, paths: Iterable[tuple[str | int, ...]]):
    """`spec` with the values at `paths` turned back from ISO text into dates or times."""
    for path in paths:
        spec = _set_date(spec, tuple(path))
    return spec


def _set_date(node: Any, path: tuple) -> Any:
    from pydantic import BaseModel

    if not path:
        if isinstance(node, str):
            return datetime.fromisoformat(node) if "T" in node or " " in node else date.fromisoformat(node)
        return node
    key, rest = path[0], path[1:]
    if isinstance(node, BaseModel):
        if not isinstance(key, str) or key not in type(node).model_fields:
            raise KeyError(f"no {key!r} in the spec")
        return node.model_copy(update={key: _set_date(getattr(node, key), rest)})
    if isinstance(node, Mapping):
        return {**node, key: _set_date(node[key], rest)}
    if isinstance(node, (tuple, list)):
        if not isinstance(key, int) or not 0 <= key < len(node):
            raise KeyError(f"no {key!r} in the spec")
        items = [_set_date(item, rest) if index == key else item for index, item in enumerate(node)]
        return tuple(items) if isinstance(node, tuple) else items
    raise KeyError(f"no {key!r} in the spec")
