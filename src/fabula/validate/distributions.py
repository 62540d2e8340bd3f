"""Declared distributions in closed form: P(Y <= x) and the mean, for every numeric kind fabula
draws (NumPy only; no SciPy).

Each function mirrors exactly what the generator draws (see `generators/numeric.py`): Pareto is
the classical form with minimum `scale`, Zipf ranks start at 1, integer uniforms include both
ends. The incomplete gamma and beta functions are the series / continued fractions of Numerical
Recipes (ch. 6.2, 6.4), accurate to ~1e-12, far below what any sample can resolve.
"""

from __future__ import annotations

import math
from typing import Callable

Cdf = Callable[[float], float]

_EPS = 1e-14
_ITERATIONS = 500


def cdf_and_mean(spec) -> tuple[Cdf, bool, float | None] | None:
    """(P(Y <= x), whether Y takes whole numbers only, E[Y] or None) for a column spec's kind,
    or None when the kind has no closed form here.

    >>> cdf, discrete, mean = cdf_and_mean(type("S", (), {"kind": "exponential", "scale": 2.0})())
    >>> round(cdf(2.0), 6), discrete, mean
    (0.632121, False, 2.0)
    """
    kind = spec.kind
    if kind == "normal":
        mu, sd = spec.mean, spec.std
        return (lambda x: _phi((x - mu) / sd)), False, mu
    if kind == "lognormal":
        mu, sigma = spec.mean, spec.sigma
        return (lambda x: _phi((math.log(x) - mu) / sigma) if x > 0 else 0.0), False, math.exp(mu + sigma ** 2 / 2)
    if kind == "exponential":
        scale = spec.scale
        return (lambda x: -math.expm1(-x / scale) if x > 0 else 0.0), False, scale
    if kind == "gamma":
        shape, scale = spec.shape, spec.scale
        return (lambda x: gamma_p(shape, x / scale) if x > 0 else 0.0), False, shape * scale
    if kind == "beta":
        a, b = spec.a, spec.b
        return (lambda x: beta_i(a, b, min(max(x, 0.0), 1.0))), False, a / (a + b)
    if kind == "weibull":
        shape, scale = spec.shape, spec.scale
        return ((lambda x: -math.expm1(-((x / scale) ** shape)) if x > 0 else 0.0), False,
                scale * math.gamma(1 + 1 / shape))
    if kind == "pareto":
        alpha, scale = spec.alpha, spec.scale
        mean = alpha * scale / (alpha - 1) if alpha > 1 else None
        return (lambda x: 1.0 - (scale / x) ** alpha if x > scale else 0.0), False, mean
    if kind == "poisson":
        lam = spec.lam
        return (lambda k: poisson_cdf(math.floor(k), lam)), True, lam
    if kind == "zipf":
        a = spec.a
        mean = zeta(a - 1) / zeta(a) if a > 2 else None
        return (lambda k: zipf_cdf(math.floor(k), a)), True, mean
    if kind == "uniform":
        if spec.integer:
            return integer_uniform(math.ceil(spec.low), math.floor(spec.high))
        low, high = spec.low, spec.high
        return (lambda x: min(max((x - low) / (high - low), 0.0), 1.0)), False, (low + high) / 2
    return None


def integer_uniform(low: int, high: int) -> tuple[Cdf, bool, float]:
    """Whole numbers low..high, each equally likely (also dates and times in storage units)."""
    width = high - low + 1
    return (lambda k: min(max((math.floor(k) - low + 1) / width, 0.0), 1.0)), True, (low + high) / 2


def _phi(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


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
