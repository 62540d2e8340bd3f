"""What a kind declares about its values, for validation to compare the data with: a `Law`
(P(Y <= x) and the mean, in closed form) for numbers, dates and times, or `Shares` (levels and
their weights) for categories. Each generator returns its own (`Generator.law` / `shares`).

The special functions here are plain Python (no SciPy). Each law mirrors exactly what its
generator draws (see `numeric.py`): Pareto is the classical form with minimum `scale`, Zipf
ranks start at 1, integer uniforms include both ends. The incomplete gamma and beta functions
are the series / continued fractions of Numerical Recipes (ch. 6.2, 6.4), accurate to ~1e-12,
far below what any sample can resolve.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pyarrow as pa

Cdf = Callable[[float], float]

EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Law:
    """A declared distribution of numbers (dates and times in storage units: days, ticks).

    >>> law = Law(cdf=lambda x: -math.expm1(-x / 2.0) if x > 0 else 0.0, mean=2.0)
    >>> round(law.cdf(2.0), 6), law.discrete
    (0.632121, False)
    """

    cdf: Cdf | None
    """P(Y <= x); None when there is no closed form (the reference sample alone decides, e.g.
    a constant, which has no spread to bin)."""
    discrete: bool = False
    """Whether Y takes whole numbers only."""
    mean: float | None = None
    describe: str | None = None
    """How the report names it; None: the kind and its parameters, e.g. `normal(mean=0, std=1)`."""


@dataclass(frozen=True)
class Shares:
    """Declared levels and their weights (normalised)."""

    describe: str
    levels: tuple
    weights: tuple[float, ...]

_EPS = 1e-14
_ITERATIONS = 500


def integer_uniform(low: int, high: int, describe: str | None = None) -> Law:
    """Whole numbers low..high, each equally likely (also dates and times in storage units)."""
    width = high - low + 1
    return Law(lambda k: min(max((math.floor(k) - low + 1) / width, 0.0), 1.0), True, (low + high) / 2, describe)


def phi(z: float) -> float:
    """The standard normal CDF."""
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def storage_of(arrow_type: pa.DataType) -> str:
    """number, date or timestamp[unit]: how values are stored (dates and times as whole numbers)."""
    if pa.types.is_date32(arrow_type):
        return "date"
    if pa.types.is_timestamp(arrow_type):
        return f"timestamp[{arrow_type.unit}]"
    return "number"


def shown_value(value: float, storage: str) -> str:
    """A stored value as a person reads it: a date, a time, or a number.

    >>> shown_value(19_723.0, "date"), shown_value(86_400_000.0, "timestamp[ms]"), shown_value(0.5, "number")
    ('2024-01-01', '1970-01-02 00:00:00', '0.5')
    """
    if storage == "date":
        return date.fromordinal(EPOCH.toordinal() + int(math.floor(value))).isoformat()
    if storage.startswith("timestamp"):
        per_second = {"s": 1, "ms": 1_000, "us": 1_000_000}[storage[10:-1]]
        moment = datetime(1970, 1, 1) + timedelta(seconds=value / per_second)
        return moment.isoformat(sep=" ", timespec="seconds")
    return f"{value:.6g}"


def gamma_p(a: float, x: float) -> float:
    """The regularized lower incomplete gamma function P(a, x).

    >>> round(gamma_p(1.0, 1.0), 12) == round(1 - math.exp(-1), 12)
    True
    """
    if x <= 0:
        return 0.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:  # the series converges fast here
        term = total = 1.0 / a
        denominator = a
        for _ in range(_ITERATIONS * 10):
            denominator += 1
            term *= x / denominator
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return min(1.0, total * math.exp(log_front))
    return max(0.0, 1.0 - _gamma_continued_fraction(a, x) * math.exp(log_front))


def _gamma_continued_fraction(a: float, x: float) -> float:
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, _ITERATIONS * 10):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        step = d * c
        h *= step
        if abs(step - 1) < _EPS:
            break
    return h


def beta_i(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b).

    >>> round(beta_i(2.0, 2.0, 0.5), 12)
    0.5
    """
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1 - x) / b


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (tiny if abs(d) < tiny else d)
    h = d
    for m in range(1, _ITERATIONS * 2):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1 + aa * d
            d = 1 / (tiny if abs(d) < tiny else d)
            c = 1 + aa / c
            c = tiny if abs(c) < tiny else c
            step = d * c
            h *= step
        if abs(step - 1) < _EPS:
            break
    return h


def poisson_cdf(k: int, lam: float) -> float:
    """P(Y <= k) for Y ~ Poisson(lam): Q(k + 1, lam), the upper regularized gamma."""
    if k < 0:
        return 0.0
    if lam == 0:
        return 1.0
    return 1.0 - gamma_p(k + 1, lam)


def zeta(a: float) -> float:
    """The Riemann zeta function for a > 1: a direct sum, then the Euler–Maclaurin tail."""
    return sum(j ** -a for j in range(1, 50)) + zipf_tail(50, a)


def zipf_tail(n: int, a: float) -> float:
    """sum of j**-a for j >= n (n >= 1), by Euler–Maclaurin from 50 on."""
    head = sum(j ** -a for j in range(n, 50)) if n < 50 else 0.0
    m = float(max(n, 50))
    tail = m ** (1 - a) / (a - 1) + m ** -a / 2 + a * m ** (-a - 1) / 12 - a * (a + 1) * (a + 2) * m ** (-a - 3) / 720
    return head + tail


def zipf_cdf(k: int, a: float) -> float:
    """P(Y <= k) for Zipf ranks 1, 2, … with exponent a."""
    if k < 1:
        return 0.0
    return max(0.0, 1.0 - zipf_tail(k + 1, a) / zeta(a))
