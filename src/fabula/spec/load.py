"""Loading a spec: YAML text (with line numbers) or a mapping → `DatasetSpec`, or every problem.

Loose input is coerced here, once (CONVENTIONS 5). Each column is validated on its own, so a
broken column never hides the problems of the others; then the cross-column checks run on
what parsed.
"""

from __future__ import annotations

import codecs
import dataclasses
import os
import stat
import types
import typing
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from fabula.errors import Issue, SpecError, did_you_mean
from fabula.spec.bounds import MAX_SPEC_BYTES, MAX_YAML_ALIASES, MAX_YAML_DEPTH, MAX_YAML_NODES
from fabula.spec.changes import ChangeSpec, change_issues
from fabula.spec.checks import check_dataset
from fabula.spec.columns import (
    COLUMN_KINDS,
    CONDITIONAL_KEYS,
    MODIFIERS,
    AnyColumn,
    Clip,
    ColumnSpec,
    ConditionalColumn,
)
from fabula.spec.dates import DateBound
from fabula.spec.defects import DefectSpec, defect_issues
from fabula.spec.expectations import Expectation, ValidationSettings
from fabula.spec.model import DatasetSpec, TableSpec
from fabula.spec.partitions import issues_in as partition_issues
from fabula.spec.partitions import partition_columns
from fabula.spec.relations import PerParent
from fabula.spec.sequences import as_count, cadence_rows, integer_valued, place_cadence
from fabula.spec.story import EventOverride, EventSpec, MixSpec, TimelineRows, TimelineSpec

Path_ = tuple[str | int, ...]


class SourceMap:
    """Where each key of a YAML document was written, to point issues at a file and line."""

    def __init__(self, file: str | None, lines: Mapping[Path_, int] | None = None):
        self.file = file
        self.lines = dict(lines or {})
        self.pending: list[Issue] = []  # found while reading (duplicate keys), reported with the rest
        self.unreadable: set[str] = set()  # paths of values YAML could not turn into Python values
        self.warnings: list[Issue] = []  # things that cannot have an effect: said, not refused

    def line(self, path: Path_) -> int | None:
        for end in range(len(path), -1, -1):
            found = self.lines.get(tuple(path[:end]))
            if found is not None:
                return found
        return None

    def issue(self, code: str, path: Path_, message: str, **extra: Any) -> Issue:
        return Issue(code, dotted(path), message, file=self.file, line=self.line(path), **extra)


def dotted(path: Path_) -> str:
    return ".".join(str(part) for part in path)


# -- YAML with line numbers ----------------------------------------------------------------------


class _TooBig(Exception):
    """The document asks for more than the loader's limits; carries the message and line."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.message = message
        self.line = line


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses deep nesting and alias bombs while the document is composed, so
    a billion-laughs file fails in milliseconds instead of expanding into gigabytes."""

    def __init__(self, text: str):
        super().__init__(text)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                raise _TooBig(f"the document uses more than {MAX_YAML_ALIASES:,} aliases (*name)",
                              self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _TooBig(f"lists and mappings are nested more than {MAX_YAML_DEPTH} levels deep",
                              self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Budget:
    """Nodes built so far, counting each expansion of an alias: a small file with nested aliases
    (`b: [*a, *a, ...]`) would otherwise expand exponentially."""

    def __init__(self):
        self.nodes = 0

    def spend(self, node) -> None:
        self.nodes += 1
        if self.nodes > MAX_YAML_NODES:
            raise _TooBig(f"the document expands to more than {MAX_YAML_NODES:,} values "
                          "(aliases count each time they are used)", node.start_mark.line + 1)


def _check_expansion(root) -> None:
    """Refuse, before building anything, a document whose aliases expand past MAX_YAML_NODES.

    The composed document shares the node an alias names, so sizes are computed once per node
    (memoised): linear in the file, however large the expansion would be."""
    sizes: dict[int, int] = {}
    visiting: set[int] = set()

    def size(node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in visiting or depth > MAX_YAML_DEPTH:
            raise _TooBig("an alias contains itself", node.start_mark.line + 1)
        visiting.add(key)
        if isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(item, depth + 1) for item in node.value)
        else:
            total = 1
        visiting.discard(key)
        if total > MAX_YAML_NODES:
            raise _TooBig(f"the document expands to more than {MAX_YAML_NODES:,} values "
                          "(aliases count each time they are used)", node.start_mark.line + 1)
        sizes[key] = total
        return total

    size(root, 0)


def read_yaml(text: str, *, file: str | None = None) -> tuple[Any, SourceMap]:
    """Parse YAML, remembering the line of every key; malformed YAML is a SpecError."""
    source = SourceMap(file)
    if len(text) > MAX_SPEC_BYTES:
        raise SpecError([_too_large_file(len(text), file, "characters")])
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, source
        _check_expansion(node)
        issues: list[Issue] = []
        data = _construct(loader, node, (), source, issues, _Budget())
    except _TooBig as error:
        raise SpecError([Issue("too-large", "", error.message, file=file, line=error.line,
                               hint="write the values out plainly; "
                                    "a spec needs no deep nesting or alias trees")]) from None
    except RecursionError:  # a safety net: the depth limit above comes first
        raise SpecError([Issue("too-large", "", "the document is nested too deeply", file=file,
                               hint="write the values out plainly")]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        context, context_mark = getattr(error, "context", None), getattr(error, "context_mark", None)
        if context and context_mark is not None:  # where the unclosed bracket or quote began
            problem += f" ({context} that starts on line {context_mark.line + 1})"
        raise SpecError([Issue(
            "malformed-yaml", "", f"the file is not valid YAML: {problem}",
            hint="check indentation and quoting near this line (tabs are not allowed)",
            file=file, line=mark.line + 1 if mark else None,
        )]) from None
    finally:
        loader.dispose()
    source.pending.extend(issues)  # build_spec reports them along with every other problem
    return data, source


def _too_large_file(size: int, file: str | None, unit: str = "bytes") -> Issue:
    return Issue("too-large", "", f"the spec is {size:,} {unit}, more than the limit of {MAX_SPEC_BYTES:,}",
                 file=file, hint="a spec describes data; it should be a few kilobytes (see docs/security.md)")


def _construct(loader, node, path: Path_, source: SourceMap, issues: list[Issue], budget: _Budget) -> Any:
    budget.spend(node)
    if len(path) > MAX_YAML_DEPTH:  # only reachable through an alias that contains itself
        raise _TooBig("an alias contains itself", node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                issues.append(Issue("wrong-type", dotted(path), "a key must be a plain name, not a list or mapping",
                                    hint="write `name: value`", file=source.file, line=line))
                continue
            key = _scalar(loader, key_node, path, source, issues)
            if isinstance(key, (list, dict)):
                continue
            child = (*path, key)
            source.lines.setdefault(child, line)
            if key in result:
                issues.append(Issue(
                    "duplicate-key", dotted(child), f"key `{key}` is written twice",
                    hint="keep one; YAML would silently use the last", file=source.file,
                    line=line,
                ))
                continue
            result[key] = _construct(loader, value_node, child, source, issues, budget)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            source.lines.setdefault((*path, index), item.start_mark.line + 1)
            items.append(_construct(loader, item, (*path, index), source, issues, budget))
        return items
    return _scalar(loader, node, path, source, issues)


def _scalar(loader, node, path: Path_, source: SourceMap, issues: list[Issue]) -> Any:
    """A scalar's value; one YAML reads but Python cannot hold (2024-13-45, a 5,000-digit
    number) is an issue at its line, and the text as written stands in for it."""
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError:
        raise
    except (ValueError, OverflowError, TypeError) as error:
        issues.append(Issue("bad-value", dotted(path), f"`{_clip(node.value)}` cannot be read: {error}",
                            hint="a date is written 2024-12-31; a number has at most 4,300 digits",
                            file=source.file, line=node.start_mark.line + 1))
        source.unreadable.add(dotted(path))
        return node.value


def _clip(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


# -- mapping → spec --------------------------------------------------------------------------------


def build_spec(data: Any, source: SourceMap | None = None) -> DatasetSpec:
    """Validate a mapping into a DatasetSpec, raising SpecError with every problem found."""
    source = source or SourceMap(None)
    issues: list[Issue] = list(source.pending)
    if not isinstance(data, Mapping):
        raise SpecError([*issues, source.issue(
            "wrong-type", (), "a spec is a mapping with `name`, `seed` and `tables`",
            value=_short(data), hint="start the file with `name: my_dataset`",
        )])
    header = {key: value for key, value in data.items() if key not in ("tables", *_CHECKS_KEYS, *_STORY_KEYS)}
    header_model = _validate(_DatasetHeader, header, (), source, issues, what="the dataset")
    checks = _parse_checks(data, source, issues)
    story = _parse_story(data, source, issues)
    tables: dict[str, TableSpec] = {}
    raw_tables = data.get("tables")
    if raw_tables is None:
        issues.append(source.issue("missing-parameter", ("tables",), "the spec has no `tables`",
                                   hint="add `tables:` with at least one table"))
    elif not isinstance(raw_tables, Mapping) or not raw_tables:
        issues.append(source.issue("wrong-type", ("tables",), "`tables` must map table names to tables",
                                   value=_short(raw_tables),
                                   hint="tables:\n      customers:\n        rows: 1000\n        columns: {...}"))
    else:
        for name, raw in raw_tables.items():
            _check_name_is_text(name, ("tables", name), "table", source, issues)
            table = _build_table(raw, ("tables", name), source, issues)
            if table is not None:
                tables[str(name)] = table
        _check_changes(tables, source, issues)  # formats (issue 13): `changes:` fits its table
        _check_defects(tables, source, issues)  # issue 14: `defects:` fits its table
        _check_partitions(tables, source, issues, header_model.as_of if header_model is not None else None)
    broken = _broken_columns(issues)
    spec = None
    if header_model is not None and raw_tables is not None:
        try:
            # where it came from is given while it is built (for the manifest and later issues), never assigned after
            spec = DatasetSpec.model_validate(
                {**header_model.model_dump(exclude_unset=True), **checks, **story, "tables": tables},
                context={"source": data, "where": source})
        except ValidationError as error:  # only reachable through odd header values
            issues.extend(_from_pydantic(error, (), source, DatasetSpec, "the dataset"))
    as_of = header_model.as_of if header_model is not None else data.get("as_of")
    checked = spec or DatasetSpec.model_construct(  # a broken header must not hide column problems
        as_of=as_of if isinstance(as_of, date) else None, tables=tables, **story)
    issues.extend(check_dataset(checked, source=source, broken=broken, broken_tables=_broken_tables(issues)))
    if source.unreadable:  # the value's own issue says why; "should be a date" would repeat it
        issues = [issue for issue in issues if issue.path not in source.unreadable or issue in source.pending]
    if issues:  # in the file's order, as a reader goes through it (stable: a dict keeps its order)
        spec_error = SpecError(sorted(issues, key=lambda issue: issue.line if issue.line is not None else 0))
        spec_error.partial = _untouched_part(checked, issues, source)
        raise spec_error
    assert spec is not None  # a dataset that failed validation has issues
    return spec


class _DatasetHeader(BaseModel):
    """The dataset's own keys, validated apart from its tables so both report at once."""

    model_config = DatasetSpec.model_config
    name: str = DatasetSpec.model_fields["name"]  # type: ignore[assignment]  # the dataset's own field, constraints and all
    seed: int = DatasetSpec.model_fields["seed"]  # type: ignore[assignment]  # the dataset's own field, constraints and all
    as_of: date | None = DatasetSpec.model_fields["as_of"]  # type: ignore[assignment]  # the dataset's own field, constraints and all
    description: str | None = None
    events_table: str | None = DatasetSpec.model_fields["events_table"]  # type: ignore[assignment]  # the dataset's own field, constraints and all
    also_accepts: ClassVar[tuple[str, ...]] = ("tables", "expect", "validation", "timelines", "events")


_CHECKS_KEYS = ("expect", "validation")
_STORY_KEYS = ("timelines", "events")

# Stand in for a timeline or event that failed to parse, so what names it is not also told it
# does not exist; never reaches a plan, since the broken entry's own issue refuses the spec.
_STAND_INS = {"timelines": TimelineSpec(start=date(2000, 1, 1), end=date(2000, 1, 1), rate=1),
              "events": EventSpec(start=date(2000, 1, 1), end=date(2000, 1, 1))}


def _parse_story(data: Mapping[str, Any], source: SourceMap, issues: list[Issue]) -> dict[str, Any]:
    """`timelines:` and `events:`, each entry on its own so one broken entry never hides another,
    with messages naming a timeline or an event rather than the dataset."""
    story: dict[str, Any] = {}
    for key, model, what in (("timelines", TimelineSpec, "a timeline"), ("events", EventSpec, "an event")):
        raw = data.get(key)
        if raw is None:
            continue
        example = ("support: {start: -12mo, end: today, rate: 25}" if key == "timelines"
                   else "incident: {start: 2024-10-15, end: 2024-10-25, volume: {tickets: 3}}")
        if not isinstance(raw, Mapping):
            issues.append(source.issue("wrong-type", (key,), f"`{key}` maps names to their specs",
                                       value=_short(raw), hint=f"{key}:\n  {example}"))
            continue
        entries = {}
        for name, entry in raw.items():
            _check_name_is_text(name, (key, name), what.split()[-1], source, issues)
            if isinstance(entry, Mapping):
                chosen = MixSpec if key == "timelines" and "mix" in entry else model  # a sum of timelines
                parsed = _validate(chosen, entry, (key, name), source, issues, what=what)
            else:
                parsed = None
                issues.append(source.issue("wrong-type", (key, name), f"{what} is a mapping of its keys",
                                           value=_short(entry), hint=f"e.g. {example}"))
            entries[str(name)] = parsed if parsed is not None else _STAND_INS[key]
        story[key] = entries
    return story


def _parse_checks(data: Mapping[str, Any], source: SourceMap, issues: list[Issue]) -> dict[str, Any]:
    """`expect:` (each expectation on its own, so one broken entry never hides another) and
    `validation:`, with messages naming an expectation rather than the dataset."""
    checks: dict[str, Any] = {}
    if "expect" in data:
        raw = data["expect"]
        if not isinstance(raw, list):
            issues.append(source.issue(
                "wrong-type", ("expect",), "`expect` is a list of named expectations", value=_short(raw),
                hint="expect:\n  - name: most orders complete\n"
                     "    share: {table: orders, column: status, value: completed}\n"
                     "    between: [0.8, 0.9]"))
        else:
            parsed = [_validate(Expectation, item, ("expect", index), source, issues, what="an expectation")
                      if isinstance(item, Mapping) else _not_a_mapping(item, ("expect", index), source, issues)
                      for index, item in enumerate(raw)]
            checks["expect"] = tuple(item for item in parsed if item is not None)
    if "validation" in data:
        settings = data["validation"]
        if isinstance(settings, Mapping):
            model = _validate(ValidationSettings, settings, ("validation",), source, issues, what="`validation`")
        else:
            model = _not_a_mapping(settings, ("validation",), source, issues)
        if model is not None:
            checks["validation"] = model
    return checks


def _not_a_mapping(value: Any, path: Path_, source: SourceMap, issues: list[Issue]) -> Any:  # None: no model
    issues.append(source.issue("wrong-type", path, f"`{path[0]}` entries are mappings", value=_short(value),
                               hint="e.g. {name: most orders complete, sql: \"select ...\", between: [0.8, 0.9]}"
                               if path[0] == "expect" else "e.g. validation: {strict: true}"))
    return None


def _build_table(raw: Any, path: Path_, source: SourceMap, issues: list[Issue]) -> TableSpec | None:
    if not isinstance(raw, Mapping):
        issues.append(source.issue("wrong-type", path, "a table is a mapping with `rows` and `columns`",
                                   value=_short(raw), hint="rows: 1000\n      columns: {...}"))
        return None
    raw_columns = raw.get("columns")
    columns: dict[str, AnyColumn] = {}
    if not isinstance(raw_columns, Mapping) or not raw_columns:
        issues.append(source.issue(
            "missing-parameter" if raw_columns is None else "wrong-type", (*path, "columns"),
            "a table needs `columns`, a mapping of column names to column specs",
            **({} if raw_columns is None else {"value": _short(raw_columns)}),
            hint="columns:\n        id: {kind: sequence}",
        ))
    else:
        for name, column in raw_columns.items():
            _check_name_is_text(name, (*path, "columns", name), "column", source, issues)
            parsed = parse_column(column, (*path, "columns", name), source, issues)
            if parsed is not None:
                columns[str(name)] = parsed
    rest = {key: value for key, value in raw.items() if key not in ("columns", "defects")}
    defects = _parse_defects(raw.get("defects"), (*path, "defects"), source, issues)
    sized = None
    if isinstance(rest.get("rows"), Mapping):
        sized = _parse_sized_rows(rest.pop("rows"), (*path, "rows"), source, issues)
        rest["rows"] = 0  # stands in while the header is validated
    header = _validate(_TableHeader, rest, path, source, issues, what="a table")
    # with a broken header the table is still returned, so its columns get the cross-column
    # checks; build_spec raises anyway because the header's issue is in `issues`
    fields = header.model_dump(exclude_unset=True) if header is not None else {}
    if header is not None and header.changes is not None:
        fields["changes"] = header.changes  # formats (issue 13): keep the model, not its dump
    if sized is not None:
        fields["rows"] = sized
    if defects:
        fields["defects"] = defects
    columns = place_cadence(_place_overrides(columns, fields.get("rows")), fields.get("rows"))
    return TableSpec.model_construct(**fields, columns=columns)


def _parse_sized_rows(raw: Mapping[str, Any], path: Path_, source: SourceMap,
                      issues: list[Issue]) -> PerParent | TimelineRows | None:
    if "timeline" in raw and "every" not in raw:
        return _validate(TimelineRows, raw, path, source, issues, what="`rows` from a timeline")
    if "every" in raw:  # a regular cadence per parent (spec/sequences.py)
        cadence = cadence_rows(raw, path, source, issues)
        if cadence is None:
            return None
        raw = cadence
    return _parse_per_parent(raw, path, source, issues)


def _place_overrides(columns: dict[str, AnyColumn], rows: Any) -> dict[str, AnyColumn]:
    """`during:` overrides without `at:` are placed in time by the table's one timeline column
    (its arrival time when the table's rows come from a timeline); left unset when that is
    ambiguous, which the checks then report."""
    # a time drawn after another (`after:`) follows a row's time; it does not place the row,
    # unless it is the table's only time from a timeline (a purchase after its signup)
    drawn = [name for name, column in columns.items() if getattr(column, "timeline", None)]
    timed = [name for name in drawn if not getattr(columns[name], "after", None)] or drawn
    if isinstance(rows, TimelineRows):
        arrivals = [name for name in timed if getattr(columns[name], "timeline", None) == rows.timeline]
        timed = arrivals or timed
    default = timed[0] if len(timed) == 1 else None
    placed = {}
    for name, column in columns.items():
        if default is not None and any(override.at is None for override in column.during):
            during = tuple(override if override.at else override.model_copy(update={"at": default})
                           for override in column.during)
            column = column.model_copy(update={"during": during})
        placed[name] = column
    return placed


def _parse_per_parent(raw: Mapping[str, Any], path: Path_, source: SourceMap, issues: list[Issue]) -> PerParent | None:
    """`rows: {per: customers, count: ...}`; the count is a column spec drawn per parent row."""
    before = len(issues)
    model = _validate(PerParent, raw, path, source, issues, what="`rows` per parent")
    if model is None or len(issues) > before:
        return None
    count = parse_column(model.count, (*path, "count"), source, issues)
    if count is None:
        return None
    count = as_count(count)
    if not integer_valued(count):
        issues.append(source.issue("bad-value", (*path, "count"), "the count per parent must be a whole number",
                                   hint="e.g. count: 3, count: {kind: poisson, lam: 3}, "
                                        "count: {kind: categorical, values: {0: 90, 1: 10}} or a boolean"))
        return None
    return PerParent(per=model.per, count=count)


class _TableHeader(BaseModel):
    model_config = TableSpec.model_config
    rows: int = Field(ge=0, description="a row count, or {per: parent_table, count: ...}")
    description: str | None = None
    changes: ChangeSpec | None = None  # formats (issue 13)
    partition_by: tuple[str, ...] = ()  # formats (issue 13): Hive-style partition folders
    also_accepts: ClassVar[tuple[str, ...]] = ("columns", "defects")

    @field_validator("partition_by", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return partition_columns(value)


def _parse_defects(raw: Any, path: Path_, source: SourceMap, issues: list[Issue]) -> tuple[DefectSpec, ...]:
    """A table's `defects:` (issue 14): a list of mappings, each validated on its own."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        issues.append(source.issue("wrong-type", path, "`defects` is a list of defects", value=_short(raw),
                                   hint="defects:\n        - {kind: missing, column: customer_id, rate: 0.02}"))
        return ()
    parsed = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            issues.append(source.issue("wrong-type", (*path, index), "a defect is a mapping with `kind` and `rate`",
                                       value=_short(item), hint="- {kind: missing, column: customer_id, rate: 0.02}"))
            continue
        model = _validate(DefectSpec, item, (*path, index), source, issues, what="a defect")
        if model is not None:
            parsed.append(model)
        else:
            parsed.append(DefectSpec.model_construct(kind="?", rate=0.0))  # keeps the indexes of the rest
    return tuple(parsed)


def _check_defects(tables: dict[str, TableSpec], source: SourceMap, issues: list[Issue]) -> None:
    """issue 14: each table's `defects:` names its own columns, with kinds that fit them."""
    for name, table in tables.items():
        defects = getattr(table, "defects", ())
        valid = tuple(defect for defect in defects if defect.kind != "?")
        if defects and getattr(table, "partition_by", ()):
            # a label's `row` is the row's number in the table as written, which partition
            # folders reorder; and validation puts the clean rows back by that number
            issues.append(source.issue("bad-value", ("tables", name, "defects"),
                                       "`defects:` and `partition_by:` cannot be on the same table yet",
                                       hint="drop `partition_by:` from this table, or generate its defects "
                                            "in an unpartitioned copy of the spec"))
        if valid:
            for where, message, hint in defect_issues(name, defects, table.columns):
                if where[:2] in {("defects", i) for i, d in enumerate(defects) if d.kind == "?"}:
                    continue  # that entry already has its own issue
                issues.append(source.issue("bad-value", ("tables", name, *where), message, hint=hint))


def _check_changes(tables: dict[str, TableSpec], source: SourceMap, issues: list[Issue]) -> None:
    """formats (issue 13): a table's `changes:` names its own non-key columns and no existing table."""
    for name, table in tables.items():
        changes = getattr(table, "changes", None)
        if changes is not None:
            for where, message, hint in change_issues(name, changes, table.columns, tables):
                issues.append(source.issue("bad-value", ("tables", name, *where), message, hint=hint))


def _check_partitions(tables: dict[str, TableSpec], source: SourceMap, issues: list[Issue], as_of) -> None:
    """formats (issue 13): `partition_by:` names written columns with few known values (spec/partitions.py)."""
    for name, where, message, hint in partition_issues(tables, as_of, frozenset(_broken_columns(issues))):
        issues.append(source.issue("bad-partition", ("tables", name, *where), message, hint=hint))


# -- columns ---------------------------------------------------------------------------------------


def parse_column(raw: Any, path: Path_, source: SourceMap, issues: list[Issue]) -> AnyColumn | None:
    """One column spec, or None with its problems appended to `issues`."""
    if isinstance(raw, ColumnSpec | ConditionalColumn):
        return raw
    if not isinstance(raw, Mapping):
        if isinstance(raw, list) or raw is None:
            issues.append(source.issue(
                "wrong-type", path, "a column is a mapping with a `kind` and its parameters",
                value=_short(raw), hint="e.g. {kind: lognormal, mean: 3, sigma: 0.5}",
            ))
            return None
        raw = {"kind": "constant", "value": raw}  # `country: US` is a constant
    if "during" in raw:
        return _parse_with_events(raw, path, source, issues)
    if "by" in raw or "cases" in raw:
        return _parse_conditional(raw, path, source, issues)
    return _parse_plain(raw, path, source, issues)


def _parse_with_events(raw: Mapping[str, Any], path: Path_, source: SourceMap, issues: list[Issue]) -> AnyColumn | None:
    """A column with `during: {event: {...}}`: each override is a column spec of its own that
    inherits the column's kind and parameters (not its `by`/`cases`) and replaces what it names."""
    base_raw = {key: value for key, value in raw.items() if key != "during"}
    base = parse_column(base_raw, path, source, issues)
    during_raw = raw["during"]
    if not isinstance(during_raw, Mapping) or not during_raw:
        issues.append(source.issue(
            "wrong-type", (*path, "during"), "`during` maps event names to how the column is drawn in them",
            value=_short(during_raw), hint="during:\n          incident: {values: {Authentication: 65, Network: 35}}"))
        return None
    inherited = {key: value for key, value in base_raw.items() if key not in (*CONDITIONAL_KEYS, "unique")}
    overrides = []
    for event, entry in during_raw.items():
        entry_path = (*path, "during", event)
        if not isinstance(entry, Mapping):
            entry = {"kind": "constant", "value": entry}  # `during: {outage: 0}`
        window = {key: entry[key] for key in EventOverride.reserved if key in entry}
        changes = {key: value for key, value in entry.items() if key not in EventOverride.reserved}
        if not changes:
            issues.append(source.issue(
                "missing-parameter", entry_path, f"the override for `{event}` does not say what changes",
                hint="name the parameters that differ during the event, e.g. values: {...} or scale: 24"))
            continue
        if "during" in changes:
            issues.append(source.issue("bad-value", (*entry_path, "during"),
                                       "an override cannot have overrides of its own",
                                       hint="list every event under the column's own `during:`"))
            continue
        own_kind = "kind" in changes and changes["kind"] != inherited.get("kind")
        merged = dict(changes) if own_kind else {**inherited, **changes}
        column = parse_column(merged, entry_path, source, issues)
        override = _validate(EventOverride, {"event": str(event), "column": column, **window}, entry_path,
                             source, issues, what="an event override")
        if column is not None and override is not None:
            overrides.append(override)
    if base is None or len(overrides) != len(during_raw):
        return None
    return base.model_copy(update={"during": tuple(overrides)})


def _parse_plain(raw: Mapping[str, Any], path: Path_, source: SourceMap, issues: list[Issue]) -> ColumnSpec | None:
    kind = raw.get("kind")
    if kind is None:
        issues.append(source.issue(
            "missing-kind", path, "the column has no `kind`",
            hint=f"add `kind:` with one of: {', '.join(sorted(COLUMN_KINDS))}",
        ))
        return None
    model = COLUMN_KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        hint = did_you_mean(str(kind), COLUMN_KINDS) or f"known kinds: {', '.join(sorted(COLUMN_KINDS))}"
        issues.append(source.issue("unknown-kind", (*path, "kind"), "unknown column kind",
                                   value=kind, hint=hint))
        return None
    if kind == "python" and source.file is not None:
        issues.append(source.issue(
            "python-in-file", (*path, "kind"), "`python` columns run code, so a spec file cannot declare them",
            hint="use an `expression` or `template` column, or build this column in Python",
        ))
        return None
    return _validate(model, raw, path, source, issues, what=f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} column")


def _parse_conditional(raw: Mapping[str, Any], path: Path_, source: SourceMap,
                       issues: list[Issue]) -> ConditionalColumn | None:
    shared = {key: value for key, value in raw.items() if key not in (*CONDITIONAL_KEYS, *MODIFIERS)}
    outer = {key: value for key, value in raw.items() if key in (*CONDITIONAL_KEYS, *MODIFIERS)}
    before = len(issues)
    if not isinstance(raw.get("by"), str):
        issues.append(source.issue(
            "missing-parameter" if "by" not in raw else "wrong-type", (*path, "by"),
            "conditional parameters need `by:`, the column they depend on",
            **({"value": raw["by"]} if "by" in raw else {}), hint="e.g. by: tier",
        ))
    cases_raw = raw.get("cases")
    cases: list[tuple[Any, ColumnSpec]] = []
    if not isinstance(cases_raw, Mapping) or not cases_raw:
        issues.append(source.issue(
            "missing-parameter" if cases_raw is None else "wrong-type", (*path, "cases"),
            "`by:` needs `cases:`, one set of parameters per value of the `by` column",
            **({} if cases_raw is None else {"value": _short(cases_raw)}),
            hint="cases:\n          Enterprise: {mean: 11, sigma: 0.5}\n          Pro: {mean: 8, sigma: 0.6}",
        ))
    else:
        for key, case in cases_raw.items():
            branch = _parse_branch(shared, case, (*path, "cases", key), source, issues)
            if branch is not None:
                cases.append((key, branch))
    default = None
    if raw.get("default") is not None:
        default = _parse_branch(shared, raw["default"], (*path, "default"), source, issues)
    _lift_shared(issues, before, shared, raw, path, source)
    if len(issues) > before:
        return None
    outer.pop("cases", None)
    outer.pop("default", None)
    return _validate(ConditionalColumn, {**outer, "cases": tuple(cases), "default": default},
                     path, source, issues, what="a conditional column")


def _lift_shared(issues: list[Issue], start: int, shared: Mapping[str, Any], raw: Mapping[str, Any],
                 path: Path_, source: SourceMap) -> None:
    """A problem with a key written once, at the column level, is reported once and there,
    not once per case that inherits it."""
    branches = [((*path, "cases", key), case) for key, case in (raw.get("cases") or {}).items()] \
        if isinstance(raw.get("cases"), Mapping) else []
    if raw.get("default") is not None:
        branches.append(((*path, "default"), raw["default"]))
    inherited = {}
    for branch_path, case in branches:
        if isinstance(case, Mapping) and case.get("kind", shared.get("kind")) == shared.get("kind"):
            for key in shared:
                if key not in case:
                    inherited[dotted((*branch_path, key))] = key
    lifted, seen = [], set()
    for issue in issues[start:]:
        inherited_key = inherited.get(issue.path)
        if inherited_key is not None:
            issue = dataclasses.replace(issue, path=dotted((*path, inherited_key)),
                                        line=source.line((*path, inherited_key)))
        if (issue.code, issue.path, issue.message) not in seen:
            seen.add((issue.code, issue.path, issue.message))
            lifted.append(issue)
    issues[start:] = lifted


def _parse_branch(shared: Mapping[str, Any], case: Any, path: Path_, source: SourceMap,
                  issues: list[Issue]) -> ColumnSpec | None:
    """A case inherits the column's kind and parameters unless it names another kind."""
    if not isinstance(case, Mapping):
        case = {"kind": "constant", "value": case}  # `Free: 0`
    if "kind" in case and case["kind"] != shared.get("kind"):
        merged = dict(case)
    else:
        merged = {**shared, **case}
    parsed = _parse_plain(merged, path, source, issues)
    return parsed if parsed is None or isinstance(parsed, ColumnSpec) else None


# -- pydantic errors → issues ----------------------------------------------------------------------


def _validate(model: type[BaseModel], raw: Mapping[str, Any], path: Path_, source: SourceMap,
              issues: list[Issue], *, what: str):
    try:
        return model.model_validate(dict(raw))
    except ValidationError as error:
        issues.extend(_from_pydantic(error, path, source, model, what))
        return None
    except (TypeError, AttributeError, KeyError, OverflowError) as error:
        # a validator met a value of a type it never expected (a mapping where a list of plain
        # values belongs): still one issue at this path, never a traceback
        issues.append(source.issue("wrong-type", path, f"{what} has a value of the wrong type ({error})",
                                   hint="lists hold plain values (text, numbers, dates); check the nesting"))
        return None


def _from_pydantic(error: ValidationError, path: Path_, source: SourceMap,
                   model: type[BaseModel], what: str) -> list[Issue]:
    found = []
    details = _merge_unions(error.errors(include_url=False))
    known = [name for name in _field_names(model) if name not in ("kind",)]
    # a misspelt key (`sigmma`) is one problem, not also a missing `sigma`: its hint names the fix
    guessed = {_closest(str(detail["loc"][-1]), known) for detail in details
               if detail["type"] == "extra_forbidden" and len(detail["loc"]) == 1}
    for detail in details:
        loc = detail["loc"]
        where = (*path, *loc)
        kind = detail["type"]
        field = str(loc[-1]) if loc else ""
        if kind == "extra_forbidden":
            found.append(source.issue(
                "unknown-key", where, f"unknown key `{field}` for {what}",
                hint=did_you_mean(field, known) or f"{what} accepts: {', '.join(known)}",
            ))
        elif kind == "missing":
            if len(loc) == 1 and field in guessed:
                continue
            found.append(source.issue(
                "missing-parameter", where, f"{what} needs `{field}`",
                hint=_describe_field(model, field) or f"add `{field}: ...`",
            ))
        else:
            found.append(source.issue(
                "bad-value" if kind in _VALUE_ERRORS else "wrong-type", where,
                _message(detail, field, what),
                # a whole-column check (loc empty) got the whole mapping: its message names the values
                **({"value": _short(detail.get("input"))} if loc else {}),
                hint=_split_hint(detail)[1] or (_describe_field(model, str(loc[0])) if loc else None),
            ))
    return found


_VALUE_ERRORS = {"value_error", "greater_than", "greater_than_equal", "less_than", "less_than_equal",
                 "literal_error", "assertion_error"}

# pydantic's tags for the members of a union such as `str | int | float | bool | date`
_TYPE_WORDS = {"str": "text", "int": "a whole number", "float": "a number", "bool": "true or false",
               "date": "a date like 2024-01-01", "datetime": "a date and time", "none": "empty"}


def _merge_unions(details: list[Any]) -> list[dict]:
    """One error per key: pydantic reports a value that fits no member of a union once per member."""
    merged: dict[tuple, dict] = {}
    for detail in details:
        loc = tuple(part for part in detail["loc"] if not _is_union_tag(part))
        tag = loc[-1] if len(loc) > 1 and loc[-1] in _TYPE_WORDS else None
        key = loc[:-1] if tag else loc
        if tag is None:
            merged.setdefault((key, detail["type"]), {**detail, "loc": key})
            continue
        union = merged.setdefault((key, "union"), {**detail, "loc": key, "type": "union_type", "expected": []})
        if detail["type"].endswith("_type"):  # a value of another type entirely
            union["expected"].append(_TYPE_WORDS[tag])
        else:  # the right type but an unusable value (`x` for a number): say that one
            union["expected"] = [_TYPE_WORDS[tag]] + union["expected"]
            union.setdefault("parsing", detail)
    out = []
    for detail in merged.values():
        if detail["type"] == "union_type" and len(detail["expected"]) == 1 and "parsing" in detail:
            detail = {**detail["parsing"], "loc": detail["loc"]}
        out.append(detail)
    return out


def _message(detail: dict, field: str, what: str) -> str:
    """pydantic's message in the user's words: the key, then what it should be."""
    kind, message = detail["type"], detail["msg"]
    subject = f"`{field}`" if field else what
    if kind in ("value_error", "assertion_error"):  # our validators' messages, written for people
        message = _split_hint(detail)[0]
        return message if field else f"{what}: {message}"
    if kind == "union_type":
        words = list(dict.fromkeys(detail["expected"]))
        if "a number" in words and "a whole number" in words:
            words.remove("a whole number")
        expected = (words[0] if len(words) == 1
                    else ", ".join(words[:-1]) + (", or " if len(words) > 2 else " or ") + words[-1])
        return f"{subject} should be {expected}"
    for prefix, expected in (("model", "a mapping of keys to values"), ("dict", "a mapping of keys to values"),
                             ("date", "a date like 2024-01-01"), ("int", "a whole number"),
                             ("float", "a number"), ("bool", "true or false"), ("string", "text"),
                             ("list", "a list")):
        if kind.startswith(prefix) and (kind.endswith(("_type", "_parsing")) or kind == "int_from_float"):
            return f"{subject} should be {expected}"
    return f"{subject} {message.removeprefix('Input ')}" if message.startswith("Input ") else f"{subject}: {message}"


def _split_hint(detail: dict) -> tuple[str, str | None]:
    """A validator's `message — hint` (see columns._parse_or_raise) as (message, hint)."""
    message = detail["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if detail["type"] not in ("value_error", "assertion_error") or " — " not in message:
        return message, None
    text, hint = message.split(" — ", 1)
    return text, hint


def _closest(word: str, choices: list[str]) -> str | None:
    hint = did_you_mean(word, choices)
    return hint.split("`")[1] if hint else None


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and ("[" in part or part in ("function-after", "function-before"))


def _field_names(model: type[BaseModel]) -> list[str]:
    return [*model.model_fields, *getattr(model, "also_accepts", ())]


def _describe_field(model: type[BaseModel], field: str) -> str | None:
    """A hint saying what a key takes, in YAML words (never a Python type or class name)."""
    info = model.model_fields.get(field)
    if info is None:
        return None
    if info.description:
        return f"`{field}`: {info.description}"
    words = _type_words(info.annotation)
    return f"`{field}` takes {words}" if words else None


def _type_words(annotation: Any) -> str | None:
    if annotation == DateBound:
        return "a date like 2024-01-01, `today`, or an offset from as_of such as -30d, -6mo, -2y"
    if annotation is Clip:
        return "bounds: {min: .., max: ..} or [min, max]; either may be left out"
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal:
        return "one of: " + ", ".join(map(str, args))
    if origin in (typing.Union, types.UnionType):
        parts = [_type_words(arg) for arg in args if arg is not type(None)]
        words = [part for part in parts if part]
        return " or ".join(words) if parts and len(words) == len(parts) else None
    return {int: "a whole number", float: "a number", bool: "true or false",
            date: "a date like 2024-01-01"}.get(annotation)


def _check_name_is_text(name: Any, path: Path_, what: str, source: SourceMap, issues: list[Issue]) -> None:
    """YAML reads an unquoted `on`, `no`, `yes`, `true` or `1` as a boolean or number, not a name."""
    if isinstance(name, bool):
        issues.append(source.issue(
            "bad-name", path, f"the {what} name was read as {str(name).lower()}, not as a name", value=name,
            hint="quote it, e.g. 'on': YAML reads unquoted on, off, yes, no, true and false as true/false",
        ))
    elif not isinstance(name, str):
        issues.append(source.issue(
            "bad-name", path, f"the {what} name was read as a {'date' if isinstance(name, date) else 'number'}, "
            "not as a name", value=_short(name), hint=f"quote it, e.g. '{_short(name)}':",
        ))


def _short(value: Any) -> Any:
    if isinstance(value, date):  # shown as written, not as Python's datetime.date(...)
        return value.isoformat()
    text = repr(value)
    return value if len(text) <= 80 else text[:77] + "..."


# -- entry points -----------------------------------------------------------------------------------


def load_text(text: str, *, file: str | None = None) -> DatasetSpec:
    data, source = read_yaml(text, file=file)
    return build_spec(data, source)


def load_file(path: str | Path) -> DatasetSpec:
    path = Path(path)
    return load_text(read_spec_file(path), file=str(path))


def read_spec_file(path: Path) -> str:
    """A spec file's text: a regular file of at most MAX_SPEC_BYTES, in UTF-8. Devices, pipes
    and folders are refused before anything is read; the read itself stops at the limit."""
    file = str(path)

    def refuse(code: str, message: str, hint: str, line: int | None = None) -> SpecError:
        return SpecError([Issue(code, "", message, file=file, line=line, hint=hint)])

    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then says what it is
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as error:
        raise refuse("unreadable-file", f"cannot read the spec file: {error.strerror or error}",
                     "check the path") from None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            what = "a folder" if stat.S_ISDIR(info.st_mode) else "a device, pipe or socket"
            raise refuse("unreadable-file", f"cannot read the spec file: it is {what}, not a regular file",
                         "give the path of a YAML file")
        if info.st_size > MAX_SPEC_BYTES:
            raise SpecError([_too_large_file(info.st_size, file)])
        chunks, size = [], 0
        while size <= MAX_SPEC_BYTES:
            chunk = os.read(handle, MAX_SPEC_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        raise refuse("unreadable-file", f"cannot read the spec file: {error.strerror or error}",
                     "check the path and its permissions") from None
    finally:
        os.close(handle)
    data = b"".join(chunks)
    if len(data) > MAX_SPEC_BYTES:  # it grew after fstat
        raise SpecError([_too_large_file(len(data), file)])
    return decode_spec(data, file=file)


_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
         (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


def decode_spec(data: bytes, *, file: str | None = None) -> str:
    """UTF-8 text (a UTF-8 byte-order mark is dropped); anything else is a `bad-encoding` issue
    that says what the file seems to be and how to fix it."""

    def refuse(message: str, hint: str, line: int | None = None) -> SpecError:
        return SpecError([Issue("bad-encoding", "", message, file=file, line=line, hint=hint)])

    for bom, name in _BOMS:
        if data.startswith(bom):
            raise refuse(f"the file is {name} text; fabula reads specs in UTF-8",
                         "save it as UTF-8 (in most editors: Save As… > Encoding > UTF-8)")
    head = data[:4096]
    if b"\x00" in head:
        if len(head) > 8 and (head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4):
            raise refuse("the file looks like UTF-16 text; fabula reads specs in UTF-8",
                         "save it as UTF-8 (in most editors: Save As… > Encoding > UTF-8)")
        raise refuse("the file is binary (it contains NUL bytes), not YAML text",
                     "give the path of a YAML spec; `fabula scenarios retail` prints an example")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        byte = data[error.start]
        raise refuse(f"the file is not UTF-8 text: byte 0x{byte:02x} on line {line} cannot be read",
                     "save it as UTF-8; it may be Latin-1 or Windows-1252", line=line) from None


def _untouched_part(spec: DatasetSpec, issues: list[Issue], source: SourceMap) -> DatasetSpec | None:
    """The part of a refused spec that no issue touches, with everything that reads a touched
    column or table left out too, so that compiling it finds the remaining, independent problems
    (an expression's types, a uniqueness that cannot hold) without knock-on errors. None when an
    issue is outside the tables (timelines, events, expectations): then the rest waits."""
    touched_columns: set[tuple[str, str]] = set()
    touched_tables: set[str] = set()
    for issue in issues:
        parts = issue.path.split(".") if issue.path else []
        if not parts or parts[0] in ("name", "seed", "description", "as_of"):
            continue
        if parts[0] != "tables" or len(parts) < 2:
            return None
        if len(parts) >= 4 and parts[2] == "columns":
            touched_columns.add((parts[1], parts[3]))
        else:
            touched_tables.add(parts[1])
    from fabula.spec.relations import AggregateColumn, ReferenceColumn

    def parents(table) -> set[str]:  # as written, whether or not those tables exist
        found = {table.rows.per} if isinstance(getattr(table, "rows", None), PerParent) else set()
        return found | {column.parent[0] for column in table.columns.values() if isinstance(column, ReferenceColumn)}

    tables = dict(spec.tables)
    changed = True
    while changed:  # drop what reads anything dropped, until nothing more goes
        changed = False
        for name in list(tables):
            if name in touched_tables or any(parent != name and parent not in tables
                                             for parent in parents(tables[name])):
                tables.pop(name)
                touched_tables.add(name)
                changed = True
                continue
            count = getattr(tables[name].rows, "count", None)
            rows = tables[name].rows
            if isinstance(rows, PerParent) and count is not None and hasattr(count, "refs") and any(
                    ref not in tables.get(rows.per, tables[name]).columns for ref in count.refs()):
                tables.pop(name)  # its count reads a parent column that is dropped
                touched_tables.add(name)
                changed = True
                continue
            columns = dict(tables[name].columns)

            def dropped_parent_column(column) -> bool:  # `fk.column` of a parent column left out
                for ref in column.refs():
                    reference, _, parent_column = ref.partition(".")
                    owner = columns.get(reference)  # noqa: B023 - called only within this iteration
                    if parent_column and isinstance(owner, ReferenceColumn) and (
                            owner.parent[0] not in tables or parent_column not in tables[owner.parent[0]].columns):
                        return True
                return False

            for column_name, column in list(columns.items()):
                reads = {ref.split(".", 1)[0] for ref in column.depends_on()}
                child = column.child if isinstance(column, AggregateColumn) else None
                target = column.parent if isinstance(column, ReferenceColumn) else None
                if (name, column_name) in touched_columns or any(ref not in columns for ref in reads) \
                        or dropped_parent_column(column) \
                        or (child is not None and (child[0] not in tables or child[1] is not None
                                                   and child[1] not in tables[child[0]].columns)) \
                        or (target is not None and (target[0] not in tables
                                                    or target[1] not in tables[target[0]].columns)):
                    columns.pop(column_name)
                    touched_columns.add((name, column_name))
                    changed = True
            if not columns:
                tables.pop(name)
                touched_tables.add(name)
            elif len(columns) != len(tables[name].columns):
                tables[name] = tables[name].model_copy(update={"columns": columns})
    if not tables:
        return None
    partial = DatasetSpec.model_construct(
        name=getattr(spec, "name", None) or "partial", seed=getattr(spec, "seed", 0) or 0,
        as_of=getattr(spec, "as_of", None), description=None, events_table=None, expect=(),
        timelines=getattr(spec, "timelines", {}) or {}, events=getattr(spec, "events", {}) or {},
        validation=ValidationSettings(), tables=tables, _where=source)  # type: ignore[call-arg]  # a private attribute
    return partial


def _broken_tables(issues: list[Issue]) -> set[str]:
    """Tables whose columns are unknown (the table, or its `columns`, failed to parse): what
    refers to them is not told they or their columns do not exist."""
    found = set()
    for issue in issues:
        parts = issue.path.split(".")
        if parts[0] == "tables" and (len(parts) == 2 or (len(parts) == 3 and parts[2] == "columns")):
            found.add(parts[1])
    return found


def _broken_columns(issues: list[Issue]) -> set[tuple[str, str]]:
    """(table, column) pairs that failed to parse: they exist, so references to them are fine."""
    broken = set()
    for issue in issues:
        parts = issue.path.split(".")
        if len(parts) >= 4 and parts[0] == "tables" and parts[2] == "columns":
            broken.add((parts[1], parts[3]))
    return broken
