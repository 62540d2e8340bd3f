"""Statistical checks: each kind draws the distribution its parameters promise.

Fixed seeds and ~200K rows through the real path (spec → plan → blocks). Every tolerance is
derived from the sample size (standard errors, binomial standard deviations, the DKW bound on
the empirical CDF, a chi-square quantile), never tuned to pass; at these sizes a wrong
parameterisation (scale vs rate, sigma vs variance, Lomax vs Pareto) is far outside them.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from fabula.plan.blocks import generate_block
from fabula.plan import compile_plan
from fabula.providers.faker_pool import build_pool
from fabula.spec import build_spec

N = 200_000
SIGMAS = 5.0
"""Two-sided tolerance in standard errors: a false alarm about once in 1.7 million checks."""
ALPHA = 1e-6
"""False-alarm probability for whole-distribution checks (DKW, chi-square)."""


# -- drawing through the real path ---------------------------------------------------------------


def draw(columns: dict[str, Any], *, rows: int = N, seed: int = 2024, as_of: date | None = None,
         spec_as_of: str | None = None) -> pa.Table:
    """Every block of table `t` with these columns, concatenated."""
    header: dict[str, Any] = {"name": "stats", "seed": seed}
    if spec_as_of is not None:
        header["as_of"] = spec_as_of
    spec = build_spec({**header, "tables": {"t": {"rows": rows, "columns": columns}}})
    plan = compile_plan(spec, as_of=as_of)
    table = plan.table("t")
    batches = [generate_block(plan, table, block) for block in range(table.n_blocks)]
    return pa.Table.from_batches(batches, schema=table.schema)


def sample(column: dict[str, Any], **options: Any) -> np.ndarray:
    """One column `x` drawn on its own, as a numpy array."""
    return draw({"x": column}, **options).column("x").to_numpy()


# -- tolerances from the sample size -------------------------------------------------------------


def assert_mean(values: np.ndarray, expected: float, sd: float) -> None:
    """The sample mean is within SIGMAS standard errors of the expected mean."""
    error = SIGMAS * sd / math.sqrt(len(values))
    assert abs(values.mean() - expected) <= error, f"mean {values.mean():.6g}, expected {expected:.6g} ± {error:.3g}"


def assert_count(count: int, n: int, p: float, what: str = "count") -> None:
    """A Binomial(n, p) count is within SIGMAS standard deviations of n·p."""
    sd = math.sqrt(n * p * (1 - p))
    assert abs(count - n * p) <= SIGMAS * sd + 1e-9, f"{what}: {count} of {n}, expected {n * p:.1f} ± {SIGMAS * sd:.1f}"


def dkw_epsilon(n: int, alpha: float = ALPHA) -> float:
    """Dvoretzky–Kiefer–Wolfowitz: P(sup|F_n − F| > ε) ≤ 2·exp(−2nε²) = alpha."""
    return math.sqrt(math.log(2 / alpha) / (2 * n))


def ks_distance(values: np.ndarray, cdf: Callable[[np.ndarray], np.ndarray]) -> float:
    """sup |F_n − F|, the Kolmogorov–Smirnov statistic, computed exactly from the sorted sample."""
    ordered = np.sort(values)
    theory = cdf(ordered)
    n = len(ordered)
    above = np.arange(1, n + 1) / n - theory
    below = theory - np.arange(0, n) / n
    return float(max(above.max(), below.max()))


def assert_follows(values: np.ndarray, cdf: Callable[[np.ndarray], np.ndarray]) -> None:
    distance, limit = ks_distance(values, cdf), dkw_epsilon(len(values))
    assert distance <= limit, f"KS distance {distance:.5f} above the DKW bound {limit:.5f}"


def chi_square_limit(df: int, z: float = SIGMAS) -> float:
    """Upper quantile of χ²(df) at normal score z (Wilson–Hilferty, accurate for df ≥ 3)."""
    c = 2 / (9 * df)
    return df * (1 - c + z * math.sqrt(c)) ** 3


def assert_shares(counts: np.ndarray, probabilities: np.ndarray) -> None:
    """Observed counts fit the probabilities: a chi-square test, then each share on its own."""
    n = counts.sum()
    expected = n * probabilities
    statistic = float(((counts - expected) ** 2 / expected).sum())
    df = len(counts) - 1
    limit = chi_square_limit(df) if df >= 3 else {1: 26.34, 2: 30.13}[df]  # exact, same tail P(Z > 5)
    assert statistic <= limit, f"chi-square {statistic:.1f} above {limit:.1f} (df={df})"
    for index, (count, p) in enumerate(zip(counts, probabilities)):
        assert_count(int(count), int(n), float(p), what=f"level {index}")


# -- closed-form distribution functions (numpy and math only) ------------------------------------

_erf = np.frompyfunc(math.erf, 1, 1)


def normal_cdf(x, mean: float = 0.0, std: float = 1.0):
    z = (np.asarray(x, dtype=float) - mean) / (std * math.sqrt(2))
    return 0.5 * (1 + np.asarray(_erf(z), dtype=float))


def beta_cdf_integer(x, a: int, b: int):
    """Regularised incomplete beta for integer a, b: P(Binomial(a+b−1, x) ≥ a)."""
    m = a + b - 1
    x = np.asarray(x, dtype=float)
    return sum(math.comb(m, j) * x**j * (1 - x) ** (m - j) for j in range(a, m + 1))


CONTINUOUS = {
    # kind: (spec, cdf, mean, sd)
    "normal": ({"kind": "normal", "mean": 50, "std": 10},
               lambda x: normal_cdf(x, 50, 10), 50.0, 10.0),
    "lognormal": ({"kind": "lognormal", "mean": 3, "sigma": 0.5},
                  lambda x: normal_cdf(np.log(x), 3, 0.5),
                  math.exp(3 + 0.125), math.sqrt((math.exp(0.25) - 1) * math.exp(6 + 0.25))),
    "exponential": ({"kind": "exponential", "scale": 4},
                    lambda x: 1 - np.exp(-x / 4), 4.0, 4.0),
    "gamma": ({"kind": "gamma", "shape": 2, "scale": 3},  # Erlang(2): closed form
              lambda x: 1 - np.exp(-x / 3) * (1 + x / 3), 6.0, math.sqrt(2) * 3),
    "beta": ({"kind": "beta", "a": 2, "b": 5},
             lambda x: beta_cdf_integer(x, 2, 5), 2 / 7, math.sqrt(10 / (49 * 8))),
    "weibull": ({"kind": "weibull", "shape": 1.5, "scale": 2},
                lambda x: 1 - np.exp(-((x / 2) ** 1.5)),
                2 * math.gamma(1 + 1 / 1.5), 2 * math.sqrt(math.gamma(1 + 2 / 1.5) - math.gamma(1 + 1 / 1.5) ** 2)),
    "pareto": ({"kind": "pareto", "alpha": 4.5, "scale": 10},  # classical Pareto: minimum = scale
               lambda x: 1 - (10 / x) ** 4.5,
               4.5 * 10 / 3.5, 10 / 3.5 * math.sqrt(4.5 / 2.5)),
    "uniform": ({"kind": "uniform", "low": -5, "high": 15},
                lambda x: (x + 5) / 20, 5.0, 20 / math.sqrt(12)),
}


@pytest.mark.parametrize("kind", sorted(CONTINUOUS))
def test_continuous_distribution_matches_its_cdf(kind):
    """The whole empirical CDF stays within the DKW band around the theoretical CDF."""
    column, cdf, _, _ = CONTINUOUS[kind]
    assert_follows(sample(column), cdf)


@pytest.mark.parametrize("kind", sorted(CONTINUOUS))
def test_continuous_distribution_mean(kind):
    """The sample mean is the theoretical mean within 5 standard errors."""
    column, _, mean, sd = CONTINUOUS[kind]
    assert_mean(sample(column), mean, sd)


SCIPY_EQUIVALENTS = {
    "normal": ("norm", dict(loc=50, scale=10)),
    "lognormal": ("lognorm", dict(s=0.5, scale=math.exp(3))),
    "exponential": ("expon", dict(scale=4)),
    "gamma": ("gamma", dict(a=2, scale=3)),
    "beta": ("beta", dict(a=2, b=5)),
    "weibull": ("weibull_min", dict(c=1.5, scale=2)),
    "pareto": ("pareto", dict(b=4.5, scale=10)),
    "uniform": ("uniform", dict(loc=-5, scale=20)),
}


@pytest.mark.parametrize("kind", sorted(CONTINUOUS))
def test_continuous_distribution_scipy_ks(kind):
    """Cross-check with scipy: the KS test accepts the sample, and our closed-form CDFs are scipy's."""
    stats = pytest.importorskip("scipy.stats")
    column, cdf, mean, sd = CONTINUOUS[kind]
    name, parameters = SCIPY_EQUIVALENTS[kind]
    distribution = getattr(stats, name)(**parameters)
    probes = distribution.ppf(np.linspace(0.01, 0.99, 25))
    np.testing.assert_allclose(cdf(probes), distribution.cdf(probes), atol=1e-9)
    assert (distribution.mean(), distribution.std()) == pytest.approx((mean, sd), rel=1e-9)
    assert stats.kstest(sample(column), distribution.cdf).pvalue > ALPHA


@pytest.mark.parametrize("kind, column, mean, sd", [
    ("normal", {"kind": "normal", "mean": 50, "std": 10}, 50, 10),
    ("lognormal", {"kind": "lognormal", "mean": 3, "sigma": 0.5}, 3, 0.5),  # of log(x)
])
def test_normal_location_and_scale(kind, column, mean, sd):
    """normal(mean, std) and log of lognormal(mean, sigma): mean and sd within 5 standard errors."""
    values = sample(column)
    values = np.log(values) if kind == "lognormal" else values
    assert_mean(values, mean, sd)
    # a normal sample's standard deviation has standard error σ/√(2n)
    assert abs(values.std() - sd) <= SIGMAS * sd / math.sqrt(2 * N)


def test_pareto_minimum_is_scale():
    """Pareto is the classical form: nothing below `scale`, and the minimum close to it."""
    values = sample({"kind": "pareto", "alpha": 4.5, "scale": 10})
    # P(min > scale·(1+t)) = (1+t)^(−αn): with t = 20/(αn) that is below e^-19
    assert 10 <= values.min() <= 10 * (1 + 20 / (4.5 * N))


# -- discrete distributions ----------------------------------------------------------------------


def test_poisson_frequencies_and_moments():
    """Poisson(λ=3): each count's share matches the pmf, and mean ≈ variance ≈ λ."""
    lam = 3.0
    values = sample({"kind": "poisson", "lam": lam})
    assert values.dtype == np.int64 and values.min() >= 0
    ks = np.arange(11)
    pmf = np.array([math.exp(-lam) * lam**k / math.factorial(k) for k in ks])
    counts = np.bincount(values, minlength=len(ks))
    tail = counts[len(ks):].sum()
    assert_shares(np.append(counts[:len(ks)], tail), np.append(pmf, 1 - pmf.sum()))
    assert_mean(values, lam, math.sqrt(lam))
    variance_se = math.sqrt((lam + 2 * lam**2) / N)  # var(s²) ≈ (μ4 − σ⁴)/n, μ4 = λ(1 + 3λ)
    assert abs(values.var() - lam) <= SIGMAS * variance_se


def test_zipf_rank_shares():
    """Zipf(a=2): P(k) = k⁻²/ζ(2) with ζ(2) = π²/6, for the head ranks and the tail."""
    values = sample({"kind": "zipf", "a": 2})
    assert values.dtype == np.int64 and values.min() == 1
    head = np.arange(1, 6)
    pmf = head**-2.0 / (math.pi**2 / 6)
    counts = np.array([(values == k).sum() for k in head])
    assert_shares(np.append(counts, N - counts.sum()), np.append(pmf, 1 - pmf.sum()))


def test_integer_uniform_covers_both_ends_evenly():
    """`integer: true` draws low..high inclusive, each value equally often."""
    values = sample({"kind": "uniform", "low": 1, "high": 6, "integer": True})
    assert values.dtype == np.int64
    counts = np.bincount(values, minlength=7)
    assert counts[0] == 0 and len(counts) == 7
    assert_shares(counts[1:], np.full(6, 1 / 6))


# -- categoricals and booleans -------------------------------------------------------------------


def test_categorical_shares_follow_normalised_weights():
    """Weights need not sum to 1: each value's share is weight / total (chi-square and per share)."""
    weights = {"Free": 5, "Pro": 3, "Enterprise": 1, "Trial": 0.5}
    column = draw({"x": {"kind": "categorical", "values": weights}}).column("x")
    counted = {row["values"]: row["counts"] for row in pc.value_counts(column).to_pylist()}
    assert set(counted) == set(weights)
    total = sum(weights.values())
    assert_shares(np.array([counted[key] for key in weights]),
                  np.array([weight / total for weight in weights.values()]))


def test_categorical_list_means_equal_weights():
    """A list of values is drawn uniformly, and non-string levels keep their type."""
    values = sample({"kind": "categorical", "values": [10, 20, 30, 40]})
    assert values.dtype == np.int64
    assert_shares(np.array([(values == v).sum() for v in (10, 20, 30, 40)]), np.full(4, 0.25))


@pytest.mark.parametrize("p", [0.0, 0.03, 0.5, 0.97, 1.0])
def test_boolean_probability(p):
    """`p` is the share of True, exact at 0 and 1."""
    values = draw({"x": {"kind": "boolean", "p": p}}).column("x")
    trues = pc.sum(values).as_py() or 0
    if p in (0.0, 1.0):
        assert trues == N * p
    else:
        assert_count(trues, N, p, "True")


# -- dates and timestamps ------------------------------------------------------------------------


def day_numbers(column: pa.ChunkedArray) -> np.ndarray:
    return column.cast(pa.int32()).to_numpy()


def days_since_epoch(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def test_date_uniform_over_inclusive_bounds():
    """Dates fall on every day from start to end inclusive, each day equally often."""
    days = day_numbers(draw({"x": {"kind": "date", "start": "2024-01-01", "end": "2024-01-31"}}).column("x"))
    first, last = days_since_epoch(date(2024, 1, 1)), days_since_epoch(date(2024, 1, 31))
    assert days.min() == first and days.max() == last
    assert_shares(np.bincount(days - first, minlength=31), np.full(31, 1 / 31))


@pytest.mark.parametrize("unit", ["s", "ms", "us"])
def test_timestamp_uniform_from_first_to_last_instant(unit):
    """Timestamps span the start of `start` to the end of `end`, uniformly, reaching both ends."""
    column = draw({"x": {"kind": "timestamp", "start": "2024-03-01", "end": "2024-03-02", "unit": unit}}).column("x")
    assert column.type == pa.timestamp(unit)
    ticks = column.cast(pa.int64()).to_numpy()
    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000}[unit]
    low = days_since_epoch(date(2024, 3, 1)) * 86_400 * per_second
    span = 2 * 86_400 * per_second  # two whole days
    assert low <= ticks.min() and ticks.max() <= low + span - 1
    # both ends reached: P(min − low > k·span/n) ≈ e^−k, so k = 20 fails once in 500 million
    assert ticks.min() - low <= 20 * span / N
    assert low + span - 1 - ticks.max() <= 20 * span / N
    assert_follows((ticks - low) / span, lambda u: u)


def test_relative_dates_resolve_against_explicit_as_of():
    """`-6mo` .. `today` mean as_of minus six calendar months .. as_of, never the wall clock."""
    column = {"kind": "date", "start": "-6mo", "end": "today"}
    days = day_numbers(draw({"x": column}, as_of=date(2024, 8, 31)).column("x"))
    # Aug 31 − 6 months is Feb 29 (clamped to the month's length, 2024 being a leap year)
    assert days.min() == days_since_epoch(date(2024, 2, 29))
    assert days.max() == days_since_epoch(date(2024, 8, 31))


def test_compile_as_of_overrides_the_spec_as_of():
    """An `as_of` given to compile_plan wins over the spec's; the spec's wins over today."""
    column = {"x": {"kind": "date", "start": "-1w", "end": "today"}}
    from_spec = day_numbers(draw(column, rows=20_000, spec_as_of="2023-01-10").column("x"))
    pinned = day_numbers(draw(column, rows=20_000, spec_as_of="2023-01-10", as_of=date(2020, 5, 5)).column("x"))
    assert (from_spec.min(), from_spec.max()) == (days_since_epoch(date(2023, 1, 3)), days_since_epoch(date(2023, 1, 10)))
    assert (pinned.min(), pinned.max()) == (days_since_epoch(date(2020, 4, 28)), days_since_epoch(date(2020, 5, 5)))


def test_relative_timestamp_bounds():
    """A timestamp with `-30d` .. `today` ends at the last instant of as_of."""
    ticks = draw({"x": {"kind": "timestamp", "start": "-30d", "end": "today", "unit": "s"}},
                 as_of=date(2024, 1, 31)).column("x").cast(pa.int64()).to_numpy()
    low = days_since_epoch(date(2024, 1, 1)) * 86_400
    high = days_since_epoch(date(2024, 2, 1)) * 86_400 - 1
    assert low <= ticks.min() <= low + 20 * (high - low) / N
    assert high - 20 * (high - low) / N <= ticks.max() <= high


# -- conditional columns -------------------------------------------------------------------------

TIER_WEIGHTS = {"Free": 6, "Pro": 3, "Enterprise": 1}
ARR_CASES = {"Enterprise": {"mean": 11, "sigma": 0.5}, "Pro": {"mean": 8, "sigma": 0.7}}


def test_conditional_parameters_per_case():
    """`arr` lognormal by tier: per tier, log(arr) has the case's mean and sigma; Free is 0."""
    table = draw({
        "tier": {"kind": "categorical", "values": TIER_WEIGHTS},
        "arr": {"kind": "lognormal", "mean": 0, "sigma": 1, "by": "tier",
                "cases": {**ARR_CASES, "Free": {"kind": "constant", "value": 0}}},
    })
    tiers = np.array(table.column("tier").to_pylist())
    arr = table.column("arr").to_numpy()
    assert (arr[tiers == "Free"] == 0).all()
    for tier, case in ARR_CASES.items():
        logs = np.log(arr[tiers == tier])
        assert_mean(logs, case["mean"], case["sigma"])
        # sd of a normal sample's standard deviation ≈ σ/√(2n)
        assert abs(logs.std() - case["sigma"]) <= SIGMAS * case["sigma"] / math.sqrt(2 * len(logs))
    total = sum(TIER_WEIGHTS.values())
    for tier, weight in TIER_WEIGHTS.items():
        assert_count(int((tiers == tier).sum()), N, weight / total, tier)


def test_conditional_cases_inherit_shared_parameters_and_default():
    """A case overrides only what it names; `default` covers values without a case."""
    table = draw({
        "tier": {"kind": "categorical", "values": TIER_WEIGHTS},
        "score": {"kind": "normal", "mean": 100, "std": 5, "by": "tier",
                  "cases": {"Enterprise": {"mean": 200}}, "default": {"std": 20}},
    })
    tiers = np.array(table.column("tier").to_pylist())
    score = table.column("score").to_numpy()
    enterprise, others = score[tiers == "Enterprise"], score[tiers != "Enterprise"]
    assert_mean(enterprise, 200, 5)
    assert abs(enterprise.std() - 5) <= SIGMAS * 5 / math.sqrt(2 * len(enterprise))
    assert_mean(others, 100, 20)
    assert abs(others.std() - 20) <= SIGMAS * 20 / math.sqrt(2 * len(others))


def test_conditional_by_boolean():
    """Cases keyed by True/False follow a boolean column."""
    table = draw({
        "churned": {"kind": "boolean", "p": 0.2},
        "days": {"kind": "exponential", "scale": 30, "by": "churned",
                 "cases": {True: {"scale": 5}, False: {}}},
    })
    churned = table.column("churned").to_numpy(zero_copy_only=False)
    days = table.column("days").to_numpy()
    assert_mean(days[churned], 5, 5)
    assert_mean(days[~churned], 30, 30)


# -- modifiers -----------------------------------------------------------------------------------


def test_clip_then_round():
    """Values are clipped to [min, max] (piling up at the bounds) and then rounded."""
    values = sample({"kind": "normal", "mean": 0, "std": 1, "clip": [-1, 2], "round": 2})
    assert values.min() == -1.0 and values.max() == 2.0
    assert np.array_equal(values, np.round(values, 2))
    # Rounding to 2 decimals sends [-1, -0.995) to -1.00 and [1.995, 2] to 2.00.
    assert_count(int((values == -1.0).sum()), N, float(normal_cdf(-0.995)), "rows at -1")
    assert_count(int((values == 2.0).sum()), N, 1 - float(normal_cdf(1.995)), "rows at 2")
    inside = values[(values > -1) & (values < 2)]
    assert len(np.unique(inside)) <= 299  # only two-decimal steps strictly between the bounds


def test_clip_one_side_keeps_the_other_open():
    """`clip: {min: 0}` removes negatives and leaves the upper tail alone."""
    values = sample({"kind": "normal", "mean": 1, "std": 2, "clip": {"min": 0}})
    assert values.min() == 0.0
    assert_count(int((values == 0).sum()), N, float(normal_cdf(0, 1, 2)), "rows at 0")
    upper = values[values > 1]
    assert_follows(upper, lambda x: (normal_cdf(x, 1, 2) - 0.5) / 0.5)


def test_clip_on_dates():
    """A date clip bound is a date: later dates pile up on it."""
    days = day_numbers(draw({"x": {"kind": "date", "start": "2024-01-01", "end": "2024-12-31",
                                   "clip": {"max": date(2024, 6, 30)}}}).column("x"))
    bound = days_since_epoch(date(2024, 6, 30))
    assert days.max() == bound
    assert_count(int((days == bound).sum()), N, (366 - 181) / 366, "rows on the bound")  # Jun 30..Dec 31


def poisson_cdf(k: int, lam: float) -> float:
    return sum(math.exp(-lam) * lam**j / math.factorial(j) for j in range(k + 1))


def test_fractional_clip_on_integers():
    """On integer columns a fractional bound clips to the integers inside [min, max]."""
    values = sample({"kind": "poisson", "lam": 3, "clip": [1.5, 4.5]})
    assert values.min() == 2 and values.max() == 4
    assert_count(int((values == 2).sum()), N, poisson_cdf(2, 3), "rows at 2")
    assert_count(int((values == 4).sum()), N, 1 - poisson_cdf(3, 3), "rows at 4")


def test_fractional_clip_on_integer_conditional_column():
    """The same holds when the clip sits on a conditional column (applied after the cases)."""
    table = draw({
        "tier": {"kind": "categorical", "values": TIER_WEIGHTS},
        "visits": {"kind": "poisson", "lam": 3, "clip": [0.5, 10.5], "by": "tier",
                   "cases": {"Free": {}, "Pro": {"lam": 8}, "Enterprise": {"lam": 40}}},
    })
    visits = table.column("visits").to_numpy()
    assert table.column("visits").type == pa.int64()
    assert visits.min() == 1 and visits.max() == 10


def test_round_on_conditional_column():
    """Modifiers on a conditional column apply to every case's values."""
    table = draw({
        "tier": {"kind": "categorical", "values": TIER_WEIGHTS},
        "price": {"kind": "lognormal", "mean": 3, "sigma": 1, "round": 1, "clip": {"max": 50},
                  "by": "tier", "cases": {"Free": {"mean": 1}, "Pro": {}, "Enterprise": {"mean": 5}}},
    })
    price = table.column("price").to_numpy()
    assert price.max() == 50.0
    assert np.array_equal(price, np.round(price, 1))


# -- text ----------------------------------------------------------------------------------------


def test_faker_draws_pool_values_uniformly(tmp_path, monkeypatch):
    """A Faker column uses only its pool's values, each about equally often (chi-square)."""
    monkeypatch.setenv("FABULA_CACHE_DIR", str(tmp_path))
    pool = build_pool("city", locale="en_US", size=200).to_pylist()
    assert len(set(pool)) == 200
    column = draw({"x": {"kind": "faker", "provider": "city", "pool": 200}}).column("x")
    counted = {row["values"]: row["counts"] for row in pc.value_counts(column).to_pylist()}
    assert set(counted) <= set(pool)
    assert_shares(np.array([counted.get(value, 0) for value in pool]), np.full(200, 1 / 200))


def test_uuid_unique_and_version_4_shaped():
    """One million UUIDs: all distinct, all RFC 4122 version 4, variant 10xx, lower-case hex."""
    table = draw({"x": {"kind": "uuid"}, "y": {"kind": "uuid"}}, rows=1_000_000)
    column = table.column("x")
    # keyed by the column's name too: a second uuid column shares no value with the first
    assert pc.count_distinct(pa.chunked_array(column.chunks + table.column("y").chunks)).as_py() == 2_000_000
    assert pc.count_distinct(column).as_py() == 1_000_000
    shaped = pc.match_substring_regex(
        column, r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    assert pc.all(shaped).as_py()
    # the first hex digit is random: each of the 16 about equally often
    first = pc.utf8_slice_codeunits(column, 0, 1)
    counted = {row["values"]: row["counts"] for row in pc.value_counts(first).to_pylist()}
    assert_shares(np.array([counted.get(digit, 0) for digit in "0123456789abcdef"]), np.full(16, 1 / 16))


def test_id_format_exact_strings():
    """`CUST-{:05d}` gives exactly Python's formatting of the row number, also past 5 digits."""
    values = draw({"x": {"kind": "id", "format": "CUST-{:05d}"}}).column("x").to_pylist()
    assert values == [f"CUST-{i:05d}" for i in range(N)]


@pytest.mark.parametrize("pattern, start, python_pattern", [
    ("INV-{:08d}-EU", 1, "INV-{:08d}-EU"),
    ("{}", 42, "{}"),
    ("{:d}", 7, "{:d}"),
    ("#{:3d}", 0, "#{:03d}"),  # documented: a bare width pads with zeros too (Python pads with spaces)
])
def test_id_other_patterns(pattern, start, python_pattern):
    """Prefix, suffix, no padding and a start offset give exactly the documented strings."""
    values = draw({"x": {"kind": "id", "format": pattern, "start": start}}, rows=1_500).column("x").to_pylist()
    assert values == [python_pattern.format(start + i) for i in range(1_500)]


def test_sequence_start_and_step():
    """A sequence is start + step × row id, exactly, negative steps too."""
    values = sample({"kind": "sequence", "start": 1000, "step": -7})
    assert np.array_equal(values, 1000 - 7 * np.arange(N))
