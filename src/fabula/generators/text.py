"""Text and derived values: Faker pools, expressions, templates and Python callables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pyarrow as pa

from fabula.generators.base import DICTIONARY_STRING, BlockContext, CompileEnv, Generator, generator
from fabula.generators.evaluate import evaluate, evaluate_template
from fabula.providers.faker_pool import build_pool
from fabula.spec.columns import ExpressionColumn, FakerColumn, PythonColumn, TemplateColumn


@generator("faker")
@dataclass(frozen=True)
class FakerGenerator(Generator[FakerColumn]):
    """Samples the column's pool uniformly: every pooled value is equally likely."""

    spec: FakerColumn
    pool: pa.Array = None

    @classmethod
    def compile(cls, spec: FakerColumn, env: CompileEnv):
        pool = build_pool(spec.provider, locale=spec.locale, size=spec.pool, args=spec.args)
        arrow_type = DICTIONARY_STRING if pa.types.is_string(pool.type) else pool.type
        return cls(spec=spec, arrow_type=arrow_type, pool=pool)

    def _generate(self, ctx: BlockContext) -> pa.Array:
        codes = ctx.rng().integers(0, len(self.pool), ctx.n, dtype=np.int32)
        if self.arrow_type == DICTIONARY_STRING:
            return pa.DictionaryArray.from_arrays(pa.array(codes, type=pa.int32()), self.pool)
        return self.pool.take(pa.array(codes))

    def distinct_values(self) -> int:
        return len(self.pool)

    def _generate_unique(self, ctx: BlockContext) -> pa.Array:
        codes = self._unique_codes(ctx).astype(np.int32)
        if self.arrow_type == DICTIONARY_STRING:
            return pa.DictionaryArray.from_arrays(pa.array(codes, type=pa.int32()), self.pool)
        return self.pool.take(pa.array(codes))

    def describe(self):
        return {"provider": self.spec.provider, "locale": self.spec.locale,
                "pool": f"{len(self.pool)} distinct"}


def _empty_inputs(env: CompileEnv, names) -> dict[str, pa.Array]:
    return {name: pa.array([], type=env.column_types[name]) for name in names if name in env.column_types}


@generator("expression")
class ExpressionGenerator(Generator[ExpressionColumn]):
    own_nulls: ClassVar[bool] = False  # nulls come from what it reads
    spec: ExpressionColumn

    @classmethod
    def output_type(cls, spec: ExpressionColumn, env: CompileEnv):
        # evaluating over empty inputs of the right types tells the result type, and any type error
        return evaluate(spec.expression, _empty_inputs(env, spec.depends_on()), 0).type

    def _generate(self, ctx: BlockContext) -> pa.Array:
        return evaluate(self.spec.expression, ctx.columns, ctx.n)

    def describe(self):
        return {"expr": self.spec.expr}


@generator("template")
class TemplateGenerator(Generator[TemplateColumn]):
    own_nulls: ClassVar[bool] = False  # nulls come from what it reads
    spec: TemplateColumn

    @classmethod
    def output_type(cls, spec, env):
        return pa.string()

    def _generate(self, ctx: BlockContext) -> pa.Array:
        return evaluate_template(self.spec.parsed, ctx.columns, ctx.n)

    def describe(self):
        return {"template": self.spec.template}


@generator("python")
class PythonGenerator(Generator[PythonColumn]):
    own_nulls: ClassVar[bool] = False  # nulls come from what it reads
    """`fn({name: array}, rng, n)` for Python API users; its result is cast to the declared type."""

    spec: PythonColumn

    @classmethod
    def output_type(cls, spec: PythonColumn, env):
        return pa.timestamp("us") if spec.type == "timestamp[us]" else pa.type_for_alias(spec.type)

    def _generate(self, ctx: BlockContext) -> pa.Array:
        inputs = {name: ctx.columns[name] for name in self.spec.depends}
        result = self.spec.fn(inputs, ctx.rng(), ctx.n)
        array = result if isinstance(result, (pa.Array, pa.ChunkedArray)) else pa.array(result)
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        return array.cast(self.arrow_type)

    def describe(self):
        fn = self.spec.fn
        return {"fn": f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', fn)}",
                "depends": list(self.spec.depends), "type": self.spec.type}
