"""Dates and timestamps between two bounds, resolved against `as_of` when compiled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from fabula.generators.base import EPOCH, TICKS_PER_DAY, BlockContext, CompileEnv, Generator, generator
from fabula.spec.columns import DateColumn, TimestampColumn
from fabula.spec.dates import resolve_bound


@dataclass(frozen=True)
class _Between(Generator):
    low: int = 0
    """First value, in storage units (days or timestamp ticks)."""
    high: int = 0
    """Last value, inclusive."""

    def _generate(self, ctx: BlockContext) -> np.ndarray:
        return ctx.rng().integers(self.low, self.high, ctx.n, endpoint=True, dtype=np.int64)

    def describe(self):
        return {"start": _shown(self.spec.start, self.low, self.arrow_type),
                "end": _shown(self.spec.end, self.high, self.arrow_type)}


def _shown(bound, value: int, arrow_type) -> str:
    """A bound as written, with the date it resolved to when it was relative."""
    if not isinstance(bound, str):
        return str(bound)
    days = value if pa.types.is_date32(arrow_type) else value // TICKS_PER_DAY[arrow_type.unit]
    return f"{bound} ({date.fromordinal(EPOCH.toordinal() + days)})"


@generator("date")
@dataclass(frozen=True)
class DateGenerator(_Between):
    spec: DateColumn

    @classmethod
    def output_type(cls, spec, env):
        return pa.date32()

    @classmethod
    def compile(cls, spec: DateColumn, env: CompileEnv):
        start, end = (resolve_bound(bound, env.as_of) for bound in (spec.start, spec.end))
        return cls(spec=spec, arrow_type=pa.date32(), low=(start - EPOCH).days, high=(end - EPOCH).days)

    def _generate(self, ctx: BlockContext) -> np.ndarray:
        return super()._generate(ctx).astype(np.int32)


@generator("timestamp")
@dataclass(frozen=True)
class TimestampGenerator(_Between):
    spec: TimestampColumn

    @classmethod
    def output_type(cls, spec, env):
        return pa.timestamp(spec.unit)

    @classmethod
    def compile(cls, spec: TimestampColumn, env: CompileEnv):
        ticks = TICKS_PER_DAY[spec.unit]
        start, end = (resolve_bound(bound, env.as_of) for bound in (spec.start, spec.end))
        # from the first instant of `start` to the last tick of `end`
        return cls(spec=spec, arrow_type=pa.timestamp(spec.unit),
                   low=(start - EPOCH).days * ticks, high=((end - EPOCH).days + 1) * ticks - 1)
