"""Loading a spec: YAML text (with line numbers) or a mapping → `DatasetSpec`, or every problem.

Loose input is coerced here, once (CONVENTIONS 5). Each column is validated on its own, so a
broken column never hides the problems of the others; then the cross-column checks run on
what parsed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
import dataclasses
import types
import typing
from typing import Any, ClassVar, Literal, Mapping

import yaml
from pydantic import BaseModel, Field, ValidationError

from fabula.errors import Issue, SpecError, did_you_mean
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
from fabula.spec.expectations import Expectation, ValidationSettings
from fabula.spec.model import DatasetSpec, TableSpec
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


def read_yaml(text: str, *, file: str | None = None) -> tuple[Any, SourceMap]:
    """Parse YAML, remembering the line of every key; malformed YAML is a SpecError."""
    source = SourceMap(file)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, source
        issues: list[Issue] = []
        data = _construct(loader, node, (), source, issues)
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


def _construct(loader, node, path: Path_, source: SourceMap, issues: list[Issue]) -> Any:
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            child = (*path, key)
            source.lines.setdefault(child, key_node.start_mark.line + 1)
            if key in result:
                issues.append(Issue(
                    "duplicate-key", dotted(child), f"key `{key}` is written twice",
                    hint="keep one; YAML would silently use the last", file=source.file,
                    line=key_node.start_mark.line + 1,
                ))
                continue
            result[key] = _construct(loader, value_node, child, source, issues)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            source.lines.setdefault((*path, index), item.start_mark.line + 1)
            items.append(_construct(loader, item, (*path, index), source, issues))
        return items
    return loader.construct_object(node, deep=True)


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
                                   value=_short(raw_tables), hint="tables:\n      customers:\n        rows: 1000\n        columns: {...}"))
    else:
        for name, raw in raw_tables.items():
            _check_name_is_text(name, ("tables", name), "table", source, issues)
            table = _build_table(raw, ("tables", name), source, issues)
            if table is not None:
                tables[str(name)] = table
    broken = _broken_columns(issues)
    spec = None
    if header_model is not None and raw_tables is not None:
        try:
            spec = DatasetSpec(**header_model.model_dump(exclude_unset=True), **checks, **story, tables=tables)
        except ValidationError as error:  # only reachable through odd header values
            issues.extend(_from_pydantic(error, (), source, DatasetSpec, "the dataset"))
    as_of = header_model.as_of if header_model is not None else data.get("as_of")
    checked = spec or DatasetSpec.model_construct(  # a broken header must not hide column problems
        as_of=as_of if isinstance(as_of, date) else None, tables=tables, **story)
    issues.extend(check_dataset(checked, source=source, broken=broken))
    if issues:  # in the file's order, as a reader goes through it (stable: a dict keeps its order)
        raise SpecError(sorted(issues, key=lambda issue: issue.line if issue.line is not None else 0))
    spec._source = data  # private: remembered for the manifest, not part of the value
    spec._where = source
    return spec


class _DatasetHeader(BaseModel):
    """The dataset's own keys, validated apart from its tables so both report at once."""

    model_config = DatasetSpec.model_config
    name: str = DatasetSpec.model_fields["name"]
    seed: int = DatasetSpec.model_fields["seed"]
    as_of: date | None = DatasetSpec.model_fields["as_of"]
    description: str | None = None
    events_table: str | None = DatasetSpec.model_fields["events_table"]
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
                hint="expect:\n  - name: most orders complete\n    share: {table: orders, column: status, value: completed}\n"
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


def _not_a_mapping(value: Any, path: Path_, source: SourceMap, issues: list[Issue]) -> None:
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
    rest = {key: value for key, value in raw.items() if key != "columns"}
    sized = None
    if isinstance(rest.get("rows"), Mapping):
        sized = _parse_sized_rows(rest.pop("rows"), (*path, "rows"), source, issues)
        rest["rows"] = 0  # stands in while the header is validated
    header = _validate(_TableHeader, rest, path, source, issues, what="a table")
    # with a broken header the table is still returned, so its columns get the cross-column
    # checks; build_spec raises anyway because the header's issue is in `issues`
    fields = header.model_dump(exclude_unset=True) if header is not None else {}
    if sized is not None:
        fields["rows"] = sized
    columns = place_cadence(_place_overrides(columns, fields.get("rows")), fields.get("rows"))
    return TableSpec.model_construct(**fields, columns=columns)


def _parse_sized_rows(raw: Mapping[str, Any], path: Path_, source: SourceMap,
                      issues: list[Issue]) -> PerParent | TimelineRows | None:
    if "timeline" in raw and "every" not in raw:
        return _validate(TimelineRows, raw, path, source, issues, what="`rows` from a timeline")
    if "every" in raw:  # a regular cadence per parent (spec/sequences.py)
        raw = cadence_rows(raw, path, source, issues)
        if raw is None:
            return None
    return _parse_per_parent(raw, path, source, issues)


def _place_overrides(columns: dict[str, AnyColumn], rows: Any) -> dict[str, AnyColumn]:
    """`during:` overrides without `at:` are placed in time by the table's one timeline column
    (its arrival time when the table's rows come from a timeline); left unset when that is
    ambiguous, which the checks then report."""
    # a time drawn after another (`after:`) follows a row's time; it does not place the row
    timed = [name for name, column in columns.items()
             if getattr(column, "timeline", None) and not getattr(column, "after", None)]
    if isinstance(rows, TimelineRows):
        arrivals = [name for name in timed if columns[name].timeline == rows.timeline]
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
    also_accepts: ClassVar[tuple[str, ...]] = ("columns",)


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
            issues.append(source.issue("bad-value", (*entry_path, "during"), "an override cannot have overrides of its own",
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


def _parse_conditional(raw: Mapping[str, Any], path: Path_, source: SourceMap, issues: list[Issue]) -> ConditionalColumn | None:
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
            **({} if cases_raw is None else {"value": _short(cases_raw)}), hint="cases:\n          Enterprise: {mean: 11, sigma: 0.5}\n          Pro: {mean: 8, sigma: 0.6}",
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
        key = inherited.get(issue.path)
        if key is not None:
            issue = dataclasses.replace(issue, path=dotted((*path, key)), line=source.line((*path, key)))
        if (issue.code, issue.path, issue.message) not in seen:
            seen.add((issue.code, issue.path, issue.message))
            lifted.append(issue)
    issues[start:] = lifted


def _parse_branch(shared: Mapping[str, Any], case: Any, path: Path_, source: SourceMap, issues: list[Issue]) -> ColumnSpec | None:
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


def _merge_unions(details: list[dict]) -> list[dict]:
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
        expected = words[0] if len(words) == 1 else ", ".join(words[:-1]) + (", or " if len(words) > 2 else " or ") + words[-1]
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
        return " or ".join(parts) if parts and all(parts) else None
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
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SpecError([Issue("unreadable-file", "", f"cannot read the spec file: {error.strerror}",
                               file=str(path), hint="check the path")]) from None
    return load_text(text, file=str(path))


def _broken_columns(issues: list[Issue]) -> set[tuple[str, str]]:
    """(table, column) pairs that failed to parse: they exist, so references to them are fine."""
    broken = set()
    for issue in issues:
        parts = issue.path.split(".")
        if len(parts) >= 4 and parts[0] == "tables" and parts[2] == "columns":
            broken.add((parts[1], parts[3]))
    return broken
