"""How far observed statistics may stray from declared ones: a sampling term that shrinks with
the number of rows, plus a small floor.

Distributions — the largest gap between cumulative shares. With the values cut into fixed
bins, the gap D between the observed and the declared share of values below each bin edge is
at most the Kolmogorov–Smirnov statistic of the raw values (fewer points are compared), and
for data really drawn from the declared distribution P(√n·D > c) ≤ 2·exp(−2c²) whatever its
shape; for whole numbers (Poisson, Zipf, dates) the test is conservative. c = 2.2 makes that
about 1 in 8,000 for a correct column, so a report of dozens of checks passes reliably, while
a gap that does not shrink with n (a wrong parameter, a wrong shape, tampered values) fails as
soon as n is moderate. The floor of 0.5 percentage points is the difference a person would
notice in a histogram: it keeps a 100M-row column from failing on what the declared model
leaves out (NumPy's Zipf sampler for exponents near 1 differs from the exact law by ~0.3%).

Shares — category weights and null fractions. An observed share of n rows with declared
probability p has standard error √(p(1−p)/n); four of them (two-sided ~6 in 100,000 per
share) plus a floor of 0.1 percentage points. A declared share of exactly 0 or 1 (no nulls,
all nulls) has no tolerance at all: one null in a column declared without nulls is a defect.
"""

from __future__ import annotations

import math

GAP_Z = 2.2
GAP_FLOOR = 0.005
SHARE_Z = 4.0
SHARE_FLOOR = 0.001


def gap_tolerance(n: int) -> float:
    """The largest cumulative-share gap a correct column of n values may show.

    >>> round(gap_tolerance(10_000), 4), round(gap_tolerance(100_000_000), 4)
    (0.027, 0.0052)
    """
    return GAP_Z / math.sqrt(n) + GAP_FLOOR if n else 1.0


def share_tolerance(p: float, n: int) -> float:
    """How far an observed share of n rows may be from the declared p.

    >>> share_tolerance(0.0, 1_000), round(share_tolerance(0.1, 10_000), 4)
    (0.0, 0.013)
    """
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return SHARE_Z * math.sqrt(p * (1 - p) / n) + SHARE_FLOOR if n else 1.0


def mixture_tolerance(probabilities_and_counts: list[tuple[float, int]]) -> tuple[float, float]:
    """(expected share, tolerance) of rows drawn in groups, each with its own declared p.

    >>> mixture_tolerance([(0.0, 50), (0.0, 50)])
    (0.0, 0.0)
    """
    n = sum(count for _, count in probabilities_and_counts)
    if not n:
        return 0.0, 1.0
    expected = sum(p * count for p, count in probabilities_and_counts) / n
    variance = sum(p * (1 - p) * count for p, count in probabilities_and_counts) / n ** 2
    if variance == 0:
        return expected, 0.0
    return expected, SHARE_Z * math.sqrt(variance) + SHARE_FLOOR
