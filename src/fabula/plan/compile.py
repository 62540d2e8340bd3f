"""Spec → Plan: pin as_of, apply scale, compile every column (and the hidden columns relations
need) in dependency order across tables, size tables defined per parent with a count pass, and
materialise the parent columns that references read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date

import numpy as np
import pyarrow as pa

from fabula.errors import Issue, SpecError
from fabula.generators import CompileEnv, Generator, compile_column
from fabula.generators.relations import (
    CountGenerator,
    LookupGenerator,
    ParentRowGenerator,
    ParentRowsGenerator,
    count_column,
)
from fabula.plan.blocks import PlanReader
from fabula.plan.bounds import estimate_rows, key_range_issues, refuse_absurd_size
from fabula.plan.events import events_table
from fabula.plan.model import BLOCK_ROWS, ColumnPlan, Layout, Plan, TablePlan
from fabula.plan.nodes import Node, table_nodes
from fabula.plan.relations import PerParentIndex, PlanRelations
from fabula.plan.uniqueness import unique_problem
from fabula.spec import ColumnSpec, DatasetSpec
from fabula.spec.expressions import ExpressionError
from fabula.spec.graph import acyclic_order
from fabula.spec.load import SourceMap
from fabula.spec.relation_checks import table_dependencies
from fabula.spec.relations import LookupColumn, PerParent, ReferenceColumn
from fabula.spec.story import TimelineRows
from fabula.story import Story, resolve_story


def compile_plan(spec: DatasetSpec, *, seed: int | None = None, scale: float = 1.0,
                 as_of: date | None = None, block_rows: int = BLOCK_ROWS,
                 layout: Layout | None = None, allow_large: bool = False,
                 earlier: tuple[Plan, ...] = ()) -> Plan:
    """The plan for a spec. `as_of` defaults to the spec's, then to today — read once, here.
    `earlier` are the plans of the batches an appended output already holds (oldest first):
    references then pick among their rows too (see `PlanReader`).

    >>> from fabula.spec import load_text
    >>> spec = load_text("name: d\\nseed: 1\\ntables:\\n  t:\\n    rows: 10\\n"
    ...                  "    columns:\\n      id: {kind: sequence}")
    >>> compile_plan(spec, scale=2.5).table("t").rows
    25
    """
    if not 0 < scale < float("inf"):
        raise ValueError(f"scale must be a positive, finite number, got {scale}")
    pinned = as_of or spec.as_of or date.today()
    root_seed = spec.seed if seed is None else seed
    where = spec.where or SourceMap(None)
    # before any work: timelines, pools and the count pass all scale with the rows
    refuse_absurd_size(spec, estimate_rows(spec, scale, pinned), allow_large=allow_large, where=where)
    story = _resolve_story(spec, pinned, root_seed, scale, where)
    nodes = {name: table_nodes(spec, name) for name in spec.tables}
    generators, issues = _compile_nodes(spec, nodes, root_seed, pinned, where, story)
    if issues:
        raise SpecError(issues)
    tables = tuple(
        _table_plan(name, spec, nodes[name], generators[name], scale, block_rows, story) for name in spec.tables
    )
    if spec.events_table:
        tables += (events_table(spec.events_table, spec, story, block_rows),)
    unsized = Plan(name=spec.name, seed=root_seed, as_of=pinned, scale=scale, spec_hash=spec.spec_hash(),
                   tables=tables, spec=spec, relations=PlanRelations(), story=story,
                   table_order=tuple(acyclic_order(table_dependencies(spec))) + tuple(
                       [spec.events_table] if spec.events_table else []),
                   layout=layout or Layout(), earlier=tuple(earlier))
    plan = _size_per_parent_tables(unsized)
    refuse_absurd_size(spec, {table.name: float(table.rows) for table in plan.tables if table.name in spec.tables},
                       allow_large=allow_large, where=where)
    key_issues = key_range_issues(plan, where)
    if key_issues:
        raise SpecError(key_issues)
    _check_uniqueness(plan, spec, where)
    _materialise_what_references_read(plan, nodes, where)
    return plan


def _resolve_story(spec: DatasetSpec, as_of: date, seed: int, scale: float, where) -> Story:
    try:
        return resolve_story(spec, as_of=as_of, seed=seed, scale=scale)
    except ValueError as error:
        raise SpecError([where.issue("bad-value", ("timelines",), str(error),
                                     hint="give the timeline some volume "
                                          "(rate, weekday and holiday factors above 0)")]) from None


def _check_uniqueness(plan: Plan, spec: DatasetSpec, where) -> None:
    issues = []
    for table in plan.tables:
        if table.name not in spec.tables:
            continue  # the events table: known values
        columns = spec.tables[table.name].columns
        for column in table.outputs:
            if getattr(columns[column.name], "unique", False):
                problem = unique_problem(columns, column.name, column.generator, table.rows)
                if problem:
                    message, hint = problem
                    issues.append(where.issue("not-unique", ("tables", table.name, "columns", column.name, "unique"),
                                              message, hint=hint))
    if issues:
        raise SpecError(issues)


# -- compiling columns in dependency order, across tables -----------------------------------------


def _compile_nodes(spec, nodes, seed, as_of, where, story) -> tuple[dict[str, dict[str, Generator]], list[Issue]]:
    """Compile every node once its inputs' types are known, in any table, until none is left.
    What is left then depends on itself through other tables.

    Linear in the number of nodes: each node counts the inputs it still waits for and is
    queued when the last one is done (a pass over every waiting node per step was quadratic
    in the columns of a wide table)."""
    compiled: dict[str, dict[str, Generator]] = {name: {} for name in nodes}
    failed: set[tuple[str, str]] = set()
    issues: list[Issue] = []
    entries = [(table, node) for table, table_nodes_ in nodes.items() for node in table_nodes_.values()]
    known = {(table, node.name) for table, node in entries}
    missing: dict[int, int] = {}
    dependents: dict[tuple[str, str], list[int]] = {}
    ready: list[int] = []
    for index, (table, node) in enumerate(entries):
        inputs = {(table, name) for name in node.local} | set(node.foreign)
        # an input no node produces is never ready: the node stays waiting, as it always did
        waits = [key for key in inputs if key in known]
        missing[index] = len(waits) + (len(inputs) - len(waits))
        for key in waits:
            dependents.setdefault(key, []).append(index)
        if not inputs:
            ready.append(index)
    references = {table: {name: column.parent[0] for name, column in spec.tables[table].columns.items()
                          if isinstance(column, ReferenceColumn)} for table in nodes}
    types = {table: _Types(compiled[table]) for table in nodes}
    all_types = _AllTypes(types)
    done = 0
    position = 0
    while position < len(ready):
        table, node = entries[ready[position]]
        position += 1
        done += 1
        needed = [(table, name) for name in node.local] + list(node.foreign)
        if any(key in failed for key in needed):
            failed.add((table, node.name))  # an input failed: its own issue says why
        else:
            generator = _compile_node(spec, table, node, compiled, seed, as_of, where, issues, story,
                                      references[table], types[table], all_types)
            if generator is None:
                failed.add((table, node.name))
            else:
                compiled[table][node.name] = generator
        for index in dependents.get((table, node.name), ()):
            missing[index] -= 1
            if missing[index] == 0:
                ready.append(index)
    if done < len(entries):
        placed = set(ready)
        issues.append(_stuck([entries[index] for index in range(len(entries)) if index not in placed], where))
    return compiled, issues


class _Types(Mapping):
    """A read-only view: column name → Arrow type of what is compiled so far (no per-node copy)."""

    def __init__(self, generators: dict[str, Generator]):
        self._generators = generators

    def __getitem__(self, name: str) -> pa.DataType:
        return self._generators[name].arrow_type

    def __iter__(self):
        return iter(self._generators)

    def __len__(self) -> int:
        return len(self._generators)


class _AllTypes(Mapping):
    def __init__(self, types: dict[str, _Types]):
        self._types = types

    def __getitem__(self, table: str) -> _Types:
        return self._types[table]

    def __iter__(self):
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)


def _stuck(still: list[tuple[str, Node]], where) -> Issue:
    """One issue for columns that wait on each other across tables, named as the user wrote them."""
    names = sorted({f"{table}.{_path(table, node)[-1]}" if node.role != "count" else f"{node.detail['child']}.rows"
                    for table, node in still})
    table, node = still[0]
    return where.issue("cycle", _path(table, node),
                       f"columns depend on each other across tables: {', '.join(names)}",
                       hint="a parent column that adds up its children cannot also be read by them "
                            "(through a lookup, `by:` or `after:`)")


def _compile_node(spec, table, node: Node, compiled, seed, as_of, where, issues, story,
                  references, column_types, table_types) -> Generator | None:
    env = CompileEnv(
        seed=seed, as_of=as_of, table=table, column=node.name,
        column_types=column_types, table_types=table_types,
        references=references,
        story=story,
    )
    try:
        if node.role == "row":
            assert isinstance(node.spec, ReferenceColumn), "a row node is a reference's"
            return ParentRowGenerator.compile(node.spec, env, owned=node.detail["owned"])
        if node.role == "lookup":
            assert isinstance(node.spec, LookupColumn), "a lookup node reads through a lookup"
            return LookupGenerator.compile(node.spec, env)
        if node.role == "parents":
            return ParentRowsGenerator(spec=_HIDDEN, arrow_type=pa.int64())
        assert node.spec is not None, "only the hidden parents node has no spec"
        if node.role == "count":
            return CountGenerator(spec=_HIDDEN, arrow_type=pa.int64(), inner=compile_column(node.spec, env))
        generator = compile_column(node.spec, env)
    except (ExpressionError, ValueError, KeyError) as error:
        message = getattr(error, "message", None) or (f"cannot read {error}" if isinstance(error, KeyError)
                                                      else str(error))
        issues.append(where.issue("bad-column", _path(table, node), message, hint=getattr(error, "hint", None)))
        return None
    problem = modifier_problem(node.spec, generator.arrow_type)
    if problem:
        issues.append(where.issue("bad-modifier", _path(table, node), problem,
                                  hint="remove it, or apply it inside the expression"))
        return None
    return generator


_HIDDEN = ColumnSpec.model_construct(kind="hidden", nulls=0.0, round=None, clip=None, unique=False,
                                     description=None, during=())
"""The spec of hidden counting columns: they have none of their own, so no modifiers apply."""


def _path(table: str, node: Node) -> tuple:
    if node.role == "count":
        return ("tables", node.detail["child"], "rows", "count")
    name = node.name.split("#", 1)[0].split(".", 1)[0]
    return ("tables", table, "columns", name)


def _table_plan(name, spec, nodes, generators, scale, block_rows, story: Story) -> TablePlan:
    declared = spec.tables[name]
    per = declared.rows.per if isinstance(declared.rows, PerParent) else None
    if isinstance(declared.rows, TimelineRows):
        rows = story.arrivals[name].rows  # the sum of its days' counts, --scale already applied
    else:
        rows = 0 if per else int(round(declared.rows * scale))  # per-parent tables: sized by the count pass
    columns = tuple(
        ColumnPlan(node.name, generators[node.name], tuple(sorted(node.local)), output=node.output)
        for node in nodes.values()
    )
    order = acyclic_order({node.name: node.local for node in nodes.values()})  # compiled: no cycles
    return TablePlan(name, rows, columns, tuple(order), block_rows, per=per, partition_by=declared.partition_by)


# -- sizing tables defined per parent ----------------------------------------------------------------


def _size_per_parent_tables(plan: Plan) -> Plan:
    """The count pass: each parent block's child count (regenerated, never stored per parent),
    prefix-summed per parent block, gives the child table's rows and maps its blocks to parents.
    Each sized table gives a new plan (parents first), so children of children count from a
    plan whose parents are already sized."""
    parents = {table.name: table.per for table in plan.tables if table.per}
    order = acyclic_order({name: {parent} for name, parent in parents.items()})
    for name in order:
        if name not in parents:
            continue
        parent = plan.table(parents[name])
        counts = np.array([
            int(np.sum(plan.columns(parent, block, [count_column(name)])[count_column(name)].to_numpy()))
            for block in range(parent.n_blocks)
        ], dtype=np.int64)
        prefix = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        plan = replace(plan, tables=tuple(replace(t, rows=int(prefix[-1])) if t.name == name else t
                                          for t in plan.tables),
                       relations=plan.relations.with_per_parent(name, PerParentIndex(parent=parent.name,
                                                                                     prefix=prefix)))
    return plan


def _materialise_what_references_read(plan: Plan, nodes, where) -> None:
    """Compute now, once, every parent column a child reads or draws by, so blocks generated in
    parallel only read them (they land in the plan's memo, `plan.relations.materialised`)."""
    relations = PlanReader(plan)
    for table, table_nodes_ in nodes.items():
        for node in table_nodes_.values():
            try:
                if node.role == "row" and node.spec.pick == "weighted":
                    index = relations.levels(node.spec.parent[0], node.spec.weight_by)
                    if not any(node.spec.weights.get(value, 0) > 0 and count
                               for value, count in zip(index.values, index.counts)):
                        raise ValueError(f"no row of `{node.spec.parent[0]}` has a value of `{node.spec.weight_by}` "
                                         "with a positive weight")
                elif node.role == "row" and not node.detail["owned"] and relations.table_rows(node.spec.parent[0]) == 0:
                    raise ValueError(f"`{node.spec.parent[0]}` has no rows, so `{table}.{node.name.split('#')[0]}`"
                                     " has nothing to reference")
                elif node.role == "lookup" or (node.spec is not None and node.spec.kind == "lookup" and node.output):
                    parent = next(iter(node.foreign))
                    relations.values(*parent)
            except ValueError as error:
                raise SpecError([where.issue("bad-reference", _path(table, node), str(error),
                                             hint="give the parent table rows, or drop the reference")]) from None


def modifier_problem(spec, arrow_type: pa.DataType) -> str | None:
    """`round` and `clip` on a column whose type is only known once compiled (expressions)."""
    if spec is None:
        return None
    numeric = pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type)
    temporal = pa.types.is_date(arrow_type) or pa.types.is_timestamp(arrow_type)
    if spec.round is not None and not numeric:
        return f"`round` applies to numbers, and this column produces {arrow_type}"
    if spec.clip is not None and not (numeric or temporal):
        return f"`clip` applies to numbers and dates, and this column produces {arrow_type}"
    return None
