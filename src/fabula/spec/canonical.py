"""A spec back from its canonical form (what the manifest stores under "spec").

`DatasetSpec.canonical()` is JSON: model fields in order, defaults written out, conditional
cases as [key, spec] pairs, and mapping keys as text. `from_canonical` turns that back into the
form a spec file writes and loads it like one, so `fabula validate DIR` can rebuild the exact
plan that wrote DIR. Keys that JSON turned into text (categorical values such as 1 or
2024-01-01, reference weights) get their type back from the column types the manifest records.
The result is checked: its own canonical form must equal the one it was built from, else
ValueError says why; a spec the loader refuses raises SpecError as a spec file would.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

ColumnTypes = Mapping[str, Mapping[str, str]]
"""table → column → Arrow type as the manifest writes it (`int64`, `date32[day]`, …)."""


def from_canonical(canonical: Mapping[str, Any], *, column_types: ColumnTypes | None = None):
    """The DatasetSpec whose `canonical()` is `canonical`.

    >>> import fabula
    >>> spec = fabula.load_spec("retail")
    >>> from_canonical(spec.canonical()).spec_hash() == spec.spec_hash()
    True
    """
    from fabula.spec.load import build_spec

    types = column_types or {}
    data = {key: _plain(value) for key, value in canonical.items() if key != "tables"}
    data = {key: value for key, value in data.items() if not _empty(value)}
    data["tables"] = {name: _table(name, table, canonical["tables"], types)
                      for name, table in canonical.get("tables", {}).items()}
    spec = build_spec(data)
    if spec.canonical() != _jsonish(canonical):
        raise ValueError("its spec does not rebuild into itself (edited by hand, or written by another "
                         "fabula version)")
    return spec


def _table(name: str, table: Mapping[str, Any], tables: Mapping[str, Any], types: ColumnTypes) -> dict:
    out = {key: _plain(value) for key, value in table.items() if key not in ("columns", "rows")}
    rows = table["rows"]
    out["rows"] = rows if not isinstance(rows, Mapping) else {
        key: (_column(value, None, None) if key == "count" else _plain(value))
        for key, value in rows.items() if not _empty(value)}
    out["columns"] = {column: _column(spec, types.get(name, {}).get(column),
                                      _weight_type(spec, tables, types))
                      for column, spec in table["columns"].items()}
    return {key: value for key, value in out.items() if not _empty(value)}


def _column(spec: Mapping[str, Any], arrow_type: str | None, weight_type: str | None) -> dict:
    """One column in YAML form: no empty keys, cases as a mapping, `from` as written."""
    if isinstance(spec.get("fn"), str) and spec.get("kind") == "python":
        raise ValueError("the data was generated with a `python` column, whose code a manifest cannot carry")
    out: dict[str, Any] = {}
    for key, value in spec.items():
        if _empty(value):
            continue
        if key == "cases":
            value = {case: _column(branch, arrow_type, weight_type) for case, branch in value}
        elif key == "default":
            value = _column(value, arrow_type, weight_type)
        elif key == "during":
            value = {override["event"]: {**_column(override["column"], arrow_type, weight_type),
                                         **{k: _plain(v) for k, v in override.items()
                                            if k not in ("event", "column") and not _empty(v)}}
                     for override in value}
        elif key == "values" and spec.get("kind") == "categorical":
            value = {_typed(level, arrow_type): weight for level, weight in value.items()}
        elif key == "weights" and spec.get("kind") == "reference":
            value = {_typed(level, weight_type): weight for level, weight in value.items()}
        elif key == "from_":
            key = "from"
        else:
            value = _plain(value)
        out[key] = value
    return out


def _weight_type(spec: Mapping[str, Any], tables: Mapping[str, Any], types: ColumnTypes) -> str | None:
    """The type of the parent column a weighted reference draws by."""
    if spec.get("kind") != "reference" or not spec.get("weight_by"):
        return None
    parent = str(spec.get("to", "")).split(".", 1)[0]
    return types.get(parent, {}).get(spec["weight_by"])


def _typed(level: Any, arrow_type: str | None) -> Any:
    """A mapping key JSON wrote as text, as the value the column holds."""
    if not isinstance(level, str) or arrow_type is None:
        return level
    try:
        if arrow_type.startswith(("int", "uint")):
            return int(level)
        if arrow_type in ("double", "float", "float64"):
            return float(level)
        if arrow_type == "bool":
            return {"true": True, "false": False}.get(level.lower(), level)
        if arrow_type.startswith("date32"):
            return date.fromisoformat(level)
    except ValueError:
        return level
    return level


def _plain(value: Any) -> Any:
    """Nested mappings and lists without None or empty entries (the loader's defaults)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items() if not _empty(item)}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, (list, dict)) and not value)


def _jsonish(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value))
