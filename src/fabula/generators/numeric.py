"""The numeric distributions' generators, each beside its law in closed form, which validation
compares the data with. Their spec models (the parameters a user writes) are in
`fabula.spec.numeric`, in the spec layer, so a spec loads without this module.

Adding a distribution means its model in `spec/numeric.py`, its generator and law here, and its
section in docs/columns.md (a test checks every kind is documented and passes the generator
contract).
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from fabula.generators.base import BlockContext, Generator, SpecT, generator
from fabula.generators.laws import Law, beta_i, gamma_p, integer_uniform, phi, poisson_cdf, zeta, zipf_cdf
from fabula.spec.numeric import (
    BetaColumn,
    ExponentialColumn,
    GammaColumn,
    LogNormalColumn,
    NormalColumn,
    ParetoColumn,
    PoissonColumn,
    UniformColumn,
    WeibullColumn,
    ZipfColumn,
)


class _Float(Generator[SpecT]):
    @classmethod
    def output_type(cls, spec, env):
        return pa.float64()


class _Count(Generator[SpecT]):
    @classmethod
    def output_type(cls, spec, env):
        return pa.int64()


# -- normal -----------------------------------------------------------------------------------------


@generator(NormalColumn)
class NormalGenerator(_Float[NormalColumn]):
    def _generate(self, ctx: BlockContext) -> np.ndarray:
        return ctx.rng().normal(self.spec.mean, self.spec.std, ctx.n)

    def law(self) -> Law:
        mu, sd = self.spec.mean, self.spec.std
        return Law(lambda x: phi((x - mu) / sd), mean=mu)


# -- lognormal --------------------------------------------------------------------------------------


@generator(LogNormalColumn)
class LogNormalGenerator(_Float[LogNormalColumn]):
    def _generate(self, ctx: BlockContext) -> np.ndarray:
        return ctx.rng().lognormal(self.spec.mean, self.spec.sigma, ctx.n)

    def law(self) -> Law:
        mu, sigma = self.spec.mean, self.spec.sigma
        return Law(lambda x: phi((math.log(x) - mu) / sigma) if x > 0 else 0.0, mean=math.exp(mu + sigma ** 2 / 2))


# -- pareto -----------------------------------------------------------------------------------------


@generator(ParetoColumn)
class ParetoGenerator(_Float[ParetoColumn]):
    def _generate(self, ctx: BlockContext) -> np.ndarray:
        # numpy's pareto is the Lomax form; shifting by 1 gives the classical Pareto (min = scale)
        return (ctx.rng().pareto(self.spec.alpha, ctx.n) + 1.0) * self.spec.scale

    def law(self) -> Law:
        alpha, scale = self.spec.alpha, self.spec.scale
        return Law(lambda x: 1.0 - (scale / x) ** alpha if x > scale else 0.0,
                   mean=alpha * scale / (alpha - 1) if alpha > 1 else None)


# -- exponential ------------------------------------------------------------------------------------


@generator(ExponentialColumn)
class ExponentialGenerator(_Float[ExponentialColumn]):
    def _generate(self, ctx: BlockContext) -> np.ndarray:
        return ctx.rng().exponential(self.spec.scale, ctx.n)

    def law(self) -> Law:
        scale = self.spec.scale
        return Law(lambda x: -math.expm1(-x / scale) if x > 0 else 0.0, mean=scale)


# -- gamma ------------------------------------------------------------------------------------------


@generator(GammaColumn)
class GammaGenerator(_Float[GammaColumn]):
    def _generate(self, ctx: BlockContext) -> np.ndarray:
        return ctx.rng().gamma(self.spec.shape, self.spec.scale, ctx.n)

    def law(self) -> Law:
        shape, scale = self.spec.shape, self.spec.scale
        return Law(lambda x: gamma_p(shape, x / scale) if x > 0 else 0.0, mean=shape * scale)


# -- beta -------------------------------------------------------------------------------------------


@generator(BetaColumn)
class BetaGenerator(_Float[BetaColumn]):
    def _generate(self, ctx: BlockContext) -> np.ndarray:
        return ctx.rng().beta(self.spec.a, self.spec.b, ctx.n)

    def law(self) -> Law:
        a, b = self.spec.a, self.spec.b
        return Law(lambda x: beta_i(a, b, min(max(x, 0.0), 1.0)), mean=a / (a + b))


# -- weibull ----------------------------------------------------------------------------------------


@generator(WeibullColumn)
class WeibullGenerator(_Float[WeibullColumn]):
    def _generate(self, ctx: BlockContext) -> np.ndarray:
        return self.spec.scale * ctx.rng().weibull(self.spec.shape, ctx.n)

    def law(self) -> Law:
        shape, scale = self.spec.shape, self.spec.scale
        return Law(lambda x: -math.expm1(-((x / scale) ** shape)) if x > 0 else 0.0,
                   mean=scale * math.gamma(1 + 1 / shape))


# -- poisson ----------------------------------------------------------------------------------------


@generator(PoissonColumn)
class PoissonGenerator(_Count[PoissonColumn]):
    def _generate(self, ctx: BlockContext) -> np.ndarray:
        return ctx.rng().poisson(self.spec.lam, ctx.n).astype(np.int64, copy=False)

    def law(self) -> Law:
        lam = self.spec.lam
        return Law(lambda k: poisson_cdf(math.floor(k), lam), discrete=True, mean=lam)


# -- zipf -------------------------------------------------------------------------------------------


@generator(ZipfColumn)
class ZipfGenerator(_Count[ZipfColumn]):
    def _generate(self, ctx: BlockContext) -> np.ndarray:
        return ctx.rng().zipf(self.spec.a, ctx.n).astype(np.int64, copy=False)

    def law(self) -> Law:
        a = self.spec.a
        return Law(lambda k: zipf_cdf(math.floor(k), a), discrete=True,
                   mean=zeta(a - 1) / zeta(a) if a > 2 else None)


# -- uniform ----------------------------------------------------------------------------------------


@generator(UniformColumn)
class UniformGenerator(Generator[UniformColumn]):
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

    def law(self) -> Law:
        if self.spec.integer:
            return integer_uniform(math.ceil(self.spec.low), math.floor(self.spec.high))
        low, high = self.spec.low, self.spec.high
        return Law(lambda x: min(max((x - low) / (high - low), 0.0), 1.0), mean=(low + high) / 2)
