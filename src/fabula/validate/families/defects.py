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
from datetime import date, datetime
from functools import lru_cache

import pyarrow as pa

from fabula.defects import labels_of
from fabula.defects.compile import value_type
from fabula.defects.labels import as_text
from fabula.spec.defects import ROW_KINDS
from fabula.validate.evidence import Evidence, quote
from fabula.validate.report import FAIL, PASS, WARN, Check

FAMILY = "defects"


def checks(evidence: Evidence) -> list[Check]:
    clean = evidence.clean
    found: list[Check] = []
    for name in clean.tables:
        table = evidence.plan.table(name)
        spec = evidence.plan.spec.tables[name]
        labels = labels_of(clean.labels, name)
        keys = [(label_kind, form, column) for label_kind, form, column in
                zip(labels.column("kind").to_pylist(), labels.column("form").to_pylist(),
                    labels.column("column").to_pylist())]
        declared = {}
        for defect in spec.defects:
            declared.setdefault((defect.kind, defect.chosen_form, defect.column), []).append(defect)
        counts: dict[tuple, int] = {}
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
        for key, defects in declared.items():
            found.append(_rate_check(name, key, sum(defect.rate for defect in defects), counts.get(key, 0), table.rows))
        found.append(_truth_check(evidence, name, labels, keys, declared))
    return found


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


def _truth_check(evidence: Evidence, name: str, labels: pa.Table, keys: list[tuple], declared: dict) -> Check:
    seen = evidence.clean.seen[name]
    plan = evidence.plan
    table = plan.table(name)
    originals = labels.column("original").to_pylist()
    rows = labels.column("row").to_pylist()
    values = seen.values()
    wrong: list[str] = []
    orphans: dict[str, list[tuple[int, object]]] = {}
    for index, (kind, form, column) in enumerate(keys):
        defects = declared.get((kind, form, column))
        if not defects:
            wrong.append(f"row {rows[index]}: {kind} {form or ''} on {column or 'the row'} is not declared")
            continue
        if rows[index] >= seen.written_rows:
            wrong.append(f"row {rows[index]}: past the table's {seen.written_rows:,} rows")
            continue
        if kind in ROW_KINDS:
            here, before = seen.copies.get(index, ({}, {}))
            problem = _copy_problem(form, column, evidence.clean.key(name), here, before)
        else:
            value = values.get(index)
            problem = _cell_problem(kind, form, defects[0], value, originals[index], table.column(column).arrow_type,
                                    plan.as_of)
            if problem is None and kind == "orphan":
                orphans.setdefault(column, []).append((index, value[0]))
        if problem:
            wrong.append(f"row {rows[index]} ({kind} on {column or 'the row'}): {problem}")
    wrong.extend(_parents_found(evidence, name, orphans, rows))
    what = f"{name}: every label is true of the written rows"
    if wrong:
        return Check(FAMILY, what, FAIL, f"{len(wrong):,} of {len(keys):,} labels are not: " + "; ".join(wrong[:3]),
                     expected=0, observed=len(wrong), table=name)
    return Check(FAMILY, what, PASS, f"{len(keys):,} labels checked against the files", expected=0, observed=0,
                 table=name)


def _cell_problem(kind: str, form: str | None, defect, value: tuple | None, original: str | None,
                  arrow_type: pa.DataType, as_of: date) -> str | None:
    """What is wrong with a cell label, given the cell's (value, value as text), or None."""
    if value is None:
        return "the cell was not found"
    plain, text = value
    if kind == "missing":
        if form == "null":
            return None if plain is None else f"holds {plain!r}, not null"
        expected = "" if form == "empty" else _text(defect.value, arrow_type)
        if form == "empty" and plain is None:
            return None  # CSV and JSON write an empty string as nothing
        return None if text == expected else f"holds {plain!r}, not {expected!r}"
    if plain is None:
        return "holds null"
    if kind == "outlier":
        if defect.value is not None:
            expected = _text(defect.value, arrow_type)
            return None if text == expected else f"holds {plain!r}, not {expected!r}"
        want = float(original) * defect.factor
        return None if math.isclose(float(plain), want, rel_tol=1e-6, abs_tol=0.51) else \
            f"holds {plain!r}, not about {want:g} ({original} × {defect.factor:g})"
    if kind == "negative":
        return None if float(plain) < 0 else f"holds {plain!r}, which is not negative"
    if kind == "future":
        day = plain.date() if isinstance(plain, datetime) else plain
        return None if day > as_of else f"holds {plain!r}, not after as_of {as_of}"
    if kind == "late":
        return None if text < original else f"holds {plain!r}, not before its original {original}"
    if kind in ("malformed", "orphan"):
        return None if text != original else "holds its original value"
    return f"unknown kind {kind}"


def _copy_problem(form: str | None, column: str | None, key: str | None, here: dict, before: dict) -> str | None:
    if not here or not before:
        return "the copy or its original row was not found"
    differ = sorted(name for name in here if here[name] != before.get(name))
    allowed = {"exact": [], "near": [column], "new_key": [key]}[form]
    if differ == allowed:
        return None
    if not differ:
        return f"the copy is identical to the row before, but {form} changes {allowed[0]}"
    return f"the copy differs from the row before in {', '.join(differ)}"


def _parents_found(evidence: Evidence, name: str, orphans: dict, rows: list) -> list[str]:
    """Labelled orphans whose key a parent row has after all (one query per reference)."""
    wrong = []
    spec = evidence.plan.spec.tables[name]
    for column, found in orphans.items():
        parent, parent_key = spec.columns[column].to.split(".")
        values = [str(value) for _, value in found]
        sql = evidence.sql()
        hits = sql.connection.execute(
            f"select {quote(parent_key)}::varchar from {quote(parent)} "
            f"where list_contains(?, {quote(parent_key)}::varchar)", [values]).fetchall()
        present = {hit[0] for hit in hits}
        wrong.extend(f"row {rows[index]} (orphan on {column}): {value!r} is a {parent} key"
                     for index, value in found if str(value) in present)
    return wrong


@lru_cache(maxsize=64)
def _text(value, arrow_type: pa.DataType) -> str:
    base = value_type(arrow_type)
    try:
        return as_text(pa.array([value]).cast(base))[0].as_py()
    except (pa.ArrowException, TypeError, ValueError):
        return as_text(pa.array([str(value)]).cast(base))[0].as_py()
