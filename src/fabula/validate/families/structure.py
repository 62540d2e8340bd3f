"""Structure: row counts and columns as planned, keys unique, no orphan references, children
never before their parents, aggregates equal to their children. Every tolerance here is zero.

Most of it is decided while the blocks stream through, at almost no cost, because fabula's
keys are functions of the row number:

- a key column (id, sequence, uuid) is compared with the keys its row numbers give; when every
  row matches, the keys are distinct (those functions never repeat) and are exactly the set
  a reference may point at. While generating, the written keys are those functions' output by
  construction, so this costs nothing then; `fabula validate` compares every key it reads;
- a reference to an id or sequence key is turned back into a row number (parse, range check,
  format again); with the parent's keys intact, a value that does not round-trip is an orphan;
- a time that follows another column of its own row is compared row by row; one that follows
  its parent's (`after: customer_id.created_at`) is compared with the plan's value at the parent
  row its reference names, which holds while the parent's keys and that column are as planned;
- a count or sum of children is fingerprinted on both sides (see `aggregates.py`).

What needs several tables at once — duplicates among values that are not keys (`unique:`), a
time that follows a parent's column changed since, aggregates against their children, and any check whose
streaming shortcut did not hold (tampered keys, a copied folder with other rows) — runs as SQL
in DuckDB over the written files: hash joins and aggregates that spill to disk, so no table has
to fit in memory (see `evidence.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fabula.generators.base import BlockContext
from fabula.sandbox import quote
from fabula.spec.columns import (
    ConditionalColumn,
    DateColumn,
    IdColumn,
    SequenceColumn,
    TimestampColumn,
)
from fabula.spec.relations import AggregateColumn, ReferenceColumn, split_target
from fabula.validate import aggregates
from fabula.validate.evidence import Evidence
from fabula.validate.keys import reference_positions
from fabula.validate.models import declared_columns
from fabula.validate.report import FAIL, PASS, SKIP, Check
from fabula.validate.statistics import Examples, Same, Unreadable

FAMILY = "structure"


# -- what is kept per block ----------------------------------------------------------------------


@dataclass(frozen=True)
class TableShape:
    """Rows and schema of each block of a table."""

    table: str

    @property
    def key(self) -> str:
        return f"{FAMILY}:{self.table}"

    def observe(self, view) -> dict:
        schema = tuple((field.name, _stored(str(field.type))) for field in view.batch.schema)
        return {"rows": view.batch.num_rows, "schema": Same(schema)}


@dataclass(frozen=True)
class KeyStatistic:
    """A key column against the keys of its rows' numbers."""

    table: str
    column: str

    @property
    def key(self) -> str:
        return f"{FAMILY}:key:{self.table}.{self.column}"

    def observe(self, view) -> dict:
        if view.generated:  # the key generator's own output, as the engine made it: nothing to compare
            return {"differ": 0, "examples": Examples()}
        if not view.aligned:
            raise ValueError("the table does not have the planned rows")
        written = _array(view.batch.column(self.column))
        start, n = view.table.block_span(view.block)
        context = BlockContext(seed=view.plan.seed, table=self.table, column=self.column, block=view.block,
                               start=start, n=n, relations=view.plan.relations)
        planned = view.table.column(self.column).generator.generate(context)
        same = pc.fill_null(pc.equal(written, planned), False)
        if written.null_count or planned.null_count:
            same = pc.or_(same, pc.and_(written.is_null(), planned.is_null()))
        differ = pc.invert(same)
        count = int(pc.sum(differ).as_py() or 0)
        examples = Examples(tuple(map(repr, written.filter(differ).slice(0, 3).to_pylist()))) if count else Examples()
        return {"differ": count, "examples": examples}


@dataclass(frozen=True)
class ReferenceStatistic:
    """References to an id or sequence key, turned back into parent row numbers."""

    table: str
    column: str
    parent_rows: int
    parent_key: IdColumn | SequenceColumn

    @property
    def key(self) -> str:
        return f"{FAMILY}:reference:{self.table}.{self.column}"

    def observe(self, view) -> dict:
        _, _, valid = reference_positions(view, self.column, self.parent_key, self.parent_rows)
        bad = len(valid) - int(np.count_nonzero(valid))
        examples = Examples()
        if bad:
            values = _array(view.batch.column(self.column)).drop_null()
            examples = Examples(tuple(map(repr, values.filter(pa.array(~valid)).slice(0, 3).to_pylist())))
        return {"checked": len(valid), "orphans": bad, "examples": examples}


@dataclass(frozen=True)
class OrderStatistic:
    """Rows whose time is before another time column of the same row."""

    table: str
    column: str
    after: str

    @property
    def key(self) -> str:
        return f"{FAMILY}:after:{self.table}.{self.column}"

    def observe(self, view) -> dict:
        earlier = view.column(self.after)  # may be a hidden helper the plan computes
        if earlier is None:
            raise ValueError(f"cannot read `{self.after}`")
        later, earlier = _comparable(_array(view.batch.column(self.column)), _array(earlier))
        return {"early": int(pc.sum(pc.fill_null(pc.less(later, earlier), False)).as_py() or 0)}


@dataclass(frozen=True)
class PlannedColumnStatistic:
    """A parent column that children's times follow, against the plan's values for its rows.
    While every row matches, a child's parent value can be read from the plan at the parent row
    its reference names, instead of joining the written tables."""

    table: str
    column: str

    @property
    def key(self) -> str:
        return f"{FAMILY}:planned:{self.table}.{self.column}"

    def observe(self, view) -> dict:
        if view.generated:  # the plan's own output, as the engine made it: nothing to compare
            return {"differ": 0}
        if not view.aligned:
            raise ValueError("the table does not have the planned rows")
        written = _array(view.batch.column(self.column))
        planned = view.plan.columns(view.table, view.block, [self.column])[self.column]
        written, planned = _comparable(written, planned)
        same = pc.fill_null(pc.equal(written, planned), False)
        if written.null_count or planned.null_count:
            same = pc.or_(same, pc.and_(written.is_null(), planned.is_null()))
        return {"differ": len(same) - int(pc.sum(same).as_py() or 0)}


@dataclass(frozen=True)
class ParentOrderStatistic:
    """Rows whose time is before their parent row's time (`after: customer_id.created_at`), the
    parent row found from the reference's key and its time read from the plan. `_not_before`
    uses it only when the parent's keys and that column are exactly as planned; otherwise it
    joins the written tables in DuckDB."""

    table: str
    column: str
    reference: str
    parent: str
    parent_column: str
    parent_rows: int
    parent_key: IdColumn | SequenceColumn

    @property
    def key(self) -> str:
        return f"{FAMILY}:after-parent:{self.table}.{self.column}"

    def observe(self, view) -> dict:
        from fabula.plan.blocks import PlanReader

        present, positions, valid = reference_positions(view, self.reference, self.parent_key, self.parent_rows)
        times = _array(view.batch.column(self.column))
        if view.generated and present.all() and valid.all():
            # the engine's own block: the parent's times at these rows are the hidden column the
            # generator read them from (the plan's values, taken at the same parent rows)
            looked_up = view.column(f"{self.reference}.{self.parent_column}")
            if looked_up is not None:
                later, earlier = _comparable(times, _array(looked_up))
                return {"early": int(pc.sum(pc.fill_null(pc.less(later, earlier), False)).as_py() or 0)}
        if not present.all():
            times = times.filter(pa.array(present))
        if not valid.all():  # an orphan has no parent row: the join leaves it out, and so does this
            times = times.filter(pa.array(valid))
        parents = PlanReader(view.plan).values(self.parent, self.parent_column)
        later, earlier = _comparable(times, parents.take(pa.array(positions[valid])))
        return {"early": int(pc.sum(pc.fill_null(pc.less(later, earlier), False)).as_py() or 0)}


def statistics(plan) -> list:
    found: list = [TableShape(table.name) for table in plan.tables] + aggregates.statistics(plan)
    for table in plan.tables:
        for name, spec in declared_columns(plan, table.name).items():
            if getattr(spec, "hidden", False):
                continue  # not written: nothing to check in the output
            if _is_key(spec):
                found.append(KeyStatistic(table.name, name))
            if isinstance(spec, ReferenceColumn):
                parent, key = spec.parent
                target = plan.spec.tables[parent].columns[key]
                if isinstance(target, (IdColumn, SequenceColumn)):
                    found.append(ReferenceStatistic(table.name, name, plan.table(parent).rows, target))
            if isinstance(spec, (DateColumn, TimestampColumn)) and spec.after and "." not in spec.after:
                found.append(OrderStatistic(table.name, name, spec.after))
            if isinstance(spec, (DateColumn, TimestampColumn)) and spec.after and "." in spec.after:
                found.extend(_parent_order(plan, table.name, name, spec.after))
    return list(dict.fromkeys(found))  # a parent column several children follow is compared once


def _parent_order(plan, table: str, column: str, after: str) -> list:
    reference, parent_column = split_target(after)
    parent, key = plan.spec.tables[table].columns[reference].parent
    target = plan.spec.tables[parent].columns[key]
    if not isinstance(target, (IdColumn, SequenceColumn)):
        return []  # uuid keys do not give their row back: DuckDB joins
    return [PlannedColumnStatistic(parent, parent_column),
            ParentOrderStatistic(table, column, reference, parent, parent_column, plan.table(parent).rows, target)]


def _is_key(spec) -> bool:
    return not isinstance(spec, ConditionalColumn) and spec.key


def _array(column) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _comparable(first: pa.Array, second: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Two date/time columns in one type (dates as midnight; the finer timestamp unit)."""
    if first.type == second.type:
        return first, second
    units = ["s", "ms", "us", "ns"]
    unit = max((column.type.unit for column in (first, second) if pa.types.is_timestamp(column.type)),
               key=units.index, default="s")
    return first.cast(pa.timestamp(unit)), second.cast(pa.timestamp(unit))


# -- checks ----------------------------------------------------------------------------------------


def checks(evidence: Evidence) -> list[Check]:
    found: list[Check] = []
    for statistic in evidence.of_type(TableShape):
        found.extend(_shape_checks(evidence, statistic))
    for table in evidence.plan.tables:
        columns = declared_columns(evidence.plan, table.name)
        summed = []
        for name, spec in columns.items():
            if getattr(spec, "hidden", False):
                continue
            where = f"{table.name}.{name}"
            if _is_key(spec) or spec.unique:
                found.append(_guarded(f"{where} is unique", evidence, table.name, name, _unique, spec))
            if isinstance(spec, ReferenceColumn):
                found.append(_guarded(f"{where} has no orphans", evidence, table.name, name, _no_orphans, spec))
            if isinstance(spec, (DateColumn, TimestampColumn)) and spec.after:
                found.append(_guarded(f"{where} never before {spec.after}", evidence, table.name, name,
                                      _not_before, spec))
            if isinstance(spec, AggregateColumn):
                summed.append((name, spec))
        found.extend(_aggregate_checks(evidence, table.name, summed))
    return found


def _shape_checks(evidence: Evidence, statistic: TableShape) -> Iterator[Check]:
    table = evidence.plan.table(statistic.table)
    state = evidence.state(statistic) or {}
    observed = evidence.rows.get(table.name, 0)
    verdict = PASS if observed == table.rows else FAIL
    message = (f"{observed:,} rows, as planned" if verdict == PASS else
               f"{observed:,} rows, but the plan makes {table.rows:,}"
               + (" (rows missing)" if observed < table.rows else " (extra rows)"))
    yield Check(FAMILY, f"{table.name}: row count", verdict, message, expected=table.rows, observed=observed,
                tolerance=0, table=table.name)
    expected = tuple((field.name, str(field.type)) for field in table.schema)
    schema = state.get("schema")
    if not isinstance(schema, Same):
        if table.rows:
            yield Check(FAMILY, f"{table.name}: columns and types", FAIL, "no rows could be read",
                        expected=[list(pair) for pair in expected], table=table.name)
        return
    seen = schema.value if schema.differs is None else schema.differs
    differences = _schema_differences(expected, seen)
    yield Check(FAMILY, f"{table.name}: columns and types", FAIL if differences else PASS,
                "; ".join(differences) if differences else f"{len(expected)} columns with the planned types",
                expected=[list(pair) for pair in expected], observed=[list(pair) for pair in seen],
                table=table.name)


def _schema_differences(expected, seen) -> list[str]:
    want, got = dict(expected), dict(seen)
    problems = [f"`{name}` is missing" for name in want if name not in got]
    problems += [f"`{name}` is not in the spec" for name in got if name not in want]
    problems += [f"`{name}` is {got[name]}, the plan makes {want[name]}"
                 for name in want if name in got and not _same_type(want[name], got[name])]
    if not problems and list(want) != list(got):
        problems.append("the columns are in another order than the spec's")
    return problems


def _stored(arrow_type: str) -> str:
    """A type as Parquet stores it: it has no timestamps in seconds, so those come back in
    milliseconds (the same instants). Generated and re-read blocks then report the same schema."""
    return "timestamp[ms]" if arrow_type == "timestamp[s]" else arrow_type


_UNITS = ("s", "ms", "us", "ns")
_TIMESTAMP = re.compile(r"timestamp\[(s|ms|us|ns)(?:, tz=(.+))?\]")


def _same_type(planned: str, seen: str) -> bool:
    """The planned type, or a timestamp in a finer unit: each format stores timestamps in the
    units it has (Parquet has no seconds, Delta only microseconds), the same instants."""
    if planned == seen:
        return True
    want, got = _TIMESTAMP.fullmatch(planned), _TIMESTAMP.fullmatch(seen)
    return bool(want and got and want[2] == got[2] and _UNITS.index(got[1]) >= _UNITS.index(want[1]))


def _guarded(name: str, evidence: Evidence, table: str, column: str, check, spec) -> Check:
    """Run one check; a query that fails (a file unreadable, a column missing) fails the check."""
    try:
        return check(name, evidence, table, column, spec)
    except Exception as error:  # noqa: BLE001 - duckdb raises many kinds; each becomes a failed check
        return Check(FAMILY, name, FAIL, f"could not check: {_first_line(error)}", table=table, column=column)


def _planned_keys(evidence: Evidence, table: str, column: str) -> bool:
    """Whether every row of a key column holds the key of its row number (and no row is missing)."""
    state = evidence.states.get(KeyStatistic(table, column).key)
    return (isinstance(state, dict) and state["differ"] == 0
            and evidence.rows.get(table, 0) == evidence.plan.table(table).rows)


def _unique(name: str, evidence: Evidence, table: str, column: str, spec) -> Check:
    what = "key" if _is_key(spec) else "unique column"
    if _is_key(spec) and _planned_keys(evidence, table, column):
        return Check(FAMILY, name, PASS, "every row holds the key of its row number, so no two are alike",
                     expected=0, observed=0, tolerance=0, table=table, column=column)
    sql = evidence.sql()
    t, c = quote(table), quote(column)
    nulls, duplicates = sql.rows(f"select count(*) - count({c}), count({c}) - count(distinct {c}) from {t}")[0]
    problems = []
    if duplicates:
        examples = sql.rows(f"select {c}, count(*) from {t} where {c} is not null group by 1 "
                            f"having count(*) > 1 order by 2 desc, 1 limit 3")
        shown = ", ".join(f"{value!r} ×{count}" for value, count in examples)
        problems.append(f"{duplicates:,} duplicate value{'s' if duplicates != 1 else ''} (e.g. {shown})")
    if nulls and not spec.nulls > 0:
        problems.append(f"{nulls:,} null {what}{'s' if nulls != 1 else ''}")
    message = "; ".join(problems) if problems else f"every value is distinct ({what})"
    return Check(FAMILY, name, FAIL if problems else PASS, message,
                 expected=0, observed=duplicates, tolerance=0, table=table, column=column)


def _no_orphans(name: str, evidence: Evidence, table: str, column: str, spec: ReferenceColumn) -> Check:
    parent, key = spec.parent
    state = evidence.states.get(f"{FAMILY}:reference:{table}.{column}")
    if isinstance(state, dict) and _planned_keys(evidence, parent, key):
        orphans, examples = state["orphans"], list(state["examples"].values)
    else:  # the parent's keys are not the planned ones (or no shortcut for uuid keys): ask DuckDB
        sql = evidence.sql()
        t, c, p, k = quote(table), quote(column), quote(parent), quote(key)
        orphans_of = f"from {t} child where child.{c} is not null and not exists " \
                     f"(select 1 from {p} parent where parent.{k} = child.{c})"
        orphans = sql.value(f"select count(*) {orphans_of}")
        examples = [repr(row[0]) for row in sql.rows(f"select distinct child.{c} {orphans_of} order by 1 limit 3")] \
            if orphans else []
    if orphans:
        message = (f"{orphans:,} {'rows point' if orphans != 1 else 'row points'} at no {parent} row "
                   f"(e.g. {', '.join(examples)})")
    else:
        message = f"every {column} matches a {parent}.{key}"
    return Check(FAMILY, name, FAIL if orphans else PASS, message,
                 expected=0, observed=orphans, tolerance=0, table=table, column=column)


def _not_before(name: str, evidence: Evidence, table: str, column: str, spec) -> Check:
    if "." in spec.after:
        reference, parent_column = split_target(spec.after)
        parent, key = _parent_of(evidence, table, reference)
        t, c = quote(table), quote(column)
        streamed = evidence.states.get(f"{FAMILY}:after-parent:{table}.{column}")
        planned = evidence.states.get(PlannedColumnStatistic(parent, parent_column).key)
        if isinstance(streamed, dict) and isinstance(planned, dict) and planned["differ"] == 0 \
                and _planned_keys(evidence, parent, key):
            early = streamed["early"]  # parent keys and times as planned: counted while streaming
        else:
            early = evidence.sql().value(
                f"select count(*) from {t} child join {quote(parent)} parent on parent.{quote(key)} = "
                f"child.{quote(reference)} where child.{c} < parent.{quote(parent_column)}")
        what = f"its {parent} row's {parent_column}"
    else:
        state = evidence.states.get(OrderStatistic(table, column, spec.after).key)
        if isinstance(state, Unreadable):
            raise ValueError(state.reason)
        early = state["early"] if state else 0
        what = spec.after
    message = (f"{early:,} row{'s' if early != 1 else ''} {'are' if early != 1 else 'is'} before {what}"
               if early else f"never before {what}")
    return Check(FAMILY, name, FAIL if early else PASS, message,
                 expected=0, observed=early, tolerance=0, table=table, column=column)


# -- aggregates: one query per (parent, child) pair ------------------------------------------------------


def _aggregate_checks(evidence: Evidence, table: str, summed: list) -> list[Check]:
    by_child: dict[str, list] = {}
    for name, spec in summed:
        by_child.setdefault(spec.child[0], []).append((name, spec))
    found = []
    for child, columns in by_child.items():
        titles = [f"{table}.{name} adds up {spec.of}" if spec.child[1] else f"{table}.{name} counts {child}"
                  for name, spec in columns]
        child_spec = evidence.plan.spec.tables[child]
        owner = next((ref for ref, c in child_spec.columns.items()
                      if isinstance(c, ReferenceColumn) and c.parent[0] == table), None)
        if owner is None:
            found += [Check(FAMILY, title, SKIP, f"not checked: `{child}` has no reference to `{table}` to group "
                            "its rows by", table=table, column=name) for title, (name, _) in zip(titles, columns)]
            continue
        key = _parent_of(evidence, child, owner)[1]
        agreed = _planned_keys(evidence, table, key) and all(
            aggregates.agree(evidence, table, name) for name, _ in columns)
        try:  # fingerprints that agree settle it; otherwise DuckDB finds (and counts) the rows
            wrong = [0] * len(columns) if agreed else _aggregate_mismatches(evidence, table, child, owner, columns)
        except Exception as error:  # noqa: BLE001 - a failed query fails these checks, with DuckDB's words
            found += [Check(FAMILY, title, FAIL, f"could not check: {_first_line(error)}", table=table, column=name)
                      for title, (name, _) in zip(titles, columns)]
            continue
        for title, (name, spec), count in zip(titles, columns, wrong):
            message = (f"{count:,} {table} {'rows differ' if count != 1 else 'row differs'} from the {spec.fn} "
                       f"of {'their' if count != 1 else 'its'} {child}"
                       if count else f"equal to the {spec.fn} of each row's {child}")
            found.append(Check(FAMILY, title, FAIL if count else PASS, message, expected=0, observed=count,
                               tolerance=0, table=table, column=name))
    return found


def _aggregate_mismatches(evidence: Evidence, table: str, child: str, owner: str, columns: list) -> list[int]:
    """Rows of `table` whose aggregate differs from its children's, per aggregate column."""
    key = _parent_of(evidence, child, owner)[1]
    values, conditions = [], []
    for index, (name, spec) in enumerate(columns):
        child_column = spec.child[1]
        argument = "*" if child_column is None else quote(child_column)
        function = {"count": "count", "sum": "sum", "mean": "avg", "min": "min", "max": "max"}[spec.fn]
        values.append(f"{function}({argument}) as v{index}")
        expected = f"coalesce(kids.v{index}, 0)" if spec.fn in ("count", "sum") else f"kids.v{index}"
        if spec.clip is not None and spec.clip.min is not None:
            expected = f"greatest({expected}, {spec.clip.min!r})"
        if spec.clip is not None and spec.clip.max is not None:
            expected = f"least({expected}, {spec.clip.max!r})"
        written = f"parent.{quote(name)}"
        if pa.types.is_floating(evidence.plan.table(table).column(name).arrow_type):
            slack = f"{0.5 * 10.0 ** -spec.round!r} + " if spec.round is not None else ""
            equal = f"abs({written} - {expected}) <= {slack}1e-9 * greatest(1, abs({expected}))"
        else:
            equal = f"{written} = {expected}"
        matches = f"(({written} is null and {expected} is null) or {equal})"
        if spec.nulls > 0:
            matches = f"({written} is null or {matches})"
        conditions.append(f"count(*) filter (where not coalesce({matches}, false))")
    # grouped and joined on a 64-bit hash of the key: a third less work than on the text, and
    # two of a few billion keys colliding is far less likely than a disk error
    query = (f"with kids as (select hash({quote(owner)}) as k, {', '.join(values)} from {quote(child)} group by 1) "
             f"select {', '.join(conditions)} from {quote(table)} parent "
             f"left join kids on kids.k = hash(parent.{quote(key)})")
    return [int(count) for count in evidence.sql().rows(query)[0]]


def _parent_of(evidence: Evidence, table: str, reference: str) -> tuple[str, str]:
    """(parent table, key) of a reference column: one the spec's relation checks found to be a reference."""
    column = evidence.plan.spec.tables[table].columns[reference]
    assert isinstance(column, ReferenceColumn), f"{table}.{reference} is a reference (the spec's checks said so)"
    return column.parent


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
