"""Dates and timestamps between two bounds, resolved against `as_of` when compiled, optionally
never before another date (`after:`), by a lag (`lag:`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

import numpy as np
import pyarrow as pa

from fabula.errors import DataError
from fabula.generators.base import EPOCH, TICKS_PER_DAY, BlockContext, CompileEnv, Generator, generator
from fabula.generators.laws import Law, integer_uniform, shown_value, storage_of
from fabula.spec.columns import LAG_UNITS, DateColumn, TimestampColumn
from fabula.spec.dates import resolve_bound
from fabula.story import Arrivals, ResolvedTimeline
from fabula.story.intensity import HourlyIntensity

# 0001-01-01 and 9999-12-31 as days since 1970-01-01: the calendar Python readers can hold.
_FIRST_DAY, _LAST_DAY = -719_162, 2_932_896


TimeSpec = TypeVar("TimeSpec", bound=DateColumn | TimestampColumn)


@dataclass(frozen=True)
class _Between(Generator[TimeSpec]):
    low: int = 0
    """First value, in storage units (days or timestamp ticks)."""
    high: int = 0
    """Last value, inclusive."""
    lag: Generator | None = None
    """The lag distribution (or constant), when `lag` is not a column."""
    timeline: ResolvedTimeline | None = field(default=None, compare=False)
    arrivals: Arrivals | None = field(default=None, compare=False)
    """Set when the table's rows are this timeline's arrivals: row i is the i-th arrival."""
    day_cdf: np.ndarray | None = field(default=None, compare=False)
    """Cumulative expected volume per day, to draw days from a timeline's shape."""
    intensity: HourlyIntensity | None = field(default=None, compare=False)
    """With `timeline` and `after`: the timeline's intensity per hour, drawn from after `after`."""
    censor_at: int | None = None
    """The first tick after the data's end (`as_of`) when values past it become null."""

    def law(self) -> Law | None:
        """Every day (or tick) of the window equally likely; none for a timeline's shape or `after`."""
        if self.timeline is not None or self.spec.after is not None:
            return None
        storage = storage_of(self.arrow_type)
        return integer_uniform(self.low, self.high, f"{self.kind} uniform {shown_value(self.low, storage)}.."
                                                    f"{shown_value(self.high, storage)}")

    @classmethod
    def _compiled(cls, spec, env: CompileEnv, arrow_type, low: int, high: int):
        from fabula.generators.compile import compile_column  # compile imports this module

        lag_spec = spec.lag_spec()
        lag = compile_column(lag_spec, env) if lag_spec is not None else None
        return cls(spec=spec, arrow_type=arrow_type, low=low, high=high, lag=lag,
                   censor_at=_censor_at(spec, env, arrow_type))

    @classmethod
    def _from_timeline(cls, spec, env: CompileEnv, arrow_type, ticks_per_day: int):
        """The window is the timeline's; rows are its arrivals when the table's rows come from
        it, else days are drawn in proportion to its volume as this table sees it."""
        assert env.story is not None  # a timeline exists only within a plan, which resolves the story
        timeline = env.story.timelines[spec.timeline]
        if spec.after is not None:
            intensity = HourlyIntensity.of(timeline.first_day, env.story.day_volume(spec.timeline, env.table),
                                           timeline.cumulative_hours())
            return cls(spec=spec, arrow_type=arrow_type, low=timeline.first_day * ticks_per_day,
                       high=(timeline.last_day + 1) * ticks_per_day - 1, timeline=timeline,
                       intensity=intensity, censor_at=_censor_at(spec, env, arrow_type))
        arrivals = env.story.arrivals.get(env.table)
        if arrivals is not None and arrivals.timeline != spec.timeline:
            arrivals = None
        day_cdf = None
        if arrivals is None:
            day_cdf = np.cumsum(env.story.day_volume(spec.timeline, env.table))
            if not day_cdf.size or not day_cdf[-1] > 0:
                raise ValueError(f"timeline `{spec.timeline}` has no volume on any day of its window")
        return cls(spec=spec, arrow_type=arrow_type, low=timeline.first_day * ticks_per_day,
                   high=(timeline.last_day + 1) * ticks_per_day - 1, timeline=timeline,
                   arrivals=arrivals, day_cdf=day_cdf)

    @property
    def ticks_per_day(self) -> int:
        return 1 if pa.types.is_date32(self.arrow_type) else TICKS_PER_DAY[self.arrow_type.unit]

    def _generate(self, ctx: BlockContext) -> np.ndarray:
        values = self._draw(ctx)
        self._check_calendar(ctx, values)
        return values

    def _check_calendar(self, ctx: BlockContext, values) -> None:
        """Dates and times stay within the years 1 to 9999 (what readers of the output can hold);
        one min/max per block, not a check per row. Arrays with nulls were checked when drawn."""
        if not isinstance(values, np.ndarray) or not len(values):
            return
        low, high = int(values.min()), int(values.max())
        if low < _FIRST_DAY * self.ticks_per_day or high >= (_LAST_DAY + 1) * self.ticks_per_day:
            after = f" (`after: {self.spec.after}` plus the lag)" if self.spec.after else ""
            raise DataError(f"a date falls outside the years 1 to 9999{after}",
                            hint="check `lag` and the dates this column follows")

    def _draw(self, ctx: BlockContext) -> np.ndarray:
        rng = ctx.rng()
        if getattr(self.spec, "tz", None) is not None:
            return self._in_local_time(ctx, rng)
        if self.intensity is not None:
            return self._after_in_calendar(ctx, rng)
        if self.timeline is not None:
            return self._from_calendar(ctx, rng)
        if self.censor_at is not None and self.spec.after is not None:
            values = self._after_between(ctx, rng)
            return _censored(values, self.censor_at, self.arrow_type)
        return self._after_between(ctx, rng)

    def _after_in_calendar(self, ctx: BlockContext, rng: np.random.Generator) -> pa.Array:
        """In the timeline's shape, after `after` (and within `within` days of it); null where
        nothing of the timeline is left before the bound (the window's end or `as_of`)."""
        after, known = self._after(ctx)
        values, valid = self._after_in_window(ctx, rng, after, known)
        return _as_storage(values, valid, self.arrow_type)

    def _after_in_window(self, ctx: BlockContext, rng: np.random.Generator, after: np.ndarray,
                         known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The values after `after` in the timeline's shape (in the timeline's own clock), and
        which rows have one."""
        per_hour = self.ticks_per_day / 24
        assert self.timeline is not None and self.intensity is not None  # set together, for `after` in a timeline
        start = self.timeline.first_day * self.ticks_per_day
        low = (after - start) / per_hour
        high = np.full(ctx.n, float(self.intensity.hours))
        if self.spec.within is not None:
            high = np.minimum(high, low + self.spec.within * 24.0)
        if self.censor_at is not None:
            high = np.minimum(high, (self.censor_at - start) / per_hour)
        moments, drawn = self.intensity.draw_between(low, high, rng.random(ctx.n))
        values = start + np.floor(moments * per_hour).astype(np.int64)
        values = np.maximum(values, after)  # never before `after`, whatever the rounding
        if not self.censored:
            # asked not to censor: a row with no room left keeps `after` itself
            return np.where(drawn, values, after), known
        return values, known & drawn

    def _in_local_time(self, ctx: BlockContext, rng: np.random.Generator) -> pa.Array | np.ndarray:
        """The timeline's calendar on each row's local clock (`tz`): the time is drawn as a
        wall-clock time exactly as without a zone, then written as UTC or as local time."""
        from fabula.story.zones import local_seconds, split_ticks, utc_seconds

        assert isinstance(self.spec, TimestampColumn) and self.spec.tz is not None  # only timestamps take a zone
        codes, names = row_zones(ctx, self.spec.tz)
        per_second = self.ticks_per_day // 86_400
        valid = after = stored_after = None
        if self.intensity is not None:
            stored_after, valid = self._after(ctx)
            after = stored_after
            if self.spec.store != "local":  # `after` is a UTC instant: where is it on the row's clock?
                seconds, rest = split_ticks(after, per_second)
                after = local_seconds(seconds, codes, names) * per_second + rest
            wall, valid = self._after_in_window(ctx, rng, after, valid)
        else:
            wall = self._from_calendar(ctx, rng)
        seconds, rest = split_ticks(wall, per_second)
        # a time shown twice when the clock falls back is either occurrence, by a coin of its own stream
        second = ctx.rng("tz-fold").random(ctx.n) < 0.5
        utc = utc_seconds(seconds, codes, names, second)
        if self.spec.store == "local":  # a time the clock skips shows as the time it moved to
            values = local_seconds(utc, codes, names) * per_second + rest
        else:
            values = utc * per_second + rest
        if self.intensity is None:
            return values
        assert stored_after is not None and valid is not None  # set above whenever there is an intensity
        values = np.maximum(values, stored_after)  # never before `after`, also where the clock fell back
        if self.spec.within is not None:  # nor more than `within` after it, when the clock fell back in between
            values = np.minimum(values, stored_after + self.spec.within * self.ticks_per_day)
        return _as_storage(values, valid, self.arrow_type)

    @property
    def censored(self) -> bool:
        return self.censor_at is not None

    def _after_between(self, ctx: BlockContext, rng: np.random.Generator):
        if self.timeline is not None:
            return self._from_calendar(ctx, rng)
        if self.spec.after is None:
            return rng.integers(self.low, self.high, ctx.n, endpoint=True, dtype=np.int64)
        after, known = self._after(ctx)
        if self.spec.lag is not None:
            lag, lag_known = self._lag_ticks(ctx)
            values = np.where(known, after + lag, rng.integers(self.low, self.high, ctx.n, endpoint=True))
            self._check_calendar(ctx, values)  # before int32 days could wrap
            if lag_known.all():
                return values
            # an unknown lag (a null in the lag column) leaves the time unknown, not equal to `after`
            storage = np.int32 if pa.types.is_date32(self.arrow_type) else np.int64
            return pa.array(values.astype(storage), mask=~lag_known).view(self.arrow_type)
        # uniform between max(start, after) and end; never before `after`, even past `end`
        low = np.where(known, np.maximum(after, self.low), self.low)
        span = np.maximum(self.high - low, 0)
        return low + np.floor(rng.random(ctx.n) * (span + 1)).astype(np.int64)

    def _from_calendar(self, ctx: BlockContext, rng: np.random.Generator) -> np.ndarray:
        if self.arrivals is not None:
            # the rank within the day stratifies the intraday quantile: a day's rows come out in
            # time order and follow the profile exactly, with no look at other blocks
            day, rank, count = self.arrivals.place(ctx.row_ids())
            quantile = (rank + rng.random(ctx.n)) / count
        else:
            assert self.day_cdf is not None  # set by `compile` whenever the rows are not arrivals
            picks = rng.random(ctx.n) * self.day_cdf[-1]
            day = np.minimum(np.searchsorted(self.day_cdf, picks, side="right"), len(self.day_cdf) - 1)
            quantile = rng.random(ctx.n)
        assert self.timeline is not None  # a calendar is a timeline's
        days = self.timeline.first_day + day.astype(np.int64)
        if self.ticks_per_day == 1:
            return days
        seconds = self.timeline.seconds_in_day(quantile, day)
        return days * self.ticks_per_day + np.floor(seconds * (self.ticks_per_day / 86_400)).astype(np.int64)

    def distinct_values(self) -> int | None:
        return None if self.spec.after or self.timeline is not None else self.high - self.low + 1

    def _generate_unique(self, ctx: BlockContext) -> np.ndarray:
        return self.low + self._unique_codes(ctx)

    def _after(self, ctx: BlockContext) -> tuple[np.ndarray, np.ndarray]:
        """`after` in this column's units (rounded up to a whole day for a date), and where known."""
        assert self.spec.after is not None  # only called with `after:`
        source = ctx.columns[self.spec.after]
        known = np.asarray(source.is_valid()) if source.null_count else np.ones(len(source), dtype=bool)
        if pa.types.is_date32(source.type):
            days = source.view(pa.int32()).fill_null(0).to_numpy().astype(np.int64)
            return days * self.ticks_per_day, known
        ticks = source.view(pa.int64()).fill_null(0).to_numpy()
        source_per_day = TICKS_PER_DAY[source.type.unit]
        if self.ticks_per_day == 1:
            return -(-ticks // source_per_day), known  # a date on or after that instant's day
        if self.ticks_per_day >= source_per_day:  # units differ by powers of 1000: exact ratios
            return ticks * (self.ticks_per_day // source_per_day), known
        return -(-ticks // (source_per_day // self.ticks_per_day)), known

    def _lag_ticks(self, ctx: BlockContext) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(self.spec.lag, str):
            lag = ctx.columns[self.spec.lag]
        else:
            assert self.lag is not None  # compiled from a lag that is not a column
            lag = self.lag.generate(ctx.for_column(f"{ctx.column}[lag]"))
        amount = lag.to_numpy(zero_copy_only=False).astype(np.float64)
        known = ~np.isnan(amount)
        ticks = np.nan_to_num(amount, nan=0.0) * LAG_UNITS[self.spec.lag_unit] * self.ticks_per_day / 86_400
        # a float beyond int64 would wrap in astype: no lag longer than the calendar is possible
        if ticks.size and not np.nanmax(ticks) < (_LAST_DAY - _FIRST_DAY + 1) * self.ticks_per_day:
            raise DataError(f"a lag of {float(np.nanmax(amount)):g} {self.spec.lag_unit} "
                            "goes beyond the years 1 to 9999", hint="use a shorter `lag`")
        return np.round(np.maximum(ticks, 0)).astype(np.int64), known

    def describe(self):
        if self.timeline is not None:
            zone = getattr(self.spec, "tz", None)
            order = " (arrivals, in local-time order)" if zone else " (arrivals, in time order)"
            shown = {"timeline": self.spec.timeline + (order if self.arrivals else " (shape)")}
            if zone is not None:
                shown["tz"] = f"{zone} (stored as {self.spec.store or 'utc'})"
            return shown
        shown = {"start": _shown(self.spec.start, self.low, self.arrow_type),
                 "end": _shown(self.spec.end, self.high, self.arrow_type)}
        if self.spec.after:
            shown["after"] = self.spec.after
        if self.spec.lag is not None:
            shown["lag"] = f"{self.spec.lag} {self.spec.lag_unit}"
        return shown


def row_zones(ctx: BlockContext, tz: str) -> tuple[np.ndarray, list[str]]:
    """Each row's zone as a code into a list of zone names (`story.zones.zone_codes`)."""
    from fabula.spec.zones import is_zone_name
    from fabula.story.zones import zone_codes

    try:
        return zone_codes(None if is_zone_name(tz) else ctx.columns[tz], tz, ctx.n)
    except ValueError as error:
        raise DataError(str(error), hint="write IANA zone names such as America/New_York, Europe/Berlin, "
                                         "Asia/Tokyo") from None


def _censor_at(spec, env: CompileEnv, arrow_type) -> int | None:
    """The first tick after `as_of` when this column censors there: by default with `timeline`
    and `after` (a child's time never runs past the data's end), else only with `censor: true`."""
    censor = spec.censor if spec.censor is not None else (spec.timeline is not None and spec.after is not None)
    if not censor:
        return None
    per_day = 1 if pa.types.is_date32(arrow_type) else TICKS_PER_DAY[arrow_type.unit]
    return ((env.as_of - EPOCH).days + 1) * per_day


def _as_storage(values: np.ndarray, valid: np.ndarray, arrow_type) -> pa.Array:
    storage = pa.int32() if pa.types.is_date32(arrow_type) else pa.int64()
    return pa.array(values.astype(storage.to_pandas_dtype()), type=storage, mask=~valid).view(arrow_type)


def _censored(values, censor_at: int, arrow_type) -> pa.Array:
    """Values at or after `censor_at` (past the data's end) become null."""
    if isinstance(values, np.ndarray):
        return _as_storage(values, values < censor_at, arrow_type)
    storage = pa.int32() if pa.types.is_date32(arrow_type) else pa.int64()
    numbers = values.view(storage)
    keep = np.asarray(numbers.is_valid()) & (numbers.fill_null(0).to_numpy() < censor_at)
    return _as_storage(numbers.fill_null(0).to_numpy(), keep, arrow_type)


def _shown(bound, value: int, arrow_type) -> str:
    """A bound as written, with the date it resolved to when it was relative."""
    if not isinstance(bound, str):
        return str(bound)
    days = value if pa.types.is_date32(arrow_type) else value // TICKS_PER_DAY[arrow_type.unit]
    return f"{bound} ({date.fromordinal(EPOCH.toordinal() + days)})"


@generator("date")
@dataclass(frozen=True)
class DateGenerator(_Between[DateColumn]):
    spec: DateColumn

    @classmethod
    def output_type(cls, spec, env):
        return pa.date32()

    @classmethod
    def compile(cls, spec: DateColumn, env: CompileEnv):
        if spec.timeline is not None:
            return cls._from_timeline(spec, env, pa.date32(), 1)
        assert spec.start is not None and spec.end is not None  # the spec requires both without a timeline
        start, end = (resolve_bound(bound, env.as_of) for bound in (spec.start, spec.end))
        return cls._compiled(spec, env, pa.date32(), (start - EPOCH).days, (end - EPOCH).days)

    def _generate(self, ctx: BlockContext) -> np.ndarray | pa.Array:
        values = super()._generate(ctx)  # checked within the calendar, so int32 days cannot wrap
        return values.astype(np.int32) if isinstance(values, np.ndarray) else values


@generator("timestamp")
@dataclass(frozen=True)
class TimestampGenerator(_Between[TimestampColumn]):
    spec: TimestampColumn

    @classmethod
    def output_type(cls, spec, env):
        return pa.timestamp(spec.unit)

    @classmethod
    def compile(cls, spec: TimestampColumn, env: CompileEnv):
        ticks = TICKS_PER_DAY[spec.unit]
        if spec.timeline is not None:
            return cls._from_timeline(spec, env, pa.timestamp(spec.unit), ticks)
        assert spec.start is not None and spec.end is not None  # the spec requires both without a timeline
        start, end = (resolve_bound(bound, env.as_of) for bound in (spec.start, spec.end))
        # from the first instant of `start` to the last tick of `end`
        return cls._compiled(spec, env, pa.timestamp(spec.unit),
                             (start - EPOCH).days * ticks, ((end - EPOCH).days + 1) * ticks - 1)
