"""What a table computes, as nodes: its declared columns plus the hidden ones relations need
(the parent row behind each reference, parents' values read through it, the row counts of
children sized per row, the parent of each row in a table sized per parent)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fabula.generators.relations import PARENT_ROWS, count_column, row_column
from fabula.spec.columns import AnyColumn
from fabula.spec.model import DatasetSpec
from fabula.spec.relations import AggregateColumn, LookupColumn, PerParent, ReferenceColumn, split_target
from fabula.spec.sequences import per_parent_kind, scoped_columns


@dataclass(frozen=True)
class Node:
    """One column to compute. `role` says which compiler builds it."""

    name: str
    role: str  # column | row | lookup | count | parents
    spec: AnyColumn | None
    local: frozenset[str] = frozenset()
    """Nodes of the same table it reads."""
    foreign: frozenset[tuple[str, str]] = frozenset()
    """Columns of other tables whose type it needs to compile."""
    output: bool = True
    detail: dict = field(default_factory=dict)


def table_nodes(spec: DatasetSpec, table_name: str) -> dict[str, Node]:
    """Every node of a table, keyed by name (declared columns first, in declared order)."""
    table = spec.tables[table_name]
    references = {name: column for name, column in table.columns.items() if isinstance(column, ReferenceColumn)}
    per = table.rows.per if isinstance(table.rows, PerParent) else None
    nodes: dict[str, Node] = {}
    hidden: dict[str, Node] = {}

    def local_of(refs: frozenset[str]) -> frozenset[str]:
        names = set()
        for ref in refs:
            if "." in ref:
                reference, column = split_target(ref)
                if ref not in hidden and reference in references:
                    parent = references[reference].parent[0]
                    hidden[ref] = Node(ref, "lookup", LookupColumn(**{"from": ref}), frozenset({row_column(reference)}),
                                       frozenset({(parent, column)}), output=False)
            names.add(ref)
        return frozenset(names)

    for name, column in table.columns.items():
        if isinstance(column, ReferenceColumn):
            parent, key = column.parent
            owned = parent == per
            matched = column.matched if not owned else None  # `match`: the row's value and the parent's column
            hidden[row_column(name)] = Node(row_column(name), "row", column,
                                            frozenset({PARENT_ROWS}) if owned else
                                            frozenset({matched[1]}) if matched else frozenset(),
                                            frozenset({(parent, matched[0])}) if matched else frozenset(),
                                            output=False, detail={"owned": owned})
            nodes[name] = Node(name, "column", column, frozenset({row_column(name)}), frozenset({(parent, key)}),
                               output=not column.hidden)
        elif isinstance(column, LookupColumn):
            reference, parent_column = split_target(column.from_)
            parent = references[reference].parent[0] if reference in references else reference
            nodes[name] = Node(name, "column", column, frozenset({row_column(reference)}),
                               frozenset({(parent, parent_column)}), output=not column.hidden)
        elif isinstance(column, AggregateColumn):
            child, child_column = column.child
            foreign = frozenset({(child, child_column)}) if child_column else frozenset()
            nodes[name] = Node(name, "column", column, frozenset({count_column(child)}), foreign,
                               output=not column.hidden)
        else:
            needs_parent = frozenset({PARENT_ROWS}) if per is not None and per_parent_kind(column) else frozenset()
            nodes[name] = Node(name, "column", column, local_of(column.refs()) | needs_parent,
                               output=not getattr(column, "hidden", False))
    if per is not None:
        hidden[PARENT_ROWS] = Node(PARENT_ROWS, "parents", None, output=False, detail={"parent": per})
    for child_name, child_table in spec.tables.items():
        if isinstance(child_table.rows, PerParent) and child_table.rows.per == table_name:
            hidden[count_column(child_name)] = Node(
                count_column(child_name), "count", child_table.rows.count,
                local_of(child_table.rows.count.refs() | scoped_columns(spec, child_name)),
                output=False, detail={"child": child_name})
    return {**nodes, **hidden}
