"""Generators that connect tables: which parent row a row belongs to, the parent's key and
values read through it, counts of children per parent, and aggregates of children.

None of them joins anything: a parent key is computed from the parent row number, and what
they need of other tables comes from `ctx.relations`, answered by the plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from fabula.generators.base import BlockContext, CompileEnv, Generator, generator, null_mask
from fabula.generators.draws import inverse_cdf
from fabula.spec.columns import ColumnSpec
from fabula.spec.relations import AggregateColumn, LookupColumn, ReferenceColumn, split_target

ROW_SUFFIX = "#row"
PARENT_ROWS = "#parent"


def row_column(reference: str) -> str:
    """The hidden column holding the parent row number behind a reference column."""
    return f"{reference}{ROW_SUFFIX}"


def count_column(child: str) -> str:
    """The hidden column of a parent holding how many rows of `child` each row has."""
    return f"#count:{child}"


# -- which parent row -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ParentRowGenerator(Generator[ReferenceColumn]):
    """The parent row number behind a reference: the owning parent in a table sized per parent,
    else a draw (uniform, Zipf, hotspot or weighted by a parent column), O(1) per row."""

    kind = "reference"
    owned: bool = False
    """True when the table is sized per this parent: every row belongs to its own parent."""

    nulls: float = 0.0
    """The reference's `nulls`, drawn here from the reference column's own nulls stream (the
    same rows as `nulls` on any other kind of that column), not from this hidden column's."""

    @classmethod
    def compile(cls, spec: ReferenceColumn, env: CompileEnv, *, owned: bool = False):
        return cls(spec=spec.model_copy(update={"nulls": 0.0}), arrow_type=pa.int64(), owned=owned,
                   nulls=spec.nulls)

    def _generate(self, ctx: BlockContext) -> pa.Array:
        reference = ctx.for_column(ctx.column.removesuffix(ROW_SUFFIX))
        missing = null_mask(self.nulls, reference)
        if self.spec.matched is not None and not self.owned:
            rows, unmatched = self._matching_rows(ctx)
            missing = unmatched if missing is None else missing | unmatched
            return pa.array(rows, type=pa.int64(), mask=missing)
        return pa.array(self._rows(ctx), type=pa.int64(), mask=missing)

    def _matching_rows(self, ctx: BlockContext) -> tuple[np.ndarray, np.ndarray]:
        """A uniform parent among those whose `match` column equals the row's value; none (null)
        where no parent has the value, or the value is null."""
        assert self.spec.matched is not None  # only called with `match:`
        parent_column, own_column = self.spec.matched
        assert ctx.relations is not None  # the plan passes its relations to every block
        index = ctx.relations.levels(self.spec.parent[0], parent_column)
        level = level_of(ctx.columns[own_column], index.values)
        found = level >= 0
        counts = np.where(found, index.counts[np.maximum(level, 0)], 0)
        within = np.floor(ctx.rng().random(ctx.n) * counts).astype(np.int64)
        position = np.where(counts > 0, index.offsets[np.maximum(level, 0)] + within, 0)
        rows = index.rows[position] if len(index.rows) else np.zeros(ctx.n)
        return rows.astype(np.int64), counts == 0

    def _rows(self, ctx: BlockContext) -> np.ndarray:
        if self.owned:
            return ctx.columns[PARENT_ROWS].to_numpy()
        parent, _ = self.spec.parent
        assert ctx.relations is not None  # the plan passes its relations to every block
        count = ctx.relations.table_rows(parent)
        if count == 0:
            raise ValueError(f"`{parent}` has no rows to reference")
        rng = ctx.rng()
        if self.spec.pick == "uniform":
            return rng.integers(0, count, ctx.n, dtype=np.int64)
        if self.spec.pick == "zipf":
            assert self.spec.a is not None  # the spec requires `a` with pick: zipf
            return spread(zipf_ranks(rng, self.spec.a, count, ctx.n), count)
        if self.spec.pick == "hotspot":
            assert self.spec.hot is not None and self.spec.share is not None  # required with pick: hotspot
            return spread(hotspot_ranks(rng, self.spec.hot, self.spec.share, count, ctx.n), count)
        assert self.spec.weight_by is not None and self.spec.weights is not None  # pick: weighted
        return weighted_rows(rng, ctx.relations.levels(parent, self.spec.weight_by), self.spec.weights, ctx.n)


def level_of(values: pa.Array, levels: list) -> np.ndarray:
    """Each value's position in `levels` (the parent's distinct values), -1 where it has none."""
    import pyarrow.compute as pc

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    known = [level for level in levels if level is not None]
    if not known:
        return np.full(len(values), -1, dtype=np.int64)
    try:
        value_set = pa.array(known).cast(values.type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # e.g. text against numbers: nothing matches
        return np.full(len(values), -1, dtype=np.int64)
    positions = pc.index_in(values, value_set=value_set).fill_null(-1).to_numpy(zero_copy_only=False)
    remap = np.array([levels.index(level) for level in known] + [-1], dtype=np.int64)
    return remap[np.where(positions >= 0, positions, len(known))]


def zipf_ranks(rng: np.random.Generator, a: float, count: int, n: int) -> np.ndarray:
    """Popularity ranks 0..count-1 with P(rank r) ≈ (r+1)^-a, by inverting the continuous
    power law on [1, count+1): O(1) per row whatever the number of parents."""
    u = rng.random(n)
    top = float(count + 1)
    if abs(a - 1.0) < 1e-9:
        x = np.exp(u * math.log(top))
    else:
        power = 1.0 - a
        x = (1.0 + u * (top ** power - 1.0)) ** (1.0 / power)
    return np.minimum(np.floor(x).astype(np.int64) - 1, count - 1)


def hotspot_ranks(rng: np.random.Generator, hot: float, share: float, count: int, n: int) -> np.ndarray:
    """`share` of the rows go to the first `hot` fraction of ranks, the rest to the others."""
    hot_count = min(count, max(1, round(hot * count)))
    to_hot = rng.random(n) < share
    if hot_count == count:
        to_hot[:] = True
    uniform = rng.random(n)
    cold = hot_count + np.floor(uniform * (count - hot_count)).astype(np.int64)
    return np.where(to_hot, np.floor(uniform * hot_count).astype(np.int64), cold)


def spread(ranks: np.ndarray, count: int) -> np.ndarray:
    """Scatter popularity ranks over the parents by a fixed permutation (r·m + c mod count), so
    the popular parents are not simply the first rows."""
    multiplier = _coprime_near(count, int(count * 0.6180339887) | 1)
    offset = count // 3
    return (ranks * multiplier + offset) % count if count > 1 else ranks


def _coprime_near(count: int, start: int) -> int:
    candidate = max(1, start)
    while math.gcd(candidate, count) != 1:
        candidate += 1
    return candidate


def weighted_rows(rng: np.random.Generator, index, weights: dict[Any, float], n: int) -> np.ndarray:
    """Each parent weighted by its value of a column: draw the value (weight × members), then a
    uniform parent among those with it. Two draws per row, never a scan of the parents."""
    counts = index.counts
    per_value = np.array([weights.get(value, 0.0) for value in index.values], dtype=np.float64) * counts
    if per_value.sum() <= 0:
        raise ValueError("no parent has a positive weight")
    cumulative = np.cumsum(per_value / per_value.sum())
    cumulative[-1] = 1.0
    chosen = inverse_cdf(cumulative, rng.random(n))
    within = np.floor(rng.random(n) * counts[chosen]).astype(np.int64)
    return index.rows[index.offsets[chosen] + within].astype(np.int64)


# -- the key and values through a reference -----------------------------------------------------------


@generator("reference")
@dataclass(frozen=True)
class ReferenceGenerator(Generator[ReferenceColumn]):
    """The parent's key at the row number in `<column>#row` (nulls come from there)."""

    spec: ReferenceColumn

    @classmethod
    def compile(cls, spec: ReferenceColumn, env: CompileEnv):
        parent, key = spec.parent
        # nulls are drawn once, in the row column; drawing them again here would double them
        return cls(spec=spec.model_copy(update={"nulls": 0.0}), arrow_type=env.table_types[parent][key])

    def _generate(self, ctx: BlockContext) -> pa.Array:
        rows = ctx.columns[row_column(ctx.column)]
        assert ctx.relations is not None  # the plan passes its relations to every block
        return _through(rows, lambda present: ctx.relations.keys(*self.spec.parent, present), self.arrow_type)

    def describe(self) -> dict[str, Any]:
        spec = self.spec
        detail: dict[str, Any] = {"to": spec.to, "pick": spec.pick}
        if spec.pick == "zipf":
            detail["a"] = spec.a
        elif spec.pick == "hotspot":
            detail["hot"] = f"{spec.hot:.0%} of parents get {spec.share:.0%} of rows"
        elif spec.pick == "weighted":
            detail["weighted by"] = f"{spec.weight_by} {spec.weights}"
        if spec.matched:
            detail["match"] = f"{spec.parent[0]}.{spec.matched[0]} = {spec.matched[1]}"
        return detail


@generator("lookup")
@dataclass(frozen=True)
class LookupGenerator(Generator[LookupColumn]):
    own_nulls: ClassVar[bool] = False  # nulls come from what it reads
    """A parent's value, read at the parent row number behind a reference."""

    spec: LookupColumn
    parent: str = ""
    """The table the reference points to."""

    @classmethod
    def compile(cls, spec: LookupColumn, env: CompileEnv):
        reference, column = split_target(spec.from_)
        parent = env.references[reference]
        return cls(spec=spec, arrow_type=env.table_types[parent][column], parent=parent)

    def _generate(self, ctx: BlockContext) -> pa.Array:
        reference, column = split_target(self.spec.from_)
        assert ctx.relations is not None  # the plan passes its relations to every block
        values = ctx.relations.values(self.parent, column)
        return _through(ctx.columns[row_column(reference)], lambda rows: values.take(pa.array(rows)),
                        self.arrow_type)

    def describe(self) -> dict[str, Any]:
        return {"from": self.spec.from_}


def _through(rows: pa.Array, fetch, arrow_type: pa.DataType) -> pa.Array:
    """Values fetched at the non-null row numbers, null where the row number is null."""
    if rows.null_count == 0:
        return fetch(rows.to_numpy())
    present = np.asarray(rows.is_valid())
    fetched = fetch(rows.drop_null().to_numpy())
    positions = np.full(len(rows), len(fetched), dtype=np.int64)
    positions[present] = np.arange(len(fetched))
    values = fetched.dictionary_decode() if isinstance(fetched, pa.DictionaryArray) else fetched
    combined = pa.concat_arrays([values, pa.nulls(1, type=values.type)]).take(pa.array(positions))
    return combined.cast(arrow_type) if combined.type != arrow_type else combined


# -- children per parent ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CountGenerator(Generator[ColumnSpec]):
    """How many child rows each parent row has: the count spec's draw, as a whole number ≥ 0."""

    kind = "count"
    inner: Generator | None = None

    def _generate(self, ctx: BlockContext) -> np.ndarray:
        assert self.inner is not None  # set by compile
        drawn = self.inner.generate(ctx)
        values = np.nan_to_num(drawn.to_numpy(zero_copy_only=False).astype(np.float64), nan=0.0)
        return np.maximum(np.floor(values), 0).astype(np.int64)


@dataclass(frozen=True)
class ParentRowsGenerator(Generator[ColumnSpec]):
    """In a table sized per parent, the parent row of each row (from the plan's count pass)."""

    kind = "per-parent"

    def _generate(self, ctx: BlockContext) -> np.ndarray:
        assert ctx.relations is not None  # the plan passes its relations to every block
        return ctx.relations.parent_rows(ctx.table, ctx.block)


@generator("aggregate")
@dataclass(frozen=True)
class AggregateGenerator(Generator[AggregateColumn]):
    own_nulls: ClassVar[bool] = False  # nulls come from what it reads
    """count / sum / min / max / mean over this row's children, exactly as written for them."""

    spec: AggregateColumn

    @classmethod
    def output_type(cls, spec: AggregateColumn, env: CompileEnv):
        child, column = spec.child
        if spec.fn == "count":
            return pa.int64()
        assert column is not None  # only `count` reads no child column
        child_type = env.table_types[child][column]
        if spec.fn in ("sum", "mean") and not (pa.types.is_integer(child_type) or pa.types.is_floating(child_type)):
            raise ValueError(f"{spec.fn} needs a numeric child column; {spec.of} is {child_type}")
        if spec.fn == "mean":
            return pa.float64()
        if spec.fn == "sum":
            return pa.int64() if pa.types.is_integer(child_type) else pa.float64()
        if not (pa.types.is_integer(child_type) or pa.types.is_floating(child_type)
                or pa.types.is_date(child_type) or pa.types.is_timestamp(child_type)):
            raise ValueError(f"{spec.fn} needs a numeric, date or timestamp child column; "
                             f"{spec.of} is {child_type}")
        return child_type

    def _generate(self, ctx: BlockContext) -> pa.Array:
        child, column = self.spec.child
        counts = ctx.columns[count_column(child)].to_numpy()
        if column is None:
            return pa.array(counts, type=pa.int64())
        assert ctx.relations is not None  # the plan passes its relations to every block
        return aggregate(self.spec.fn, counts, ctx.relations.children(child, ctx.block, column), self.arrow_type)

    def describe(self) -> dict[str, Any]:
        return {"fn": self.spec.fn, "of": self.spec.of}


def aggregate(fn: str, counts: np.ndarray, values: pa.Array, arrow_type: pa.DataType) -> pa.Array:
    """Per-parent aggregate of the children's values (`counts[i]` children for parent i, in
    order). Nulls are skipped, as SQL does; a parent with no values gets null (0 for sum and
    count)."""
    parents = len(counts)
    owner = np.repeat(np.arange(parents), counts)
    valid = np.asarray(values.is_valid()) if values.null_count else np.ones(len(values), dtype=bool)
    storage = values.type
    if pa.types.is_date32(storage) or pa.types.is_timestamp(storage):
        numbers = values.view(pa.int32() if pa.types.is_date32(storage) else pa.int64())
    else:
        numbers = values
    raw = numbers.fill_null(0).to_numpy(zero_copy_only=False)
    present = np.bincount(owner[valid], minlength=parents)
    if fn == "count":
        return pa.array(present, type=pa.int64())
    if fn in ("sum", "mean"):
        totals = np.bincount(owner, weights=raw.astype(np.float64), minlength=parents)
        if pa.types.is_integer(storage):
            totals = np.rint(totals).astype(np.int64)  # exact below 2**53
        if fn == "sum":
            return pa.array(totals, type=arrow_type)
        with np.errstate(invalid="ignore", divide="ignore"):
            return pa.array(totals / present, type=pa.float64(), mask=present == 0)
    fill = np.iinfo(raw.dtype).max if raw.dtype.kind in "iu" else np.inf
    if fn == "max":
        fill = np.iinfo(raw.dtype).min if raw.dtype.kind in "iu" else -np.inf
    result = np.full(parents, fill, dtype=raw.dtype)
    (np.minimum if fn == "min" else np.maximum).at(result, owner[valid], raw[valid])
    array = pa.array(result, mask=present == 0)
    return array.view(arrow_type) if array.type != arrow_type else array
