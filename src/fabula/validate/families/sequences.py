"""Facts of sequences and of times that follow others, checked on every row, block by block:

- a running balance never goes below its floor, a level stays within [low, high];
- rows on a cadence are in time order within each parent (within a block);
- a time censored at `as_of` never falls after the data's end (that a time is never before its
  `after` is the structure family's check);
- a column with `when:` is null wherever its condition is false.

Each statistic counts the rows it looked at and the rows that break the fact; counts add up
exactly across blocks, and a fact holds when nothing breaks it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fabula.generators.relations import PARENT_ROWS
from fabula.validate.report import FAIL, PASS, SKIP, Check
from fabula.validate.statistics import Unreadable

FAMILY = "sequences"


@dataclass(frozen=True)
class Fact:
    table: str
    column: str
    fact: str  # floor | range | order | after | as_of | when
    low: float | None = None
    high: float | None = None
    other: str | None = None
    """The `after` column, or the `when` condition."""

    @property
    def key(self) -> str:
        return f"{FAMILY}:{self.table}.{self.column}:{self.fact}"

    def observe(self, view) -> dict:
        values = view.batch.column(self.column)
        values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        known = np.asarray(values.is_valid()) if values.null_count else np.ones(len(values), dtype=bool)
        if self.fact == "when":
            from fabula.generators.base import BlockContext
            from fabula.generators.when import condition_mask
            from fabula.spec.expressions import parse_expression

            assert self.other is not None, "a `when` fact carries its condition (statistics() sets it)"
            names = parse_expression(self.other).columns
            columns = {name: view.column(name) for name in names}
            if any(column is None for column in columns.values()):
                raise ValueError(f"cannot read {', '.join(n for n, c in columns.items() if c is None)}")
            ctx = BlockContext(seed=0, table=self.table, column=self.column, block=view.block, start=0,
                               n=len(values), columns=columns)
            return {"n": len(values), "bad": int((known & ~condition_mask(self.other, ctx)).sum())}
        if self.fact == "as_of":
            assert self.high is not None, "an `as_of` fact carries the first day after as_of"
            return {"n": int(known.sum()), "bad": _on_or_after_day(values, known, self.high)}
        numbers = _numbers(values)
        if self.fact == "floor":
            assert self.low is not None, "a `floor` fact carries the balance's floor"
            return {"n": int(known.sum()), "bad": int((known & (numbers < self.low - 1e-9)).sum())}
        if self.fact == "range":
            assert self.low is not None and self.high is not None, "a `range` fact carries the level's low and high"
            outside = (numbers < self.low - 1e-9) | (numbers > self.high + 1e-9)
            return {"n": int(known.sum()), "bad": int((known & outside).sum())}
        if self.fact == "after":
            other = view.column(self.other)
            if other is None:
                raise ValueError(f"cannot read `{self.other}`")
            before = _numbers(other.combine_chunks() if isinstance(other, pa.ChunkedArray) else other,
                              like=values.type)
            both = known & np.asarray(other.is_valid())
            return {"n": int(both.sum()), "bad": int((both & (numbers < before)).sum())}
        # order: consecutive rows of one parent in time order (pairs inside the block)
        parents = view.column(PARENT_ROWS)
        if parents is None:
            raise ValueError("cannot read the parent of each row")
        parents = parents.to_numpy()
        same = parents[1:] == parents[:-1]
        return {"n": int(same.sum()), "bad": int((same & (numbers[1:] < numbers[:-1])).sum())}


def _on_or_after_day(values: pa.Array, known: np.ndarray, day: float) -> int:
    """How many known values fall on `day` (days since the epoch) or later, compared in whole
    days: a file format may store another unit than the generator's (Parquet has no seconds, so
    `unit: s` reads back as milliseconds). Dates and timestamps are compared as integer ticks
    (floor(ticks / per day) >= day is ticks >= day * per day): exact, and without a float per row."""
    from fabula.generators.base import TICKS_PER_DAY

    if pa.types.is_date32(values.type) or pa.types.is_timestamp(values.type):
        storage, per_day = (values.view(pa.int32()), 1) if pa.types.is_date32(values.type) else \
            (values.view(pa.int64()), TICKS_PER_DAY[values.type.unit])
        threshold = int(day) * per_day
        if not -2**63 <= threshold < 2**63:  # beyond every tick an int64 holds
            return 0 if threshold > 0 else int(known.sum())
        return int(pc.sum(pc.greater_equal(storage, pa.scalar(threshold, pa.int64()))).as_py() or 0)
    days = _numbers(values, like=pa.date32())
    return int((known & (days >= day)).sum())


def _numbers(values: pa.Array, like: pa.DataType | None = None) -> np.ndarray:
    """Numbers, or dates and timestamps as ticks (in the unit of `like` when given)."""
    from fabula.generators.base import TICKS_PER_DAY

    if pa.types.is_date32(values.type) or pa.types.is_timestamp(values.type):
        if pa.types.is_date32(values.type):
            days = values.view(pa.int32()).fill_null(0).to_numpy().astype(np.float64)
            target = like if like is not None else values.type
            return days * (1 if pa.types.is_date32(target) else TICKS_PER_DAY[target.unit])
        ticks = values.view(pa.int64()).fill_null(0).to_numpy().astype(np.float64)
        if like is not None and pa.types.is_timestamp(like):
            return ticks * TICKS_PER_DAY[like.unit] / TICKS_PER_DAY[values.type.unit]
        if like is not None and pa.types.is_date32(like):
            return np.floor(ticks / TICKS_PER_DAY[values.type.unit])
        return ticks
    return np.nan_to_num(values.fill_null(0).to_numpy(zero_copy_only=False).astype(np.float64))


def statistics(plan) -> list[Fact]:
    from fabula.generators.sequences import CadenceGenerator, RunningGenerator
    from fabula.generators.when import WhenGenerator

    found = []
    for table in plan.tables:
        for column in table.outputs:
            generator = column.generator
            if isinstance(generator, WhenGenerator):
                found.append(Fact(table.name, column.name, "when", other=generator.spec.when))
                generator = generator.inner
            spec = generator.spec
            if isinstance(generator, RunningGenerator) and spec.fn == "balance":
                found.append(Fact(table.name, column.name, "floor", low=spec.floor))
            elif isinstance(generator, RunningGenerator) and spec.fn == "level":
                found.append(Fact(table.name, column.name, "range", low=spec.low, high=spec.high))
            elif isinstance(generator, CadenceGenerator):
                found.append(Fact(table.name, column.name, "order"))
            elif getattr(generator, "censor_at", None) is not None and getattr(spec, "tz", None) is None:
                # (with `tz`, as_of is on the row's local clock: the zones family checks it)
                found.append(Fact(table.name, column.name, "as_of", high=_censor_day(generator)))
    return found


def _censor_day(generator) -> float:
    """The first day after `as_of`, in days since the epoch (the generator's tick is a day's start)."""
    from fabula.generators.base import TICKS_PER_DAY

    arrow_type = generator.arrow_type
    per_day = 1 if pa.types.is_date32(arrow_type) else TICKS_PER_DAY[arrow_type.unit]
    return float(generator.censor_at // per_day)


_WORDS = {
    "floor": lambda f: f"never below its floor {f.low:g}",
    "range": lambda f: f"within [{f.low:g}, {f.high:g}]",
    "order": lambda f: "in time order within each parent",
    "after": lambda f: f"never before `{f.other}`",
    "as_of": lambda f: "never after the data's end (as_of)",
    "when": lambda f: f"null where `{f.other}` is false",
}


def checks(evidence) -> list[Check]:
    found = []
    for statistic in evidence.statistics:
        if not isinstance(statistic, Fact):
            continue
        state = evidence.state(statistic)
        name = f"{statistic.table}.{statistic.column}: {_WORDS[statistic.fact](statistic)}"
        if isinstance(state, Unreadable):
            found.append(Check(FAMILY, name, FAIL, f"could not be read: {state.reason}",
                               table=statistic.table, column=statistic.column))
        elif state is None or not state["n"]:
            found.append(Check(FAMILY, name, SKIP, "no rows to check", table=statistic.table, column=statistic.column))
        else:
            bad = state["bad"]
            found.append(Check(FAMILY, name, PASS if bad == 0 else FAIL,
                               f"{state['n']:,} rows checked" + (f", {bad:,} break it" if bad else ", none breaks it"),
                               expected=0, observed=bad, tolerance=0, table=statistic.table, column=statistic.column))
    return found
