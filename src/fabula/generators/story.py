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
from fabula.spec.columns import ColumnSpec
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
class DuringGenerator(Generator[ColumnSpec]):
    base: Generator | None = None
    overrides: tuple[Override, ...] = ()

    kind = "during"

    @classmethod
    def compile(  # type: ignore[override]  # compile_column passes itself, for the base and each override
            cls, spec, env: CompileEnv, *, compile_column) -> DuringGenerator:
        base = compile_column(spec.model_copy(update={"during": ()}), env)
        overrides = []
        for override in spec.during:
            generator = compile_column(override.column, env)
            if isinstance(generator, ConditionalGenerator) and generator.default is None:
                # rows the override's cases leave out keep the column's own rule
                generator = replace(generator, default=base)
            assert env.story is not None  # `during:` is compiled only within a plan, which resolves the story
            window = env.story.events[override.event].shifted(override.delay, override.lasting)
            overrides.append(Override(override.event, override.at, window, generator, override.where))
        arrow_type = common_type([base.arrow_type, *(o.generator.arrow_type for o in overrides)])
        # modifiers were applied by the base and the overrides (which inherit them): not twice
        plain = spec.model_copy(update={"nulls": 0.0, "round": None, "clip": None})
        return cls(spec=plain, arrow_type=arrow_type, base=base, overrides=tuple(overrides))

    def _generate(self, ctx: BlockContext) -> pa.Array:
        assert self.base is not None  # set by `compile`
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
        assert self.base is not None  # set by `compile`
        shown = dict(self.base.describe())
        for override in self.overrides:
            window = override.window
            shown[f"during {override.event}"] = (
                f"{window.start_date}..{window.end_date}: {override.generator.kind}"
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
class FixedValuesGenerator(Generator[ColumnSpec]):
    """A column of known values, one per row (the events table: names, windows, descriptions)."""

    values: tuple = field(default=())

    kind = "fixed"

    def _generate(self, ctx: BlockContext) -> pa.Array:
        return pa.array(self.values, type=self.arrow_type).take(pa.array(ctx.row_ids()))

    def describe(self) -> dict[str, Any]:
        return {"values": ", ".join(map(str, self.values))}





from fabula.generators.base import DICTIONARY_STRING, generator  # noqa: E402  (registered below)
from fabula.spec.sequences import ComponentColumn  # noqa: E402


@generator(ComponentColumn)
@dataclass(frozen=True)
class ComponentGenerator(Generator[ComponentColumn]):
    """The label of the mix component a row came from: drawn with probability proportional to
    each component's volume on the row's day times its intraday share at the row's hour."""

    labels: tuple[str, ...] = ()
    weights: np.ndarray | None = field(default=None, compare=False)
    """components × days × 24: each component's expected volume in each hour of the window."""
    first_day: int = 0

    @classmethod
    def output_type(cls, spec, env):
        return DICTIONARY_STRING

    @classmethod
    def compile(cls, spec: ComponentColumn, env: CompileEnv):
        resolved = env.story.timelines.get(spec.timeline) if env.story else None
        if resolved is None or not resolved.components:
            raise ValueError(f"`{spec.timeline}` is not a mix of timelines: a component column labels the rows of a "
                             "mix, e.g. timelines: {card: {mix: {normal: card_day, fraud: night_fraud}}}")
        at_type = env.column_types.get(spec.at)
        if at_type is not None and not pa.types.is_timestamp(at_type):
            raise ValueError(f"`at` places the row in time, and `{spec.at}` is {at_type}, not a timestamp")
        weights = np.stack([volume[:, None] * shares[None, :] for _, volume, shares in resolved.components])
        return cls(spec=spec, arrow_type=DICTIONARY_STRING, labels=tuple(label for label, _, _ in resolved.components),
                   weights=weights, first_day=resolved.first_day)

    def _generate(self, ctx: BlockContext) -> pa.Array:
        times = ctx.columns[self.spec.at]
        moments = _days(times)  # fractional days since the epoch, NaN for nulls
        known = ~np.isnan(moments)
        day = np.floor(np.nan_to_num(moments)).astype(np.int64) - self.first_day
        hour = np.floor((np.nan_to_num(moments) % 1.0) * 24).astype(np.int64)
        assert self.weights is not None  # set by `compile`
        inside = known & (day >= 0) & (day < self.weights.shape[1])
        day, hour = np.clip(day, 0, self.weights.shape[1] - 1), np.clip(hour, 0, 23)
        odds = self.weights[:, day, hour]  # components × rows
        total = odds.sum(axis=0)
        cumulative = np.cumsum(odds, axis=0) / np.where(total > 0, total, 1.0)
        picks = (cumulative < ctx.rng().random(ctx.n)[None, :]).sum(axis=0)
        codes = np.minimum(picks, len(self.labels) - 1).astype(np.int32)
        valid = inside & (total > 0)
        indices = pa.array(codes, type=pa.int32(), mask=~valid)
        return pa.DictionaryArray.from_arrays(indices, pa.array(self.labels, type=pa.string()))

    def describe(self) -> dict[str, Any]:
        return {"timeline": self.spec.timeline, "at": self.spec.at, "labels": ", ".join(self.labels)}
