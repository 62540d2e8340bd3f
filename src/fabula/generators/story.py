"""Generators of the story: a column that changes during events, and the events table's values.

A column with `during:` draws every row as usual (so rows outside every event are exactly what
they would be without the event), then redraws the rows an event covers with the override,
from a stream named after the event. With a ramp, a row is covered with the event's strength
at its time (0..1), so the change fades in and out with the volume.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pyarrow as pa

from fabula.generators.base import TICKS_PER_DAY, BlockContext, CompileEnv, Generator
from fabula.generators.conditional import ConditionalGenerator, common_type, scatter
from fabula.story.events import EventWindow


@dataclass(frozen=True)
class Override:
    event: str
    at: str
    window: EventWindow
    generator: Generator
    where: str | None = None
    """Only rows matching this condition change (`where: region == 'West'`)."""


@dataclass(frozen=True)
class DuringGenerator(Generator):
    base: Generator | None = None
    overrides: tuple[Override, ...] = ()

    kind = "during"

    @classmethod
    def compile(cls, spec, env: CompileEnv, *, compile_column) -> "DuringGenerator":
        base = compile_column(spec.model_copy(update={"during": ()}), env)
        overrides = []
        for override in spec.during:
            generator = compile_column(override.column, env)
            if isinstance(generator, ConditionalGenerator) and generator.default is None:
                # rows the override's cases leave out keep the column's own rule
                generator = replace(generator, default=base)
            window = env.story.events[override.event].shifted(override.delay, override.lasting)
            overrides.append(Override(override.event, override.at, window, generator, override.where))
        arrow_type = common_type([base.arrow_type, *(o.generator.arrow_type for o in overrides)])
        # modifiers were applied by the base and the overrides (which inherit them): not twice
        plain = spec.model_copy(update={"nulls": 0.0, "round": None, "clip": None})
        return cls(spec=plain, arrow_type=arrow_type, base=base, overrides=tuple(overrides))

    def _generate(self, ctx: BlockContext) -> pa.Array:
        base = self.base.generate(ctx)
        owner = np.zeros(ctx.n, dtype=np.int64)  # 0: the column's own rule; i: override i (last wins)
        for number, override in enumerate(self.overrides, start=1):
            strength = override.window.strength(_days(ctx.columns[override.at]))
            covered = ctx.rng(f"during:{override.event}").random(ctx.n) < strength
            if override.where is not None:
                from fabula.generators.when import condition_mask  # when imports evaluate: only if used

                covered &= condition_mask(override.where, ctx)
            owner[covered] = number
        if not owner.any():
            return base.cast(self.arrow_type) if base.type != self.arrow_type else base
        keep = np.flatnonzero(owner == 0)
        parts = [(keep, base.take(pa.array(keep)))]
        for number, override in enumerate(self.overrides, start=1):
            rows = np.flatnonzero(owner == number)
            if len(rows):
                parts.append((rows, override.generator.generate(ctx.subset(rows, f"during:{override.event}"))))
        return scatter(parts, ctx.n, self.arrow_type)

    def describe(self) -> dict[str, Any]:
        shown = dict(self.base.describe())
        for override in self.overrides:
            window = override.window
            shown[f"during {override.event}"] = (f"{window.start_date}..{window.end_date}: {override.generator.kind}"
                                                 f"({', '.join(f'{k}={v}' for k, v in override.generator.describe().items())})")
        return shown


def _days(times: pa.Array) -> np.ndarray:
    """Dates and timestamps as fractional days since the epoch (a date counts as its midday);
    nulls become NaN, which no window covers."""
    if pa.types.is_date32(times.type):
        days = times.view(pa.int32()).to_numpy(zero_copy_only=False).astype(np.float64) + 0.5
    else:
        ticks = times.view(pa.int64()).to_numpy(zero_copy_only=False).astype(np.float64)
        days = ticks / TICKS_PER_DAY[times.type.unit]
    if times.null_count:
        days[~np.asarray(times.is_valid())] = np.nan
    return days


@dataclass(frozen=True)
class FixedValuesGenerator(Generator):
    """A column of known values, one per row (the events table: names, windows, descriptions)."""

    values: tuple = field(default=())

    kind = "fixed"

    def _generate(self, ctx: BlockContext) -> pa.Array:
        return pa.array(self.values, type=self.arrow_type).take(pa.array(ctx.row_ids()))

    def describe(self) -> dict[str, Any]:
        return {"values": ", ".join(map(str, self.values))}



