"""Columns: null fractions, distributions and category shares against what the spec declares,
overall and per case of a conditional column (`by:`).

Per block, each checked column keeps: rows and nulls per case, and per case either counts in
the fixed bins of its declared distribution (plus count, total, min and max) or counts per
declared category. Those add up exactly across blocks. Tolerances: see `tolerance.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fabula.generators.conditional import bin_masks
from fabula.validate.evidence import Evidence
from fabula.validate.models import (
    ColumnModel,
    LevelModel,
    NumericModel,
    as_numbers,
    column_models,
    level_key,
    shown_value,
)
from fabula.validate.report import FAIL, PASS, SKIP, Check
from fabula.validate.statistics import Examples, Moments, Unreadable, case_index
from fabula.validate.tolerance import gap_tolerance, mixture_tolerance, share_tolerance

FAMILY = "columns"
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
SHORT_DICTIONARY = 32
"""Dictionaries up to this many entries are matched to levels in Python (about 1 µs an entry)."""


@dataclass(frozen=True)
class ColumnStatistic:
    """Rows, nulls and values of one column, per case."""

    model: ColumnModel

    @property
    def key(self) -> str:
        return f"{FAMILY}:{self.model.table}.{self.model.column}"

    @property
    def table(self) -> str:
        return self.model.table

    def observe(self, view) -> dict:
        model = self.model
        array = view.batch.column(model.column)
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        groups = self._groups(view, len(array))
        valid = np.asarray(array.is_valid()) if array.null_count else None
        size = len(model.groups)
        if groups is None:
            state = {"rows": np.array([len(array)], dtype=np.int64),
                     "nulls": np.array([array.null_count], dtype=np.int64)}
        else:
            state = {"rows": np.bincount(groups, minlength=size).astype(np.int64),
                     "nulls": np.bincount(groups[~valid], minlength=size).astype(np.int64) if valid is not None
                     else np.zeros(size, dtype=np.int64)}
        if any(group.numeric is not None for group in model.groups):
            state.update(self._numbers(array, groups, valid))
        if any(group.levels is not None for group in model.groups):
            state.update(self._levels(array, groups, valid))
        return state

    def _groups(self, view, n: int) -> np.ndarray | None:
        grouping = self.model.grouping
        if grouping is None:
            return None
        by = view.column(grouping.by)
        if by is None:
            raise ValueError(f"its rows could not be put in the cases of `{grouping.by}` (the table does not "
                             "have the planned rows)")
        if isinstance(by, pa.ChunkedArray):
            by = by.combine_chunks()
        keys = list(grouping.keys)
        uncovered = len(keys) if grouping.has_default else len(self.model.groups) - 1
        if not grouping.bins:
            return case_index(by, keys, uncovered=uncovered)
        groups = np.full(n, uncovered, dtype=np.int64)
        for index, mask in enumerate(bin_masks(by, grouping.bins, keys)):
            groups[mask] = index
        return groups

    def _numbers(self, array: pa.Array, groups, valid) -> dict:
        planned = self.model.arrow_type
        if pa.types.is_timestamp(array.type) and pa.types.is_timestamp(planned) and array.type != planned:
            array = array.cast(planned)  # seconds come back from Parquet as milliseconds
        values = as_numbers(array)
        state: dict[str, Moments | np.ndarray] = {}
        for index, group in enumerate(self.model.groups):
            if group.numeric is None:
                continue
            select = _selection(groups, index, valid)
            chosen = values if select is None else np.compress(select, values)
            state[f"moments{index}"] = Moments.of(chosen)
            if group.numeric.constant is None:
                state[f"bins{index}"] = bin_counts(chosen, group.numeric.edges)
        return state

    def _levels(self, array: pa.Array, groups, valid) -> dict:
        levels = self.model.levels
        other = len(levels)
        width = other + 1
        size = len(self.model.groups)
        if isinstance(array, pa.DictionaryArray):
            counts = _dictionary_level_counts(array, levels, groups, valid, size)
        else:
            codes = _codes(array, levels)
            row_groups = groups if groups is not None else np.zeros(len(array), dtype=np.int64)
            if valid is not None:
                codes, row_groups = codes[valid], row_groups[valid]
            counts = np.bincount(row_groups * width + codes, minlength=size * width).reshape(size, width)
        state: dict[str, np.ndarray | Examples] = {"levels": counts.astype(np.int64)}
        if counts[:, other].any():  # values the spec does not declare: name a few (a failure, rare)
            codes = _codes(array, levels)
            unknown = codes[valid] == other if valid is not None else codes == other
            taken = array.filter(pa.array(valid)) if valid is not None else array
            strange = pc.unique(taken.filter(pa.array(unknown)))
            if isinstance(strange, pa.DictionaryArray):
                strange = strange.dictionary_decode()
            state["unknown"] = Examples(tuple(sorted(map(str, strange.to_pylist()[:20])))[:5])
        return state


def _dictionary_level_counts(array: pa.DictionaryArray, levels: tuple, groups, valid, size: int) -> np.ndarray:
    """Rows per (case, declared level or other), counted per dictionary code and then summed
    into levels: one bincount of the codes, whatever the number of levels."""
    other = len(levels)
    dictionary = array.dictionary
    entries = len(dictionary)
    level_of = _entry_levels(dictionary, levels)
    codes = array.indices.to_numpy(zero_copy_only=False) if not array.null_count else \
        array.indices.fill_null(0).to_numpy(zero_copy_only=False)
    keys = codes.astype(np.int64, copy=False) if groups is None else groups * entries + codes
    if valid is not None:
        keys = keys[valid]
    per_entry = np.bincount(keys, minlength=size * entries).reshape(size, entries) if entries else \
        np.zeros((size, 0), dtype=np.int64)
    counts = np.zeros((size, other + 1), dtype=np.int64)
    np.add.at(counts.T, level_of, per_entry.T)  # each entry's rows into its level's column (a view)
    return counts


def _entry_levels(dictionary: pa.Array, levels: tuple) -> np.ndarray:
    """Each dictionary entry's position in the declared levels (compared as text), len(levels)
    for anything else. A long string dictionary without nulls is looked up by Arrow (without a
    Python string per entry); a short one, where Arrow's fixed cost is the larger, and other
    dictionaries entry by entry (a null entry reads "None", as `str` gives it)."""
    other = len(levels)
    position = {str(level): index for index, level in enumerate(levels)}
    if len(dictionary) > SHORT_DICTIONARY and not dictionary.null_count and \
            (pa.types.is_string(dictionary.type) or pa.types.is_large_string(dictionary.type)):
        lookup = np.array([*position.values(), other], dtype=np.int64)
        found = pc.index_in(dictionary, value_set=pa.array(list(position), type=dictionary.type))
        return lookup[found.fill_null(len(position)).to_numpy(zero_copy_only=False)]
    return np.array([position.get(str(value), other) for value in dictionary.to_pylist()], dtype=np.int64)


def bin_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Values per bin (bin i holds edges[i-1] <= value < edges[i]; NaN in the last): one
    vectorised comparison per edge, an order of magnitude cheaper than sorting the values (and
    than a binary search per value), with the same counts.

    >>> bin_counts(np.array([7.0, 1.0, 0.5, 1.5]), np.array([1.0, 2.0])).tolist()
    [1, 2, 1]
    """
    below = [np.count_nonzero(values < edge) if edge == edge else np.count_nonzero(values == values)
             for edge in edges.tolist()]  # a NaN edge: NaN sorts after every number
    return np.diff(np.array([0, *below, len(values)], dtype=np.int64))


def _selection(groups: np.ndarray | None, index: int, valid: np.ndarray | None) -> np.ndarray | None:
    if groups is None:
        return valid
    select = groups == index
    return select & valid if valid is not None else select


def _codes(array: pa.Array, levels: tuple) -> np.ndarray:
    """Each row's position in the declared levels; len(levels) for anything else (nulls too)."""
    other = len(levels)
    if isinstance(array, pa.DictionaryArray):
        lookup = np.append(_entry_levels(array.dictionary, levels), other)
        indices = array.indices.fill_null(len(lookup) - 1).to_numpy(zero_copy_only=False)
        return lookup[indices]
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        value_set = pa.array([str(level) for level in levels], type=array.type)
    else:
        value_set = pa.array(list(levels)).cast(array.type)
    found = pc.index_in(array, value_set=value_set)
    return found.fill_null(other).to_numpy(zero_copy_only=False).astype(np.int64)


def statistics(plan) -> list[ColumnStatistic]:
    return [ColumnStatistic(model) for model in column_models(plan)]


# -- checks ------------------------------------------------------------------------------------------


def checks(evidence: Evidence) -> list[Check]:
    found: list[Check] = []
    for statistic in evidence.of_type(ColumnStatistic):
        state = evidence.state(statistic)
        model = statistic.model
        name = f"{model.table}.{model.column}"
        if isinstance(state, Unreadable):
            found.append(Check(FAMILY, f"{name} could be read", FAIL, f"could not check: {state.reason}",
                               table=model.table, column=model.column))
            continue
        if state is None:  # no rows
            continue
        if model.null_checked:
            found.append(_null_check(model, state))
        for index, group in enumerate(model.groups):
            if group.numeric is not None:
                found.append(_distribution_check(model, index, group.label, group.numeric, state))
            elif group.levels is not None:
                found.append(_share_check(model, index, group.label, group.levels, state))
    return found


def _title(model: ColumnModel, label: str) -> str:
    name = f"{model.table}.{model.column}"
    return f"{name} [{model.grouping.by}={label}]" if model.grouping is not None else name


def _null_check(model: ColumnModel, state: dict) -> Check:
    rows, nulls = state["rows"], state["nulls"]
    n = int(rows.sum())
    expected, tolerance = mixture_tolerance([(group.nulls, int(count)) for group, count in zip(model.groups, rows)])
    observed = int(nulls.sum()) / n if n else 0.0
    verdict = PASS if abs(observed - expected) <= tolerance + 1e-12 else FAIL
    if expected == 0:
        message = "no nulls, as declared" if verdict == PASS else \
            f"{int(nulls.sum()):,} nulls ({observed:.2%}), but the spec declares none"
    else:
        message = f"{observed:.2%} null, declared {expected:.2%} (tolerance ±{tolerance:.2%})"
    return Check(FAMILY, f"{model.table}.{model.column} nulls", verdict, message, expected=expected,
                 observed=observed, tolerance=tolerance, table=model.table, column=model.column,
                 details={"rows": n, "nulls": int(nulls.sum())})


def _distribution_check(model: ColumnModel, index: int, label: str, numeric: NumericModel, state: dict) -> Check:
    """The values of group `label` (number `index`) against its declared distribution."""
    moments: Moments = state.get(f"moments{index}", Moments())
    title = _title(model, label)
    base = dict(table=model.table, column=model.column)
    where = {"group": label, "by": model.grouping.by} if model.grouping is not None else {}
    if not moments.count:
        return Check(FAMILY, f"{title} ~ {numeric.describe}", SKIP, "no values to check", **base, details=where)
    if numeric.constant is not None:
        same = _close(moments.low, numeric.constant) and _close(moments.high, numeric.constant)
        shown = shown_value(numeric.constant, numeric.storage)
        message = (f"all {moments.count:,} values are {shown}, as declared" if same else
                   f"values range from {shown_value(moments.low, numeric.storage)} to "
                   f"{shown_value(moments.high, numeric.storage)}, declared always {shown}")
        return Check(FAMILY, f"{title} = {shown}", PASS if same else FAIL, message, expected=numeric.constant,
                     observed=[moments.low, moments.high], tolerance=0, **base, details=where)
    counts = state[f"bins{index}"]
    n = int(counts.sum())
    observed_below = np.cumsum(counts)[:-1] / n
    expected_below = np.cumsum(numeric.probabilities)[:-1]
    gaps = np.abs(observed_below - expected_below)
    worst = int(np.argmax(gaps)) if gaps.size else 0
    gap = float(gaps[worst]) if gaps.size else 0.0
    tolerance = gap_tolerance(n)
    verdict = PASS if gap <= tolerance else FAIL
    mean = moments.mean
    assert mean is not None, "there are values (checked above), so they have a mean"
    observed = {"max_gap": gap, "mean": mean, "values": n,
                "quantiles": _quantiles(numeric.edges, observed_below, moments)}
    expected = {"distribution": numeric.describe, "mean": numeric.mean,
                "quantiles": _quantiles(numeric.edges, expected_below, moments)}
    mean_text = f"mean {shown_value(mean, numeric.storage) if numeric.storage != 'number' else f'{mean:.4g}'}"
    if numeric.mean is not None and numeric.storage == "number":
        mean_text += f" (declared {numeric.mean:.4g})"
    if verdict == PASS:
        message = f"largest gap in cumulative shares {gap:.2%} (tolerance {tolerance:.2%}); {mean_text}"
    elif gaps.size:
        edge = shown_value(float(numeric.edges[worst]), numeric.storage)
        message = (f"does not follow {numeric.describe}: {observed_below[worst]:.1%} of values are below {edge}, "
                   f"declared {expected_below[worst]:.1%} (gap {gap:.2%}, tolerance {tolerance:.2%}); {mean_text}")
    else:
        message = f"does not follow {numeric.describe}"
    details = {**where, "plot": "histogram", "storage": numeric.storage, "edges": numeric.edges.tolist(),
               "observed": counts.tolist(), "expected": numeric.probabilities.tolist(),
               "low": moments.low, "high": moments.high}
    return Check(FAMILY, f"{title} ~ {numeric.describe}", verdict, message, expected=expected, observed=observed,
                 tolerance=tolerance, **base, details=details)


def _quantiles(edges: np.ndarray, below: np.ndarray, moments: Moments) -> dict[str, float]:
    """Quantiles read off a cumulative share at the bin edges, by linear interpolation (the same
    way for the declared and the observed side, so the two compare)."""
    if not edges.size:
        return {}
    points = np.concatenate([[moments.low], edges, [moments.high]])
    shares = np.concatenate([[0.0], np.maximum.accumulate(below), [1.0]])
    found = {}
    for q in QUANTILES:
        found[f"p{round(q * 100)}"] = float(np.interp(q, shares, points))
    return found


def _share_check(model: ColumnModel, index: int, label: str, levels: LevelModel, state: dict) -> Check:
    """The values of group `label` (number `index`) against its declared category weights."""
    title = _title(model, label)
    base = dict(table=model.table, column=model.column)
    where = {"group": label, "by": model.grouping.by} if model.grouping is not None else {}
    counts = state["levels"][index]
    n = int(counts.sum())
    if not n:
        return Check(FAMILY, f"{title} shares", SKIP, "no values to check", **base, details=where)
    union = [level_key(level) for level in model.levels]
    positions = [union.index(level_key(level)) for level in levels.levels]
    declared = dict(zip(positions, levels.weights))
    shares = {str(level): int(counts[position]) / n for level, position in zip(levels.levels, positions)}
    expected = {str(level): weight for level, weight in zip(levels.levels, levels.weights)}
    tolerances = {str(level): share_tolerance(weight, n) for level, weight in zip(levels.levels, levels.weights)}
    undeclared = n - sum(int(counts[position]) for position in declared)
    off = [level for level in shares if abs(shares[level] - expected[level]) > tolerances[level] + 1e-12]
    problems = [f"{level} {shares[level]:.1%} (declared {expected[level]:.1%}, tolerance ±{tolerances[level]:.1%})"
                for level in off]
    if undeclared:
        examples = state.get("unknown", Examples()).values
        shown = f" (e.g. {', '.join(map(repr, examples))})" if examples else ""
        problems.append(f"{undeclared:,} value{'s' if undeclared != 1 else ''} not declared{shown}")
    gap = max(abs(shares[level] - expected[level]) for level in shares)
    message = "; ".join(problems) if problems else \
        f"every share within tolerance of its weight (largest gap {gap:.2%}, {n:,} values)"
    observed = {**shares, **({"(not declared)": undeclared / n} if undeclared else {})}
    details = {**where, "plot": "shares", "levels": list(expected), "observed": [shares[k] for k in expected],
               "expected": list(expected.values()), "values": n}
    return Check(FAMILY, f"{title} shares", FAIL if problems else PASS, message, expected=expected,
                 observed=observed, tolerance=tolerances, **base, details=details)


def _close(value: float, target: float) -> bool:
    return abs(value - target) <= 1e-9 * max(1.0, abs(target))
