"""Per-entity sequences: readings on a cadence per parent, the position of a row within its
parent, running values per parent, and durations between two times as numbers.

Randomness that the count pass and the child's blocks must agree on (which slot of a device's
cadence is kept) is not drawn from a block's stream but hashed from (key, parent row, slot): the
parent block that counts and the child block that places rows compute the same answer, whatever
the blocks. Running values per parent read the rows of that parent in earlier blocks through the
plan (`relations.column_rows`), so a block still needs no state from another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fabula.generators.base import EPOCH, TICKS_PER_DAY, BlockContext, CompileEnv, Generator, generator
from fabula.generators.relations import PARENT_ROWS
from fabula.spec.dates import resolve_bound
from fabula.spec.sequences import (
    DURATION_UNITS,
    CadenceColumn,
    CadenceCount,
    DurationColumn,
    PositionColumn,
    RunningColumn,
)
from fabula.streams import stream_key

_MAX_CELLS = 1 << 22
"""Slots × parents computed at once (bounds the memory of the count pass)."""


# -- the cadence -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cadence:
    """A table's cadence resolved against as_of: slot k of every parent is at `times[k]` seconds
    since the epoch (`first + k × every`, or the same day of each month), kept with probability
    `keep[k]` (scoped events lower it for the parents their condition matches)."""

    times: np.ndarray
    gap: int
    """The shortest time between two slots, in seconds (bounds the jitter)."""
    keep: np.ndarray
    scoped: tuple[tuple[np.ndarray, str], ...]
    """Per scoped event: the factor on each slot's keep probability, and its condition."""
    key: int
    window: tuple[int, int] = (0, 0)
    """The window in seconds since the epoch: its first instant, and the instant after its last."""

    @property
    def slots(self) -> int:
        return len(self.keep)

    def kept(self, parents: np.ndarray, matches: list[np.ndarray]) -> np.ndarray:
        """(len(parents), slots) booleans: which slots of each parent have a reading."""
        probability = np.broadcast_to(self.keep, (len(parents), self.slots)).copy()
        for (factor, _), match in zip(self.scoped, matches):
            probability[match] *= factor
        cells = parents.astype(np.uint64)[:, None] * np.uint64(self.slots) + np.arange(self.slots, dtype=np.uint64)
        return _uniform(cells, self.key) < probability


def resolve_cadence(spec: CadenceCount, env: CompileEnv) -> Cadence:
    story = env.story
    first_day, last_day = ((resolve_bound(bound, env.as_of) - EPOCH).days for bound in (spec.start, spec.end))
    first = first_day * 86_400
    if spec.months:
        times = _monthly(first_day, last_day, spec.months)
    else:
        slots = max(0, ((last_day + 1) * 86_400 - first) // spec.every)
        times = first + np.arange(slots, dtype=np.int64) * spec.every
    gap = int(np.diff(times).min()) if len(times) > 1 else spec.every
    days = times / 86_400.0
    keep = np.full(len(times), 1.0 - spec.dropout)
    assert story is not None  # cadences are resolved within a plan, which resolves the story
    if spec.timeline is not None:
        keep *= _shape(story, spec.timeline, spec.table, times)
    for window, factor in story.volume_effects.get(spec.table, ()):
        keep *= np.minimum(1.0, 1.0 + (factor - 1.0) * window.strength(days))
    scoped = tuple((np.minimum(1.0, 1.0 + (factor - 1.0) * window.strength(days)), where)
                   for window, factor, where in story.scoped_effects.get(spec.table, ()))
    words = stream_key(env.seed, spec.table, "#cadence", "keep")
    return Cadence(times, gap, keep, scoped, (words[0] << 32 | words[1]), (first, (last_day + 1) * 86_400))


def _monthly(first_day: int, last_day: int, months: int) -> np.ndarray:
    """Midnight of the start's day of the month, every `months` months (the last day of a
    shorter month when the day does not exist in it), up to the end."""
    import calendar
    from datetime import date, timedelta

    start = EPOCH + timedelta(days=first_day)
    times = []
    step = 0
    while True:
        month_index = start.month - 1 + step * months
        year, month = start.year + month_index // 12, month_index % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        offset = (date(year, month, day) - EPOCH).days
        if offset > last_day:
            break
        times.append(offset * 86_400)
        step += 1
    return np.array(times, dtype=np.int64)


def _shape(story, timeline_name: str, table: str, times: np.ndarray) -> np.ndarray:
    """The timeline's intensity at each slot relative to its busiest hour (0 outside its window)."""
    timeline = story.timelines[timeline_name]
    volume = story.day_volume(timeline_name, table)
    shares = np.diff(np.atleast_2d(timeline.cumulative_hours()), axis=1, prepend=0.0)
    per_hour = volume[:, None] * shares
    top = per_hour.max()
    if not top > 0:
        return np.zeros(len(times))
    hours = times // 3600 - timeline.first_day * 24
    inside = (hours >= 0) & (hours < per_hour.size)
    return np.where(inside, per_hour.ravel()[np.clip(hours, 0, per_hour.size - 1)] / top, 0.0)


def _uniform(cells: np.ndarray, key: int) -> np.ndarray:
    """A keyed SplitMix64 of each cell, as a uniform in [0, 1)."""
    with np.errstate(over="ignore"):
        x = cells + np.uint64(key & 0xFFFFFFFFFFFFFFFF)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _matches(cadence: Cadence, ctx: BlockContext, parents: np.ndarray, parent_table: str | None) -> list[np.ndarray]:
    """Whether each parent matches each scoped event's condition: from the block's own columns
    (counting, on the parent) or from the parent's materialised columns (on the child)."""
    from fabula.generators.when import condition_mask
    from fabula.spec.expressions import parse_expression

    found = []
    for _, where in cadence.scoped:
        if parent_table is None:
            found.append(condition_mask(where, ctx))
            continue
        names = parse_expression(where).columns
        assert ctx.relations is not None  # the plan passes its relations to every block
        columns = {name: ctx.relations.values(parent_table, name).take(pa.array(parents)) for name in names}
        found.append(condition_mask(where, BlockContext(seed=ctx.seed, table=parent_table, column="", block=-1,
                                                        start=0, n=len(parents), columns=columns)))
    return found


@generator(CadenceCount)
@dataclass(frozen=True)
class CadenceCountGenerator(Generator[CadenceCount]):
    """On the parent: how many slots of its cadence each parent row keeps."""

    cadence: Cadence | None = field(default=None, compare=False)

    @classmethod
    def output_type(cls, spec, env):
        return pa.int64()

    @classmethod
    def compile(cls, spec: CadenceCount, env: CompileEnv):
        return cls(spec=spec, arrow_type=pa.int64(), cadence=resolve_cadence(spec, env))

    def describe(self) -> dict[str, Any]:
        spec = self.spec
        assert self.cadence is not None  # set by `compile`
        return {"every": f"{spec.months} months" if spec.months else f"{spec.every}s", "slots": self.cadence.slots,
                "dropout": spec.dropout,
                **({"timeline": spec.timeline} if spec.timeline else {})}

    def _generate(self, ctx: BlockContext) -> np.ndarray:
        assert self.cadence is not None  # set by `compile`
        rows = ctx.row_ids()
        matches = _matches(self.cadence, ctx, rows, None)
        counts = np.zeros(ctx.n, dtype=np.int64)
        step = max(1, _MAX_CELLS // max(1, self.cadence.slots))
        for low in range(0, ctx.n, step):
            part = slice(low, low + step)
            counts[part] = self.cadence.kept(rows[part], [match[part] for match in matches]).sum(axis=1)
        return counts


@generator(CadenceColumn)
@dataclass(frozen=True)
class CadenceGenerator(Generator[CadenceColumn]):
    """On the child: the time of its kept slot (the k-th kept slot of its parent), jittered
    within ± `jitter` but never across its neighbours' slots."""

    cadence: Cadence | None = field(default=None, compare=False)

    @classmethod
    def output_type(cls, spec, env):
        return pa.timestamp(spec.unit)

    @classmethod
    def compile(cls, spec: CadenceColumn, env: CompileEnv):
        if spec.rows is None:
            raise ValueError("a `cadence` column needs its table sized by a cadence: "
                             "rows: {per: <parent>, every: 15m, start: ..., end: ...}")
        return cls(spec=spec, arrow_type=pa.timestamp(spec.unit), cadence=resolve_cadence(spec.rows, env))

    def _generate(self, ctx: BlockContext) -> np.ndarray:
        assert ctx.relations is not None  # the plan passes its relations to every block
        assert self.cadence is not None  # set by `compile`
        assert self.spec.rows is not None  # `compile` refuses a cadence column without cadence rows
        parents = ctx.columns[PARENT_ROWS].to_numpy()
        position = ctx.row_ids() - ctx.relations.first_child_rows(ctx.table, ctx.block)
        slot = np.zeros(ctx.n, dtype=np.int64)
        distinct, inverse = np.unique(parents, return_inverse=True)
        matches = _matches(self.cadence, ctx, distinct, ctx.relations.parent_table(ctx.table))
        step = max(1, _MAX_CELLS // max(1, self.cadence.slots))
        for low in range(0, len(distinct), step):
            part = slice(low, low + step)
            kept = self.cadence.kept(distinct[part], [match[part] for match in matches])
            rank = np.cumsum(kept, axis=1) - 1  # the position of each kept slot within its parent
            rows = np.flatnonzero((inverse >= low) & (inverse < low + step))
            for local in np.unique(inverse[rows] - low):
                mine = rows[inverse[rows] - low == local]
                slot[mine] = np.searchsorted(rank[local], position[mine], side="left")
        seconds = self.cadence.times[np.minimum(slot, max(self.cadence.slots - 1, 0))] if self.cadence.slots else slot
        jitter = min(self.spec.rows.jitter, self.cadence.gap // 2)  # never past a neighbour
        ticks = TICKS_PER_DAY[self.spec.unit] // 86_400
        offset = ctx.rng().integers(-jitter * ticks, jitter * ticks, ctx.n, endpoint=True) if jitter else 0
        return _reflected(seconds * ticks + offset, self.cadence.window[0] * ticks, self.cadence.window[1] * ticks - 1)

    def describe(self) -> dict[str, Any]:
        rows = self.spec.rows
        assert rows is not None and self.cadence is not None  # both checked and set by `compile`
        return {"every": f"{rows.months} months" if rows.months else f"{rows.every}s", "slots": self.cadence.slots,
                "jitter": f"±{rows.jitter}s", "dropout": rows.dropout}


def _reflected(values: np.ndarray, low: int, high: int) -> np.ndarray:
    """Jittered times kept inside the window [low, high] by reflecting at its edges: a first
    reading jittered 24 s before the start is 24 s after it. Only those readings move, by as
    little as the jitter allows (at most half a slot, so never past a neighbour's slot), and no
    readings pile up on the edge as clipping would make them.

    >>> _reflected(np.array([-24, 5, 96, 103]), 0, 99).tolist()
    [24, 5, 96, 95]
    """
    values = np.where(values < low, 2 * low - values, values)
    return np.where(values > high, 2 * high - values, values)


# -- position and running values ---------------------------------------------------------------------


def _first_rows(ctx: BlockContext) -> np.ndarray:
    if ctx.relations is None or PARENT_ROWS not in ctx.columns:
        raise ValueError("this kind needs a table sized per parent: rows: {per: <parent>, count: ...}")
    return ctx.relations.first_child_rows(ctx.table, ctx.block)


@generator(PositionColumn)
@dataclass(frozen=True)
class PositionGenerator(Generator[PositionColumn]):
    @classmethod
    def output_type(cls, spec, env):
        return pa.int64()

    def _generate(self, ctx: BlockContext) -> np.ndarray:
        return ctx.row_ids() - _first_rows(ctx) + self.spec.start


@generator(RunningColumn)
@dataclass(frozen=True)
class RunningGenerator(Generator[RunningColumn]):
    own_nulls: ClassVar[bool] = False  # `previous` is null on a parent's first row
    @classmethod
    def output_type(cls, spec: RunningColumn, env):
        if spec.fn == "count":
            return pa.int64()
        source = env.column_types.get(spec.of)
        if source is not None and not (pa.types.is_integer(source) or pa.types.is_floating(source)
                                       or pa.types.is_boolean(source)):
            raise ValueError(f"fn: {spec.fn} runs over numbers, and `{spec.of}` is {source}")
        if spec.fn == "previous":
            return source
        return pa.float64()

    def _generate(self, ctx: BlockContext) -> np.ndarray | pa.Array:
        first = _first_rows(ctx)
        start = ctx.row_ids()[0] if ctx.n else 0
        assert ctx.relations is not None  # the plan passes its relations to every block
        earliest = int(first.min()) if ctx.n else start
        # the parent's rows before this block, regenerated: a running value starts at its parent's first row
        if self.spec.of is not None:
            here = ctx.columns[self.spec.of]
            before = ctx.relations.column_rows(ctx.table, self.spec.of, earliest, start) if earliest < start else None
            values = pa.concat_arrays([before, here]) if before is not None and len(before) else here
        else:
            values = pa.array(np.ones(ctx.n + start - earliest, dtype=np.int64))
        rows = np.arange(earliest, start + ctx.n)
        group_first = np.concatenate([np.full(start - earliest, earliest), first]) if earliest < start else first
        # every row before the block belongs to a parent of the block's first row
        starts = rows == group_first
        if self.spec.restart is not None:  # and a run starts afresh where `restart` changes
            here = ctx.columns[self.spec.restart]
            assert ctx.relations is not None  # the plan passes its relations to every block
            before = (ctx.relations.column_rows(ctx.table, self.spec.restart, earliest, start) if earliest < start
                      else None)
            starts |= _changes(pa.concat_arrays([before, here]) if before is not None and len(before) else here)
        result = self._run(values, starts)
        return result[start - earliest:] if isinstance(result, np.ndarray) else result.slice(start - earliest)

    def _run(self, values: pa.Array, starts: np.ndarray):
        """The running value over `values`, starting afresh where `starts` is true."""
        fn = self.spec.fn
        if fn == "previous":
            positions = np.arange(len(values)) - 1
            taken = values.take(pa.array(np.maximum(positions, 0)))
            return pa.array(taken.to_numpy(zero_copy_only=False), type=values.type,
                            mask=starts | np.asarray(taken.is_null()))
        numbers = np.nan_to_num(values.to_numpy(zero_copy_only=False).astype(np.float64), nan=0.0)
        if fn == "count":
            return _grouped_cumsum(numbers, starts).astype(np.int64)
        if fn == "sum":
            return self.spec.start + _grouped_cumsum(numbers, starts)
        if fn == "balance":
            # a random walk reflected at the floor (Lindley): b_k = S_k − min(−(start − floor), min_{j≤k} S_j)
            total = _grouped_cumsum(numbers, starts)
            lowest = _grouped_cummin(total, starts)
            return self.spec.floor + total - np.minimum(-(self.spec.start - self.spec.floor), lowest)
        # level: drains from `high` by −of; when it would fall below `low`, recharged to `high`
        assert self.spec.high is not None and self.spec.low is not None  # the spec requires both for fn: level
        span = self.spec.high - self.spec.low
        drained = _grouped_cumsum(-numbers, starts)
        return self.spec.high - np.mod(np.maximum(drained, 0.0), span)


def _changes(values: pa.Array) -> np.ndarray:
    """Where a value differs from the previous row's (two nulls are the same; the first row is
    not a change: the parent's first row starts anyway)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    changed = np.zeros(len(values), dtype=bool)
    if len(values) > 1:
        now, before = values.slice(1), values.slice(0, len(values) - 1)
        same = np.asarray(pc.equal(now, before).fill_null(False)) | (np.asarray(now.is_null())
                                                                    & np.asarray(before.is_null()))
        changed[1:] = ~same
    return changed


def _grouped_cumsum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    total = np.cumsum(values)
    group = np.cumsum(starts) - 1
    offsets = np.concatenate([[0.0], total])[np.flatnonzero(starts)]
    return total - offsets[group] if len(offsets) else total


def _grouped_cummin(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    bounds = np.append(np.flatnonzero(starts), len(values))
    for low, high in zip(bounds[:-1], bounds[1:]):
        out[low:high] = np.minimum.accumulate(values[low:high])
    return out


# -- durations ---------------------------------------------------------------------------------------


@generator(DurationColumn)
@dataclass(frozen=True)
class DurationGenerator(Generator[DurationColumn]):
    own_nulls: ClassVar[bool] = False  # null where either time is null
    @classmethod
    def compile(cls, spec: DurationColumn, env: CompileEnv):
        for name in (spec.from_, spec.to):
            found = env.column_types.get(name)
            if found is not None and not (pa.types.is_date(found) or pa.types.is_timestamp(found)):
                raise ValueError(f"a duration runs between dates or timestamps, and `{name}` is {found}")
        return cls(spec=spec, arrow_type=pa.float64())

    def _generate(self, ctx: BlockContext) -> pa.Array:
        early, early_known = _seconds(ctx.columns[self.spec.from_])
        late, late_known = _seconds(ctx.columns[self.spec.to])
        amount = (late - early) / DURATION_UNITS[self.spec.unit]
        return pa.array(amount, type=pa.float64(), mask=~(early_known & late_known))


def _seconds(times: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    known = np.asarray(times.is_valid()) if times.null_count else np.ones(len(times), dtype=bool)
    if pa.types.is_date32(times.type):
        return times.view(pa.int32()).fill_null(0).to_numpy().astype(np.float64) * 86_400.0, known
    ticks = times.view(pa.int64()).fill_null(0).to_numpy().astype(np.float64)
    return ticks / (TICKS_PER_DAY[times.type.unit] / 86_400), known
