"""The numeric distributions as a user writes them: one model per kind, registered by name.

Their generators and laws are in `fabula.generators.numeric`; adding a distribution means a
model here, its generator and law there, and its section in docs/columns.md.
"""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from fabula.spec.columns import Distribution, column_kind

Positive = Field(gt=0)


@column_kind("normal")
class NormalColumn(Distribution):
    """Normal(mean, std); pair with `clip` for physical bounds."""

    mean: float
    std: float = Positive


@column_kind("lognormal")
class LogNormalColumn(Distribution):
    """exp(Normal(mean, sigma)): prices, revenue, sizes. `mean`/`sigma` are of the log."""

    mean: float
    sigma: float = Positive


@column_kind("pareto")
class ParetoColumn(Distribution):
    """Pareto with shape `alpha` and minimum `scale`: heavy-tailed popularity, wealth."""

    alpha: float = Positive
    scale: float = Field(1.0, gt=0)


@column_kind("exponential")
class ExponentialColumn(Distribution):
    """Exponential with mean `scale`: durations, waiting times."""

    scale: float = Positive


@column_kind("gamma")
class GammaColumn(Distribution):
    shape: float = Positive
    scale: float = Field(1.0, gt=0)


@column_kind("beta")
class BetaColumn(Distribution):
    """Beta(a, b) on [0, 1]: rates and shares."""

    a: float = Positive
    b: float = Positive


@column_kind("weibull")
class WeibullColumn(Distribution):
    shape: float = Positive
    scale: float = Field(1.0, gt=0)


@column_kind("poisson")
class PoissonColumn(Distribution):
    """Poisson counts with mean `lam`."""

    lam: float = Field(ge=0)


@column_kind("zipf")
class ZipfColumn(Distribution):
    """Zipf ranks 1, 2, … with exponent `a` > 1: a few values very common, a long tail."""

    a: float = Field(gt=1)


@column_kind("uniform")
class UniformColumn(Distribution):
    """Uniform on [low, high) (or integers low..high inclusive): only when asked for by name."""

    low: float
    high: float
    integer: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> UniformColumn:
        if self.high <= self.low:
            raise ValueError(f"high ({self.high}) must be above low ({self.low})")
        if self.integer and math.ceil(self.low) > math.floor(self.high):
            raise ValueError(f"no integer lies between low ({self.low}) and high ({self.high})")
        return self

