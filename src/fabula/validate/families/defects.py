"""Defects (issue 14): each declared defect at its declared and observed rate, and the labels
true of the written rows.

The other families see the clean rows behind a damaged table (`validate.defects`), so a
declared orphan never fails `has no orphans` while an undeclared one does. Here:

- one check per declared defect: passes when the labelled count is within a binomial
  tolerance of rate × rows (each block draws Binomial(rows, rate)); else a warning, since the
  data is what the labels say either way (a damage that would leave a value as it was, the
  case of "123", is skipped);
- one check per damaged table that every label is true: the labelled cell holds a damaged value
  of its kind (null, a placeholder, an orphan key, …) and each labelled copy repeats the row
  before it. A false label fails, and so does a label no declared defect explains.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fabula.defects import labels_of
from fabula.defects.compile import deletions_of, references_to_deleted, value_type
from fabula.defects.follows import followed_at, followed_name
from fabula.defects.labels import as_text
from fabula.sandbox import quote
from fabula.spec.defects import DELETED_FORM, DROP_KINDS, ROW_KINDS, DefectSpec
from fabula.spec.relations import ReferenceColumn
from fabula.validate.defects import clean_rows
from fabula.validate.evidence import Evidence
from fabula.validate.report import FAIL, PASS, WARN, Check, Where

FAMILY = "defects"


def checks(evidence: Evidence) -> list[Check]:
    clean = evidence.clean
    found: list[Check] = []
    deletions = deletions_of(evidence.plan)
    for name in clean.labelled:
        table = evidence.plan.table(name)
        spec = evidence.plan.spec.tables[name]
        labels = labels_of(clean.labels, name)
        declared: dict[tuple[str, str | None, str | None], list[DefectSpec]] = {}
        for defect in spec.defects:
            if defect.is_drift:
                continue  # checked with the batches' schemas (fabula.engine.append_checks)
            declared.setdefault((defect.kind, defect.chosen_form, defect.column), []).append(defect)
        groups = _groups(labels)
        for key, defects in declared.items():
            count = len(groups.get(key, ()))
            found.append(_rate_check(name, key, sum(defect.rate for defect in defects), count, table.rows))
        implied = {("orphan", DELETED_FORM, column): deletion
                   for column, deletion in references_to_deleted(evidence.plan, name, deletions)}
        for key, deletion in implied.items():
            found.append(_deleted_parents_check(evidence, name, key[2], deletion, len(groups.get(key, ()))))
        found.append(_truth_check(evidence, name, labels, groups, {**declared, **{key: [] for key in implied}}))
    return found


def _deleted_parents_check(evidence: Evidence, name: str, column: str, deletion, count: int) -> Check:
    """A reference to a table with deleted rows: every written row pointing at a deleted row is
    labelled (the orphans follow from the parent's declaration, at about its rate)."""
    seen = evidence.clean.seen[name]
    pointing = seen.pointing.get(column, 0)
    rows = seen.written_rows
    share = count / rows if rows else 0.0
    what = f"{name}.{column}: orphan ({DELETED_FORM}), pointing at deleted {deletion.table} rows"
    where: Where = {"table": name, "column": column}
    if pointing != count:
        return Check(FAMILY, what, FAIL, f"{pointing:,} rows point at a deleted {deletion.table} row, and "
                     f"{count:,} are labelled so", expected=pointing, observed=count, **where)
    return Check(FAMILY, what, PASS, f"{count:,} of {rows:,} rows ({share:.2%}) point at a deleted "
                 f"{deletion.table} row, each labelled ({deletion.table} deletes {deletion.rate:.2%} of its rows, "
                 "so about that share of references in expectation)",
                 expected=deletion.rate, observed=round(share, 6), **where)


def _groups(labels: pa.Table) -> dict[tuple, np.ndarray]:
    """(kind, form, column) → the indexes of its labels (one pass; a few distinct keys)."""
    if not labels.num_rows:
        return {}
    keys = pa.Table.from_arrays([labels.column("kind"), labels.column("form"), labels.column("column")],
                                names=["kind", "form", "column"]).append_column(
        "index", pa.array(np.arange(labels.num_rows, dtype=np.int64)))
    grouped = keys.group_by(["kind", "form", "column"]).aggregate([("index", "list")])
    return {(kind, form, column): np.asarray(indexes, dtype=np.int64) for kind, form, column, indexes in
            zip(*(grouped.column(name).to_pylist() for name in ("kind", "form", "column", "index_list")))}


def _rate_check(table: str, key: tuple, rate: float, count: int, rows: int) -> Check:
    kind, form, column = key
    what = f"{table}{'.' + column if column else ''}: {kind}{f' ({form})' if form else ''}"
    expected = rate * rows
    tolerance = 4 * math.sqrt(max(expected * (1 - rate), 0)) + 1
    observed = count / rows if rows else 0.0
    verdict = PASS if abs(count - expected) <= tolerance else WARN
    message = (f"declared {rate:.2%}, observed {observed:.2%} ({count:,} of {rows:,} rows; "
               f"expected {expected:,.0f} ± {tolerance:,.0f})")
    return Check(FAMILY, f"{what} at {rate:.2%}", verdict, message, expected=rate, observed=round(observed, 6),
                 tolerance=round(tolerance / rows, 6) if rows else None, table=table, column=column)


def _truth_check(evidence: Evidence, name: str, labels: pa.Table, groups: dict, declared: dict) -> Check:
    """Every label true of the files, checked a (kind, form, column) at a time with Arrow
    compute: Python touches only the few labels that are wrong."""
    seen = evidence.clean.seen[name]
    rows = labels.column("row").to_numpy(zero_copy_only=False)
    originals = labels.column("original")
    wrong: list[tuple[int, str]] = []  # (label index, what is wrong), a few of each problem
    bad: list[np.ndarray] = []

    def fail(indexes: np.ndarray, problem: str) -> None:
        bad.append(indexes)
        wrong.extend((int(index), problem) for index in indexes[:3])

    removed = np.isin(np.asarray(labels.column("kind").to_pylist(), dtype=object), list(DROP_KINDS))
    past = np.where(removed, rows > seen.written_rows, rows >= seen.written_rows)  # a deleted row may be last
    fail(np.flatnonzero(past), f"past the table's {seen.written_rows:,} rows")
    for (kind, form, column), indexes in groups.items():
        indexes = indexes[~past[indexes]]
        defects = declared.get((kind, form, column))
        if defects is None:
            fail(indexes, f"{kind} {form or ''} on {column or 'the row'} is not declared")
            continue
        if kind in DROP_KINDS:
            ok = [("its key is still in the written table", indexes[np.isin(indexes, seen.still_there)])]
        elif kind in ROW_KINDS:
            ok = _copies_true(seen, form, column, evidence.clean.key(name), indexes)
        else:
            ok = _cells_true(evidence, name, seen, kind, form, column, defects[0] if defects else None, indexes,
                             originals)
        for problem, false in ok:
            fail(false, f"{kind} on {column or 'the row'}: {problem}")
    count = len(np.unique(np.concatenate(bad))) if bad else 0  # a label may break two rules
    what = f"{name}: every label is true of the written rows"
    if count:
        examples = "; ".join(f"row {rows[index]} ({problem})" for index, problem in wrong[:3])
        return Check(FAMILY, what, FAIL, f"{count:,} of {labels.num_rows:,} labels are not: " + examples,
                     expected=0, observed=count, table=name)
    return Check(FAMILY, what, PASS, f"{labels.num_rows:,} labels checked against the files", expected=0,
                 observed=0, table=name)


def _cells_true(evidence: Evidence, name: str, seen, kind: str, form: str | None, column: str, defect,
                indexes: np.ndarray, originals: pa.ChunkedArray) -> list[tuple]:
    """(problem, label indexes it applies to) for the cell labels `indexes` of one defect."""
    plan = evidence.plan
    arrow_type = plan.table(name).column(column).arrow_type
    found_indexes, values = seen.cells.get(column, (np.zeros(0, np.int64), pa.nulls(0)))
    at = _positions(found_indexes, indexes)
    problems = [("the cell was not found", indexes[at < 0])]
    indexes, at = indexes[at >= 0], at[at >= 0]
    value = values.take(pa.array(at, pa.int64()))
    text = as_text(value)
    original = originals.take(pa.array(indexes, pa.int64())).combine_chunks() if len(indexes) \
        else pa.array([], pa.string())

    def where(condition) -> np.ndarray:
        """The labels for which `condition` (an Arrow boolean array; null is false) does not hold."""
        holds = pc.fill_null(condition, False).to_numpy(zero_copy_only=False).astype(bool)
        return indexes[~holds]

    if kind == "missing":
        if form == "null":
            return [*problems, ("holds a value, not null", where(pc.is_null(value)))]
        expected = "" if form == "empty" else _text(defect.value, arrow_type)
        holds = pc.equal(text, expected)
        if form == "empty":  # CSV and JSON write an empty string as nothing
            holds = pc.or_(pc.fill_null(holds, False), pc.is_null(value))
        return [*problems, (f"does not hold {expected!r}", where(holds))]
    problems.append(("holds null", where(pc.is_valid(value))))
    if kind == "outlier":
        if defect.value is not None:
            expected = _text(defect.value, arrow_type)
            return [*problems, (f"does not hold {expected!r}", where(pc.equal(text, expected)))]
        want = pc.multiply(pc.cast(original, pa.float64()), defect.factor)
        off = pc.abs(pc.subtract(pc.cast(value, pa.float64()), want))
        limit = pc.max_element_wise(pc.multiply(pc.abs(want), 1e-6), 0.51)
        return [*problems, (f"is not about its original × {defect.factor:g}", where(pc.less_equal(off, limit)))]
    if kind == "negative":
        return [*problems, ("is not negative", where(pc.less(value, pa.scalar(0).cast(value.type))))]
    if kind == "future":
        return [*problems, (f"is not after as_of {plan.as_of}", where(pc.greater(_days(value), plan.as_of)))]
    if kind == "late":
        return [*problems, ("is not before its original", where(pc.less(text, original)))]
    if kind == "before_parent":
        follows = followed_name(plan, name, column)
        known_indexes, known = seen.followed.get(column, (np.zeros(0, np.int64), None))
        at = _positions(known_indexes, indexes)
        if known is not None and (at >= 0).all():  # as the blocks were made
            followed = known.take(pa.array(at, pa.int64()))
        else:  # computed from the plan (a folder validated again)
            followed = followed_at(plan, plan.table(name), follows,
                                   clean_rows(labels_of(evidence.clean.labels, name), indexes))
        later, earlier = _comparable(value, followed)
        return [*problems, (f"is not before the time it follows ({follows})", where(pc.less(later, earlier)))]
    if kind == "orphan" and form == DELETED_FORM:  # the value is the clean one, a deleted parent's
        reference = plan.spec.tables[name].columns[column]
        assert isinstance(reference, ReferenceColumn), "an orphan of form deleted is on a reference column"
        parent = reference.parent[0]
        values = evidence.clean.deleted_values(name).get(column, pa.array([], pa.string()))
        return [*problems, (f"points at no deleted {parent} row", where(pc.is_in(text, value_set=values)))]
    if kind in ("malformed", "orphan"):
        problems.append(("holds its original value", where(pc.not_equal(text, original))))
        if kind == "orphan":
            problems.append(_parents_found(evidence, name, column, indexes, value))
        return problems
    return [*problems, (f"unknown kind {kind}", indexes)]


def _comparable(first: pa.Array, second: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Two date/time columns as zone-less timestamps of the finer unit (a date as its midnight,
    a zoned time as its instant), as the structure family compares a time with the one it follows."""
    units = ["s", "ms", "us", "ns"]
    unit = max((column.type.unit for column in (first, second) if pa.types.is_timestamp(column.type)),
               key=units.index, default="s")
    return first.cast(pa.timestamp(unit)), second.cast(pa.timestamp(unit))


def _positions(found: np.ndarray, indexes: np.ndarray) -> np.ndarray:
    """Where each of `indexes` is in `found` (label indexes the files showed), or -1."""
    size = int(max(found.max(initial=-1), indexes.max(initial=-1))) + 1
    lookup = np.full(size, -1, dtype=np.int64)
    lookup[found] = np.arange(len(found), dtype=np.int64)
    return lookup[indexes] if len(indexes) else np.zeros(0, np.int64)


def _days(values: pa.Array) -> pa.Array:
    """Dates of dates and times (a zoned time on its zone's calendar, as Python's `.date()`)."""
    if pa.types.is_timestamp(values.type):
        if values.type.tz is not None:
            values = pc.local_timestamp(values)
        return pc.cast(values, pa.date32())
    return values


def _copies_true(seen, form: str, column: str | None, key: str | None, indexes: np.ndarray) -> list[tuple]:
    """(problem, label indexes) for the copy labels `indexes`: each repeats the row before it,
    but for the one column its form changes."""
    at = _positions(seen.copies, indexes)
    problems = [("the copy or its original row was not found", indexes[at < 0])]
    indexes, at = indexes[at >= 0], at[at >= 0]
    allowed = {"exact": None, "near": column, "new_key": key}[form]
    others = [name for name in seen.differ if name != allowed]
    differ_elsewhere = np.zeros(len(at), dtype=bool)
    for name in others:
        differ_elsewhere |= seen.differ[name][at]
    problems.append(("the copy differs from the row before in more than "
                     f"{allowed or 'nothing'}", indexes[differ_elsewhere]))
    if allowed is not None and len(at):
        changed = seen.differ.get(allowed)  # absent when no copy was read: then nothing changed it
        unchanged = np.ones(len(at), dtype=bool) if changed is None else ~changed[at]
        unchanged &= ~differ_elsewhere
        problems.append((f"the copy is identical to the row before, but {form} changes {allowed}",
                         indexes[unchanged]))
    return problems


def _parents_found(evidence: Evidence, name: str, column: str, indexes: np.ndarray, values: pa.Array) -> tuple:
    """Labelled orphans whose key a parent row has after all: one hash join per reference."""
    spec = evidence.plan.spec.tables[name]
    reference = spec.columns[column]
    assert isinstance(reference, ReferenceColumn), "an orphan damages a reference column (the spec's checks said so)"
    parent, parent_key = reference.to.split(".")
    keys = as_text(values)
    if not len(keys):
        return ("is a parent key", indexes[:0])
    sql = evidence.sql()
    hits = sql.connection.execute(
        f"select distinct o.k from (select unnest(?::varchar[]) as k) o "
        f"join {quote(parent)} p on p.{quote(parent_key)}::varchar = o.k", [keys.to_pylist()]).fetchall()
    present = pa.array([hit[0] for hit in hits], pa.string())
    hit = pc.is_in(keys, value_set=present).to_numpy(zero_copy_only=False).astype(bool)
    return (f"is a {parent} key", indexes[hit])


@lru_cache(maxsize=64)
def _text(value, arrow_type: pa.DataType) -> str:
    base = value_type(arrow_type)
    try:
        return as_text(pa.array([value]).cast(base))[0].as_py()
    except (pa.ArrowException, TypeError, ValueError):
        return as_text(pa.array([str(value)]).cast(base))[0].as_py()
