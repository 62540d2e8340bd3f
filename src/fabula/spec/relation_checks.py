"""Checks of relations between tables: references point at keys that exist, reads through a
reference name real parent columns, tables sized per parent and aggregates agree, and tables do
not depend on each other in a cycle."""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING

from fabula.errors import Issue, did_you_mean
from fabula.spec.columns import (
    AnyColumn,
    BooleanColumn,
    CategoricalColumn,
    ConditionalColumn,
)
from fabula.spec.graph import topological_order
from fabula.spec.relations import AggregateColumn, LookupColumn, PerParent, ReferenceColumn, split_target

if TYPE_CHECKING:
    from fabula.spec.model import DatasetSpec


def _is_key(column: AnyColumn) -> bool:
    """A kind whose values are computed from the row number (its model says `key`)."""
    return getattr(column, "key", False)


def check_relations(spec: DatasetSpec, source, *, broken: AbstractSet[tuple[str, str]] = frozenset(),
                    broken_tables: AbstractSet[str] = frozenset()) -> list[Issue]:
    """Problems of references, lookups, aggregates and tables sized per parent. What points into a
    table or column that failed to parse (`broken_tables`, `broken`) is not reported again: the
    broken part's own issue says what to fix."""
    issues = _relation_issues(spec, source)
    return [issue for issue in issues if not _knock_on(issue, spec, broken, broken_tables)]


def _knock_on(issue: Issue, spec, broken, broken_tables) -> bool:
    if issue.code not in ("unknown-table", "unknown-column", "not-a-key", "unknown-reference",
                          "unknown-case", "missing-case"):
        return False
    parts = issue.path.split(".")
    if len(parts) < 4 or parts[0] != "tables":
        return False
    table = spec.tables.get(parts[1])
    if len(parts) >= 4 and parts[2] == "rows":  # rows.per / rows.count name the parent
        rows = getattr(table, "rows", None)
        parent = getattr(rows, "per", None)
        return parent in broken_tables or any(t == parent for t, _ in broken)
    column = table.columns.get(parts[3]) if table is not None and parts[2] == "columns" else None
    for target in _targets(column, table):
        parent, name = target
        if parent in broken_tables or (parent, name) in broken:
            return True
    return False


def _targets(column, table) -> Iterator[tuple[str, str | None]]:
    """(table, column) pairs a column points into: its reference target, what it reads through a
    reference, the children it adds up."""
    if column is None:
        return
    if isinstance(column, ReferenceColumn):
        yield column.parent
        if column.weight_by:
            yield column.parent[0], column.weight_by
        if column.matched:
            yield column.parent[0], column.matched[0]
    if isinstance(column, AggregateColumn):
        yield column.child
    for ref, _ in _dotted_refs(column):
        reference_name, parent_column = split_target(ref)
        reference = table.columns.get(reference_name) if table is not None else None
        if isinstance(reference, ReferenceColumn):
            yield reference.parent[0], parent_column
            yield reference.parent


def _relation_issues(spec: DatasetSpec, source) -> list[Issue]:
    issues: list[Issue] = []
    for name, table in spec.tables.items():
        path = ("tables", name)
        rows = _rows(table)
        if isinstance(rows, PerParent):
            issues.extend(_check_per_parent(spec, name, rows, (*path, "rows"), source))
        for column_name, column in table.columns.items():
            column_path = (*path, "columns", column_name)
            if isinstance(column, ReferenceColumn):
                issues.extend(_check_reference(spec, column, column_path, source))
            elif isinstance(column, AggregateColumn):
                issues.extend(_check_aggregate(spec, name, column, column_path, source))
            if isinstance(column, ConditionalColumn):
                relational = [b.kind for b in column.branches()
                              if isinstance(b, (ReferenceColumn, LookupColumn, AggregateColumn))]
                if relational:
                    yield_issue = source.issue(
                        "bad-modifier", (*column_path, "by"), f"a {relational[0]} column cannot have cases",
                        hint="for a reference, weight parents with pick: weighted; otherwise make a conditional "
                             "column that reads the relational one")
                    issues.append(yield_issue)
            for ref, key in _dotted_refs(column):
                issues.extend(_check_read_through(spec, name, ref, (*column_path, key), source))
    issues.extend(_check_table_cycles(spec, source))
    return issues


def _rows(table):
    """A table's `rows`; absent when its header did not parse (reported on its own)."""
    return getattr(table, "rows", None)


def _dotted_refs(column: AnyColumn) -> Iterator[tuple[str, str]]:
    """(`fk.column`, the key that wrote it) for every read through a reference."""
    if isinstance(column, LookupColumn):
        yield column.from_, "from"
        return
    if isinstance(column, ConditionalColumn) and "." in column.by:
        yield column.by, "by"
    branches = column.branches() if isinstance(column, ConditionalColumn) else [column]
    for branch in branches:
        for key in ("after", "lag"):
            value = getattr(branch, key, None)
            if isinstance(value, str) and "." in value:
                yield value, key


def _column_hint(name: str, table_name: str, table) -> str:
    return did_you_mean(name, table.columns) or f"columns of {table_name}: {', '.join(table.columns)}"


def _table_hint(spec, name: str) -> str:
    return did_you_mean(name, spec.tables) or f"tables: {', '.join(spec.tables)}"


def _check_reference(spec, column: ReferenceColumn, path, source) -> Iterator[Issue]:
    parent_name, key = column.parent
    parent = spec.tables.get(parent_name)
    if parent is None:
        yield source.issue("unknown-table", (*path, "to"), f"no table named `{parent_name}`",
                           value=column.to, hint=_table_hint(spec, parent_name))
        return
    target = parent.columns.get(key)
    if target is None:
        yield source.issue("unknown-column", (*path, "to"), f"`{parent_name}` has no column `{key}`",
                           value=column.to, hint=_column_hint(key, parent_name, parent))
        return
    if not _is_key(target):
        keys = [f"{parent_name}.{name}" for name, c in parent.columns.items() if _is_key(c)]
        kind = "conditional" if isinstance(target, ConditionalColumn) else target.kind
        yield source.issue("not-a-key", (*path, "to"),
                           f"`{column.to}` is a {kind} column, not a key: "
                           "a reference needs a sequence, id or uuid column",
                           hint=f"point `to` at a key of `{parent_name}`: {', '.join(keys)}" if keys else
                           f"give `{parent_name}` a key column, e.g. id: {{kind: id, format: \"X-{{:06d}}\"}}")
    elif target.nulls:
        yield source.issue("not-a-key", (*path, "to"), f"`{column.to}` has nulls, so it cannot be referenced",
                           hint="remove `nulls` from the key column")
    if isinstance(table_rows := getattr(spec.tables.get(path[1]), "rows", None), PerParent) \
            and table_rows.per == parent_name and column.pick != "uniform":
        yield source.issue("bad-value", (*path, "pick"),
                           f"rows of `{path[1]}` each belong to their own `{parent_name}` row, "
                           "so `pick` does not apply",
                           hint="drop `pick` here; to skew children per parent, make the count depend on the parent")
    if column.matched is not None:
        if isinstance(table_rows, PerParent) and table_rows.per == parent_name:
            yield source.issue("bad-value", (*path, "match"),
                               f"rows of `{path[1]}` each belong to their own `{parent_name}` row, "
                               "so `match` does not apply",
                               hint="drop `match`; the owning parent is the reference")
        elif column.matched[0] not in parent.columns:
            yield source.issue("unknown-column", (*path, "match"),
                               f"`{parent_name}` has no column `{column.matched[0]}`",
                               hint=_column_hint(column.matched[0], parent_name, parent))
    if column.weight_by is not None:
        weight_column = parent.columns.get(column.weight_by)
        if weight_column is None:
            yield source.issue("unknown-column", (*path, "weight_by"),
                               f"`{parent_name}` has no column `{column.weight_by}`",
                               hint=_column_hint(column.weight_by, parent_name, parent))
            return
        levels = _levels(weight_column)
        if levels is not None:
            assert column.weights is not None  # the spec requires `weights` with `weight_by`
            for value in column.weights:
                if value not in levels:
                    yield source.issue("unknown-case", (*path, "weights", value),
                                       f"`{parent_name}.{column.weight_by}` never takes the value {value!r}",
                                       hint=did_you_mean(str(value), [str(v) for v in levels])
                                       or f"it takes: {', '.join(map(str, levels))}")
            missing = [level for level in levels if level not in column.weights]
            if missing:
                yield source.issue("missing-case", (*path, "weights"),
                                   f"no weight for {', '.join(map(repr, missing))} of `{column.weight_by}`",
                                   hint="give every value a weight (0 means never chosen)")


def _levels(column) -> list | None:
    if isinstance(column, CategoricalColumn):
        return list(column.values)
    if isinstance(column, BooleanColumn):
        return [True, False]
    return None


def _check_read_through(spec, table_name: str, ref: str, path, source) -> Iterator[Issue]:
    """`customer_id.tier`: customer_id is a reference of this table, tier a column of its parent."""
    table = spec.tables[table_name]
    reference_name, column = split_target(ref)
    reference = table.columns.get(reference_name)
    if not isinstance(reference, ReferenceColumn):
        references = [name for name, c in table.columns.items() if isinstance(c, ReferenceColumn)]
        yield source.issue(
            "unknown-reference", path, f"`{reference_name}` in `{ref}` is not a reference column of `{table_name}`",
            hint=(did_you_mean(reference_name, references) or f"references here: {', '.join(references)}")
            if references else f"add a reference column, e.g. {reference_name}: {{kind: reference, to: parent.key}}")
        return
    parent_name = reference.parent[0]
    parent = spec.tables.get(parent_name)
    if parent is not None and column not in parent.columns:
        yield source.issue("unknown-column", path, f"`{parent_name}` has no column `{column}`", value=ref,
                           hint=_column_hint(column, parent_name, parent))


def _check_per_parent(spec, name: str, rows: PerParent, path, source) -> Iterator[Issue]:
    if rows.per == name:
        yield source.issue("cycle", (*path, "per"), f"`{name}` cannot be sized per its own rows",
                           hint="name the parent table whose rows each get `count` rows of this one")
        return
    parent = spec.tables.get(rows.per)
    if parent is None:
        yield source.issue("unknown-table", (*path, "per"), f"no table named `{rows.per}`",
                           hint=_table_hint(spec, rows.per))
        return
    for ref in sorted(rows.count.refs()):
        local = ref.split(".", 1)[0]
        if local not in parent.columns:
            yield source.issue("unknown-column", (*path, "count"),
                               f"the count reads `{ref}`, and `{rows.per}` has no column `{local}`",
                               hint=(_column_hint(local, rows.per, parent))
                               + " (a count is drawn per parent row, from the parent's columns)")


def _check_aggregate(spec, name: str, column: AggregateColumn, path, source) -> Iterator[Issue]:
    child_name, child_column = column.child
    child = spec.tables.get(child_name)
    if child is None:
        yield source.issue("unknown-table", (*path, "of"), f"no table named `{child_name}`",
                           value=column.of, hint=_table_hint(spec, child_name))
        return
    if _rows(child) is not None and not (isinstance(child.rows, PerParent) and child.rows.per == name):
        yield source.issue("not-per-parent", (*path, "of"),
                           f"`{child_name}` is not sized per `{name}`, so its rows have no parent to add up to",
                           hint=f"define `{child_name}` with rows: {{per: {name}, count: ...}}")
    if child_column is not None and child_column not in child.columns:
        yield source.issue("unknown-column", (*path, "of"), f"`{child_name}` has no column `{child_column}`",
                           value=column.of, hint=_column_hint(child_column, child_name, child))


def table_dependencies(spec) -> dict[str, set[str]]:
    """Each table → the tables it needs first: what it references, reads through references, or
    is sized per. (A parent's aggregates of its children are computed from the children's
    blocks and do not order tables.)"""
    needs: dict[str, set[str]] = {}
    for name, table in spec.tables.items():
        found = set()
        if isinstance(_rows(table), PerParent):
            found.add(table.rows.per)
        for column in table.columns.values():
            if isinstance(column, ReferenceColumn):
                found.add(column.parent[0])
        needs[name] = {parent for parent in found if parent in spec.tables and parent != name}
    return needs


def _check_table_cycles(spec, source) -> Iterator[Issue]:
    for name, table in spec.tables.items():
        for column_name, column in table.columns.items():
            if isinstance(column, ReferenceColumn) and column.parent[0] == name:
                yield source.issue("cycle", ("tables", name, "columns", column_name, "to"),
                                   f"`{name}` references itself", hint="self-references are not supported yet")
    order = topological_order(table_dependencies(spec))
    if order and isinstance(order[0], list):
        for cycle in order:
            yield source.issue("cycle", ("tables", cycle[0]),
                               f"tables depend on each other in a cycle: {' -> '.join(cycle)}",
                               hint="one of these references must go; parents come before children")
