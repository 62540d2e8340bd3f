"""What each column should look like, derived from the compiled plan: per group of rows (one
group, or one per case of a conditional column), the declared null fraction and either the
declared distribution in fixed bins or the declared category weights.

What is declared comes from each kind's generator: its `law()` (a closed-form distribution) or
its `shares()` (levels and weights), and whether its nulls are its own (`generators.base.KINDS`);
nothing here names a kind.

Bins: the edges are quantiles of a small seeded reference sample drawn by the column's own
generator (so they sit where the data is, modifiers included), and the probability of each bin
comes from the closed-form law (`generators/laws.py`), so it is exact. Whole-number
values get edges at k + 0.5 and rounded values at the midpoints of their rounding grid, so
rounding never moves a value across an edge; `clip` piles the clipped mass onto the first or
last bin, which is where the formula puts it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa

from fabula.generators.base import EPOCH, TICKS_PER_DAY, BlockContext, kind_of
from fabula.generators.laws import shown_value, storage_of
from fabula.plan.blocks import PlanReader
from fabula.plan.model import Plan, TablePlan
from fabula.spec.columns import AnyColumn, ConditionalColumn

PILOT_ROWS = 16_384
"""Reference draws that place the bin edges (not the probabilities, which are exact)."""

BINS = 20
"""Bins per distribution: edges at the 5%, 10%, … 95% points of the reference sample."""



@dataclass(frozen=True)
class NumericModel:
    """A declared distribution in bins: P(value in bin i) for bins cut at `edges`."""

    describe: str
    edges: np.ndarray
    probabilities: np.ndarray
    mean: float | None = None
    constant: float | None = None
    """Set when every value is this one (a constant case, or a distribution with no spread)."""
    storage: str = "number"
    """number, date or timestamp[unit]: how values are stored (dates and times as whole numbers)."""


@dataclass(frozen=True)
class LevelModel:
    """Declared category weights (normalised)."""

    describe: str
    levels: tuple
    weights: tuple[float, ...]


@dataclass(frozen=True)
class Group:
    """The rows of one case of a column (or all rows of a plain column)."""

    label: str
    nulls: float
    """The declared null fraction of these rows (the case's and the column's `nulls`)."""
    null_checked: bool
    numeric: NumericModel | None = None
    levels: LevelModel | None = None


@dataclass(frozen=True)
class Grouping:
    """How rows fall into the cases of a conditional column."""

    by: str
    keys: tuple
    bins: tuple[float, ...] | None
    has_default: bool

    @property
    def size(self) -> int:
        """Groups including the rows no case covers (the last)."""
        return len(self.keys) + (1 if self.has_default else 0) + 1


@dataclass(frozen=True)
class ColumnModel:
    table: str
    column: str
    kind: str
    arrow_type: pa.DataType
    groups: tuple[Group, ...]
    grouping: Grouping | None = None
    """None for a plain column: one group holds every row."""

    @property
    def levels(self) -> tuple:
        """Every declared level of any group, in first-seen order (codes index this)."""
        seen: dict[Any, None] = {}
        for group in self.groups:
            if group.levels is not None:
                for level in group.levels.levels:
                    seen.setdefault(level_key(level), level)
        return tuple(seen.values())

    @property
    def null_checked(self) -> bool:
        return all(group.null_checked for group in self.groups)


def declared_columns(plan: Plan, table: str) -> dict[str, AnyColumn]:
    """The columns a spec declares for a table; none for tables fabula adds itself (the events)."""
    declared = plan.spec.tables.get(table)
    return dict(declared.columns) if declared is not None else {}


def column_models(plan: Plan) -> list[ColumnModel]:
    """The model of every output column that has something declared to check."""
    models = []
    for table in plan.tables:
        spec_columns = declared_columns(plan, table.name)
        for column in table.outputs:
            spec = spec_columns.get(column.name)
            if spec is None or spec.during:  # event overrides: the story checks' job
                continue
            generator = getattr(column.generator, "inner", None) if getattr(spec, "when", None) else None
            model = _column_model(plan, table, column.name, spec, generator or column.generator)
            if model is not None and (model.null_checked or any(g.numeric or g.levels for g in model.groups)):
                models.append(model)
    return models


def _column_model(plan: Plan, table: TablePlan, name: str, spec, generator) -> ColumnModel | None:
    arrow_type = generator.arrow_type
    if isinstance(spec, ConditionalColumn):
        cases = list(zip([key for key, _ in spec.cases], [branch for _, branch in generator.cases]))
        if generator.default is not None:
            cases.append(("(default)", generator.default))
        groups = [_group(plan, table.name, name, str(key), branch.spec, branch, spec, arrow_type)
                  for key, branch in cases]
        # rows no case covers are null whatever the spec says (their `by` value is null)
        groups.append(Group("(no case)", 1.0, True))
        grouping = Grouping(spec.by, tuple(key for key, _ in spec.cases), spec.bins, generator.default is not None)
        return ColumnModel(table.name, name, spec.kind, arrow_type, tuple(groups), grouping)
    return ColumnModel(table.name, name, spec.kind, arrow_type,
                       (_group(plan, table.name, name, "", spec, generator, None, arrow_type),))


def _group(plan: Plan, table: str, column: str, label: str, spec, generator, outer, arrow_type) -> Group:
    outer_nulls = outer.nulls if outer is not None else 0.0
    nulls = 1 - (1 - outer_nulls) * (1 - spec.nulls)
    kind = kind_of(spec)
    null_checked = (kind is not None and kind.own_nulls and not isinstance(getattr(spec, "lag", None), str)
                    and not _conditional_nulls(spec) and not (outer is not None and _conditional_nulls(outer)))
    if spec.unique or getattr(spec, "after", None) or getattr(spec, "timeline", None):
        return Group(label, nulls, null_checked)  # values drawn without replacement or after another
    shares = generator.shares()
    if shares is not None:
        return Group(label, nulls, null_checked, levels=LevelModel(shares.describe, shares.levels, shares.weights))
    numeric = _numeric_model(plan, table, column, label, spec, generator, outer, arrow_type)
    return Group(label, nulls, null_checked, numeric=numeric)


def _conditional_nulls(spec) -> bool:
    """Nulls beyond `nulls:`: rows a `when:` condition leaves out, times censored at `as_of`."""
    if getattr(spec, "when", None):
        return True
    censor = getattr(spec, "censor", None)
    return bool(censor) or bool(censor is None and getattr(spec, "timeline", None) and getattr(spec, "after", None))


# -- numeric ----------------------------------------------------------------------------------------


def _numeric_model(plan: Plan, table: str, column: str, label: str, spec, generator, outer,
                   arrow_type: pa.DataType) -> NumericModel | None:
    storage = storage_of(arrow_type)
    law = generator.law()
    if law is None:
        return None
    describe = law.describe or f"{spec.kind}({_parameters(generator)})"
    closed = (law.cdf, law.discrete, law.mean) if law.cdf is not None else None
    pilot = _pilot(plan, table, column, label, generator, outer, arrow_type)
    low, high = _clip_bounds(spec, outer, arrow_type)
    decimals = _decimals(spec, outer) if pa.types.is_floating(arrow_type) else None
    modifiers = _modifiers(low, high, decimals, storage)
    if pilot.size and pilot.min() == pilot.max():
        value = float(pilot[0])
        return NumericModel(f"{describe}{modifiers}", np.zeros(0), np.ones(1), value, value, storage)
    if closed is None or not pilot.size:
        return None
    cdf, discrete, mean = closed
    whole = discrete or storage != "number"
    edges = _edges(pilot, whole, decimals, low, high)
    below = np.array([_below(cdf, edge, whole, low, high) for edge in edges], dtype=np.float64)
    probabilities = np.diff(np.concatenate([[0.0], below, [1.0]]))
    if low is not None or high is not None:
        mean = None  # clipping moves the mean; the bins still carry the whole shape
    return NumericModel(f"{describe}{modifiers}", edges, np.maximum(probabilities, 0.0), mean, None, storage)


def _pilot(plan: Plan, table: str, column: str, label: str, generator, outer, arrow_type) -> np.ndarray:
    """A reference sample from the column's own generator (its own stream name, so never the
    data's own values), with the conditional column's modifiers applied as the data gets them."""
    context = BlockContext(seed=plan.seed, table=table, column=f"{column}#validate[{label}]", block=0,
                           start=0, n=PILOT_ROWS, relations=PlanReader(plan))
    drawn = generator.generate(context)
    values = as_numbers(drawn)[np.asarray(drawn.is_valid())] if drawn.null_count else as_numbers(drawn)
    if outer is not None:
        low, high = _bounds(outer.clip, arrow_type)
        if low is not None or high is not None:
            values = np.clip(values, low, high)
        if outer.round is not None and pa.types.is_floating(arrow_type):
            values = np.round(values, outer.round)
    return values.astype(np.float64)


def as_numbers(array: pa.Array) -> np.ndarray:
    """Values as float64 (dates as days, timestamps as ticks since 1970; nulls as 0)."""
    if pa.types.is_date32(array.type):
        array = array.view(pa.int32())
    elif pa.types.is_timestamp(array.type):
        array = array.view(pa.int64())
    if array.null_count:
        array = array.fill_null(0)
    return array.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)


def _edges(pilot: np.ndarray, whole: bool, decimals: int | None, low, high) -> np.ndarray:
    edges = np.quantile(pilot, np.arange(1, BINS) / BINS)
    if whole:
        edges = np.floor(edges) + 0.5
    elif decimals is not None:
        step = 10.0 ** -decimals
        edges = (np.floor(edges / step) + 0.5) * step
    edges = np.unique(edges)
    guard = 0.25 * (1.0 if whole else 10.0 ** -decimals if decimals is not None else 0.0)
    if low is not None:
        edges = edges[edges > low + guard]
    if high is not None:
        edges = edges[edges < high - guard]
    return edges


def _below(cdf, edge: float, whole: bool, low, high) -> float:
    """P(value < edge) for the clipped distribution (edges never sit on a value)."""
    if whole:
        k = math.floor(edge)
        if low is not None and k < math.ceil(low):
            return 0.0
        if high is not None and k >= math.floor(high):
            return 1.0
        return cdf(k)
    if low is not None and edge <= low:
        return 0.0
    if high is not None and edge > high:
        return 1.0
    return cdf(edge)


def _clip_bounds(spec, outer, arrow_type) -> tuple[float | None, float | None]:
    """The tighter of the case's and the column's clip bounds, in storage units."""
    low, high = _bounds(spec.clip, arrow_type)
    if outer is not None:
        outer_low, outer_high = _bounds(outer.clip, arrow_type)
        low = outer_low if low is None else low if outer_low is None else max(low, outer_low)
        high = outer_high if high is None else high if outer_high is None else min(high, outer_high)
    return low, high


def _bounds(clip, arrow_type) -> tuple[float | None, float | None]:
    if clip is None:
        return None, None
    return tuple(_units(bound, arrow_type) for bound in (clip.min, clip.max))  # type: ignore[return-value]


def _units(bound, arrow_type) -> float | None:
    if bound is None:
        return None
    if isinstance(bound, date):
        days = (bound - EPOCH).days
        return float(days * TICKS_PER_DAY[arrow_type.unit] if pa.types.is_timestamp(arrow_type) else days)
    return float(bound)


def _decimals(spec, outer) -> int | None:
    given = [d for d in (spec.round, outer.round if outer is not None else None) if d is not None]
    return min(given) if given else None


def _parameters(generator) -> str:
    return ", ".join(f"{name}={value:g}" if isinstance(value, float) else f"{name}={value}"
                     for name, value in generator.describe().items() if value is not False)


def _modifiers(low, high, decimals, storage: str) -> str:
    parts = []
    if low is not None and high is not None:
        parts.append(f"clip [{shown_value(low, storage)}, {shown_value(high, storage)}]")
    elif low is not None:
        parts.append(f"clip ≥ {shown_value(low, storage)}")
    elif high is not None:
        parts.append(f"clip ≤ {shown_value(high, storage)}")
    if decimals is not None:
        parts.append(f"round {decimals}")
    return (", " + ", ".join(parts)) if parts else ""


def level_key(level: Any) -> Any:
    """Levels compare by type and value: True is not 1."""
    return (type(level).__name__, level)
