"""Numeric distributions, each a vectorised draw from the column's values stream."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from fabula.generators.base import BlockContext, Generator, generator


class _Float(Generator):
    @classmethod
    def output_type(cls, spec, env):
        return pa.float64()


class _Count(Generator):
    @classmethod
    def output_type(cls, spec, env):
        return pa.int64()


@generator("normal")
class NormalGenerator(_Float):
    def _generate(self, ctx: BlockContext) -> np.ndarray:
        return ctx.rng().normal(self.spec.mean, self.spec.std, ctx.n)


@generator("lognormal")
class LogNormalGenerator(_Float):
    def _generate(self, ctx: BlockContext) -> np.ndarray:
        return ctx.rng().lognormal(self.spec.mean, self.spec.sigma, ctx.n)


@generator("pareto")
class ParetoGenerator(_Float):
    def _generate(self, ctx: BlockContext) -> np.ndarray:
        # numpy's pareto is the Lomax form; shifting by 1 gives the classical Pareto (min = scale)
        return (ctx.rng().pareto(self.spec.alpha, ctx.n) + 1.0) * self.spec.scale


@generator("exponential")
class ExponentialGenerator(_Float):
    def _generate(self, ctx: BlockContext) -> np.ndarray:
        return ctx.rng().exponential(self.spec.scale, ctx.n)


@generator("gamma")
class GammaGenerator(_Float):
    def _generate(self, ctx: BlockContext) -> np.ndarray:
        return ctx.rng().gamma(self.spec.shape, self.spec.scale, ctx.n)


@generator("beta")
class BetaGenerator(_Float):
    def _generate(self, ctx: BlockContext) -> np.ndarray:
        return ctx.rng().beta(self.spec.a, self.spec.b, ctx.n)


@generator("weibull")
class WeibullGenerator(_Float):
    def _generate(self, ctx: BlockContext) -> np.ndarray:
        return self.spec.scale * ctx.rng().weibull(self.spec.shape, ctx.n)


@generator("poisson")
class PoissonGenerator(_Count):
    def _generate(self, ctx: BlockContext) -> np.ndarray:
        return ctx.rng().poisson(self.spec.lam, ctx.n).astype(np.int64, copy=False)


@generator("zipf")
class ZipfGenerator(_Count):
    def _generate(self, ctx: BlockContext) -> np.ndarray:
        return ctx.rng().zipf(self.spec.a, ctx.n).astype(np.int64, copy=False)


@generator("uniform")
class UniformGenerator(Generator):
    @classmethod
    def output_type(cls, spec, env):
        return pa.int64() if spec.integer else pa.float64()

    def distinct_values(self) -> int | None:
        if not self.spec.integer:
            return None
        return int(np.floor(self.spec.high)) - int(np.ceil(self.spec.low)) + 1

    def _generate_unique(self, ctx: BlockContext) -> np.ndarray:
        return int(np.ceil(self.spec.low)) + self._unique_codes(ctx)

    def _generate(self, ctx: BlockContext) -> np.ndarray:
        if self.spec.integer:
            low, high = int(np.ceil(self.spec.low)), int(np.floor(self.spec.high))
            return ctx.rng().integers(low, high, ctx.n, endpoint=True, dtype=np.int64)
        return ctx.rng().uniform(self.spec.low, self.spec.high, ctx.n)
