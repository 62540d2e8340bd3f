"""Weighted categoricals, booleans and constants."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from fabula.generators.base import DICTIONARY_STRING, BlockContext, CompileEnv, Generator, generator
from fabula.generators.draws import inverse_cdf
from fabula.generators.laws import Law, Shares
from fabula.spec.columns import BooleanColumn, CategoricalColumn, ConstantColumn


def level_type(levels: Sequence[object]) -> pa.DataType:
    """The Arrow type for a set of category values (strings are dictionary-encoded)."""
    if all(isinstance(level, bool) for level in levels):
        return pa.bool_()
    if all(isinstance(level, int) and not isinstance(level, bool) for level in levels):
        return pa.int64()
    if all(isinstance(level, (int, float)) and not isinstance(level, bool) for level in levels):
        return pa.float64()
    if all(isinstance(level, date) for level in levels):
        return pa.date32()
    return DICTIONARY_STRING


def levels_array(levels: Sequence[object], arrow_type: pa.DataType) -> pa.Array:
    if arrow_type == DICTIONARY_STRING:
        return pa.array([str(level) for level in levels], type=pa.string())
    return pa.array(list(levels), type=arrow_type)


def take_levels(codes: np.ndarray, levels: pa.Array, arrow_type: pa.DataType) -> pa.Array:
    """Rows from integer codes into the levels: a dictionary array for strings, else a take."""
    if arrow_type == DICTIONARY_STRING:
        return pa.DictionaryArray.from_arrays(pa.array(codes, type=pa.int32()), levels)
    return levels.take(pa.array(codes, type=pa.int32()))


@generator("categorical")
@dataclass(frozen=True)
class CategoricalGenerator(Generator[CategoricalColumn]):
    spec: CategoricalColumn
    levels: pa.Array = None
    cumulative: np.ndarray = None  # type: ignore[assignment]  # always given by `compile`; a default only for the field order

    @classmethod
    def output_type(cls, spec, env):
        return level_type(list(spec.values))

    @classmethod
    def compile(cls, spec: CategoricalColumn, env: CompileEnv):
        arrow_type = cls.output_type(spec, env)
        weights = np.array(list(spec.weights.values()), dtype=np.float64)
        cumulative = np.cumsum(weights)
        cumulative[-1] = 1.0  # the last level catches rounding, never a draw past the end
        return cls(spec=spec, arrow_type=arrow_type, levels=levels_array(list(spec.values), arrow_type),
                   cumulative=cumulative)

    def _generate(self, ctx: BlockContext) -> pa.Array:
        codes = draw_codes(ctx.rng(), self.cumulative, ctx.n)
        return take_levels(codes, self.levels, self.arrow_type)

    def distinct_values(self) -> int:
        return len(self.levels)

    def _generate_unique(self, ctx: BlockContext) -> pa.Array:
        return take_levels(self._unique_codes(ctx).astype(np.int32), self.levels, self.arrow_type)

    def shares(self) -> Shares:
        weights = self.spec.weights
        shown = ", ".join(f"{level}: {weight:.0%}" for level, weight in weights.items())
        return Shares(f"categorical({shown})", tuple(weights), tuple(weights.values()))


def draw_codes(rng: np.random.Generator, cumulative: np.ndarray, n: int) -> np.ndarray:
    """Category codes by inverse CDF: O(n log k), no per-row work."""
    return inverse_cdf(cumulative, rng.random(n)).astype(np.int32)


@generator("boolean")
class BooleanGenerator(Generator[BooleanColumn]):
    spec: BooleanColumn

    @classmethod
    def output_type(cls, spec, env):
        return pa.bool_()

    def _generate(self, ctx: BlockContext) -> np.ndarray:
        return ctx.rng().random(ctx.n) < self.spec.p

    def distinct_values(self) -> int:
        return 2

    def _generate_unique(self, ctx: BlockContext) -> np.ndarray:
        return self._unique_codes(ctx) == 1

    def shares(self) -> Shares:
        return Shares(f"boolean(p={self.spec.p:g})", (True, False), (self.spec.p, 1 - self.spec.p))


@generator("constant")
class ConstantGenerator(Generator[ConstantColumn]):
    spec: ConstantColumn

    @classmethod
    def output_type(cls, spec, env):
        return level_type([spec.value])

    def _generate(self, ctx: BlockContext) -> pa.Array:
        levels = levels_array([self.spec.value], self.arrow_type)
        return take_levels(np.zeros(ctx.n, dtype=np.int32), levels, self.arrow_type)

    def _is_number(self) -> bool:
        return pa.types.is_integer(self.arrow_type) or pa.types.is_floating(self.arrow_type)

    def law(self) -> Law | None:
        """A number with no spread: the reference sample shows the one value to expect."""
        return Law(cdf=None, describe=f"constant {self.spec.value}") if self._is_number() else None

    def shares(self) -> Shares | None:
        return None if self._is_number() else Shares(f"constant({self.spec.value})", (self.spec.value,), (1.0,))

    def distinct_values(self) -> int:
        return 1
