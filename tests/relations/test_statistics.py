"""The shop's declared distributions survive into the Parquet files: weighted and skewed parent
choice, per-tier child counts, parameters conditioned on a parent's column, a chain of
conditional columns cut by bins, and lags.

One fixed seed. Every bound is derived from the sample size (binomial or normal standard
errors, 5 sigma, or the spread of the same statistic over samples simulated under the declared
model), and every test also checks that a plausible mistake (unweighted picks, uniform picks,
one rate for all tiers, …) falls outside its bound: each test can fail.
"""

from __future__ import annotations

import math

import numpy as np

from relations.shop import (
    AMOUNT_LOG_MEAN,
    AMOUNT_LOG_SIGMA,
    CSAT_BY_BIN,
    FIRST_RESPONSE_HOURS,
    HOT,
    HOT_SHARE,
    HOURS_BY_PRIORITY,
    ITEMS_PER_ORDER,
    ORDERS_PER_TIER,
    PRIORITY_BY_TIER,
    PRODUCT_ZIPF_A,
    SHIP_LAG_DAYS,
    TICKET_WEIGHTS,
    scalar,
)

SIGMAS = 5.0
"""Bounds are ±5 standard errors: a correct generator fails about once in 1.7 million checks."""


def binomial_bounds(n: int, p: float) -> tuple[float, float]:
    sd = math.sqrt(n * p * (1 - p))
    return n * p - SIGMAS * sd, n * p + SIGMAS * sd


def mean_bounds(mean: float, sd: float, n: int) -> tuple[float, float]:
    return mean - SIGMAS * sd / math.sqrt(n), mean + SIGMAS * sd / math.sqrt(n)


def check(observed: float, bounds: tuple[float, float], *, wrong: dict[str, float]) -> None:
    """`observed` lies within `bounds`, and each named mistake's expectation does not."""
    low, high = bounds
    assert low <= observed <= high, f"{observed} outside [{low}, {high}]"
    for mistake, value in wrong.items():
        assert not low <= value <= high, f"the bound [{low}, {high}] cannot tell {mistake} ({value}) apart"


def simulated_bounds(statistic, probabilities: np.ndarray, n: int, *, draws: int = 300) -> tuple[float, float]:
    """Mean ± 5 sd of `statistic(counts)` over multinomial samples of n rows under the declared
    model (test-side randomness, fixed seed)."""
    rng = np.random.default_rng(12345)
    values = np.array([statistic(rng.multinomial(n, probabilities)) for _ in range(draws)])
    return values.mean() - SIGMAS * values.std(), values.mean() + SIGMAS * values.std()


def counts_per_parent(db, child: str, reference: str, parent: str, key: str) -> np.ndarray:
    """How many child rows point at each parent row (zeros included)."""
    rows = db.execute(f"""
        SELECT count(c.{reference}) FROM {parent} p LEFT JOIN {child} c ON c.{reference} = p.{key}
        GROUP BY p.{key}""").fetchall()
    return np.array([n for (n,) in rows], dtype=np.int64)


def tier_sizes(db) -> dict[str, int]:
    return dict(db.execute("SELECT tier, count(*) FROM customers GROUP BY tier").fetchall())


# -- which parent: weighted ---------------------------------------------------------------------------


def test_weighted_reference_shares_follow_weight_times_members(shop_db):
    """P(tier) = w·n_tier / Σ w·n over the parents as generated: per-parent weights."""
    sizes = tier_sizes(shop_db)
    total_weight = sum(TICKET_WEIGHTS[tier] * n for tier, n in sizes.items())
    tickets = scalar(shop_db, "SELECT count(*) FROM tickets")
    observed = dict(shop_db.execute(
        "SELECT p.tier, count(*) FROM tickets t JOIN customers p USING (customer_id) GROUP BY p.tier").fetchall())
    for tier, n in sizes.items():
        expected = TICKET_WEIGHTS[tier] * n / total_weight
        unweighted = tickets * n / sum(sizes.values())
        check(observed[tier], binomial_bounds(tickets, expected), wrong={"unweighted picks": unweighted})


def test_weighted_reference_is_uniform_within_a_tier(shop_db):
    """Within a tier every parent is equally likely: the per-parent counts' chi-square against
    the tier mean stays near its degrees of freedom (and a skew inside the tier would not)."""
    rows = shop_db.execute("""
        SELECT p.tier, count(t.customer_id) FROM customers p LEFT JOIN tickets t USING (customer_id)
        GROUP BY p.customer_id, p.tier""").fetchall()
    for tier in TICKET_WEIGHTS:
        counts = np.array([n for t, n in rows if t == tier], dtype=np.float64)
        k, mean = len(counts), counts.mean()
        chi_square = ((counts - mean) ** 2 / mean).sum()
        dof = k - 1
        skewed = np.sort(np.random.default_rng(1).zipf(1.5, k).astype(np.float64))  # a mistake's shape
        skewed *= counts.sum() / skewed.sum()
        check(chi_square, (dof - SIGMAS * math.sqrt(2 * dof), dof + SIGMAS * math.sqrt(2 * dof)),
              wrong={"a skew within the tier": ((skewed - mean) ** 2 / mean).sum()})


def test_enterprise_customer_is_five_times_as_likely_as_free(shop_db):
    """Tickets per Enterprise customer / tickets per Free customer ≈ 5 (delta-method bound)."""
    sizes = tier_sizes(shop_db)
    tickets = scalar(shop_db, "SELECT count(*) FROM tickets")
    observed = dict(shop_db.execute(
        "SELECT p.tier, count(*) FROM tickets t JOIN customers p USING (customer_id) GROUP BY p.tier").fetchall())
    ratio = (observed["Enterprise"] / sizes["Enterprise"]) / (observed["Free"] / sizes["Free"])
    target = TICKET_WEIGHTS["Enterprise"] / TICKET_WEIGHTS["Free"]
    relative_sd = math.sqrt(1 / observed["Enterprise"] + 1 / observed["Free"])
    check(ratio, (target * (1 - SIGMAS * relative_sd), target * (1 + SIGMAS * relative_sd)),
          wrong={"weights ignored": 1.0, "weights 2:1": 2.0})
    assert tickets == sum(observed.values())


# -- which parent: skewed -----------------------------------------------------------------------------


def zipf_probabilities(a: float, count: int) -> np.ndarray:
    """P(rank r) of the declared Zipf pick: the continuous power law x^-a on [1, count + 1)
    cut into unit steps (the exact law the generator inverts)."""
    edges = np.arange(1, count + 2, dtype=np.float64)
    if a == 1.0:
        return np.diff(np.log(edges) / math.log(count + 1))
    cdf = (edges ** (1 - a) - 1) / ((count + 1) ** (1 - a) - 1)
    return np.diff(cdf)


def rank_slope(counts: np.ndarray, top: int = 40) -> float:
    """Slope of log(frequency) on log(rank + 1.5) over the `top` most frequent values."""
    ordered = np.sort(counts)[::-1][:top].astype(np.float64)
    ranks = np.arange(top, dtype=np.float64)
    return float(np.polyfit(np.log(ranks + 1.5), np.log(np.maximum(ordered, 0.5)), 1)[0])


def uniform_sample(n: int, parents: int) -> np.ndarray:
    """Counts per parent had the pick been uniform (a mistake to tell apart)."""
    return np.random.default_rng(0).multinomial(n, np.full(parents, 1 / parents))


def top_share(counts: np.ndarray, fraction: float) -> float:
    ordered = np.sort(counts)[::-1]
    return ordered[: max(1, round(fraction * len(counts)))].sum() / counts.sum()


def test_zipf_reference_rank_frequency_slope(shop_db):
    """order_items.product_id (pick: zipf, a = 1.2): the rank-frequency slope of the products
    matches the declared law's, and neither a = 1.0, a = 1.4 nor a uniform pick would."""
    counts = counts_per_parent(shop_db, "order_items", "product_id", "products", "product_id")
    items = int(counts.sum())
    model = zipf_probabilities(PRODUCT_ZIPF_A, len(counts))
    bounds = simulated_bounds(rank_slope, model, items)
    wrong = {f"a = {a}": float(np.mean([rank_slope(np.random.default_rng(seed).multinomial(
                 items, zipf_probabilities(a, len(counts)))) for seed in range(20)])) for a in (1.0, 1.4)}
    wrong["uniform"] = rank_slope(uniform_sample(items, len(counts)))
    check(rank_slope(counts), bounds, wrong=wrong)


def test_zipf_reference_top_decile_share(shop_db):
    """The 10% most-picked products take the declared law's share of the items."""
    counts = counts_per_parent(shop_db, "order_items", "product_id", "products", "product_id")
    model = zipf_probabilities(PRODUCT_ZIPF_A, len(counts))
    check(top_share(counts, 0.1), simulated_bounds(lambda c: top_share(c, 0.1), model, int(counts.sum())),
          wrong={"uniform": 0.1, "a = 1.0": top_share(zipf_probabilities(1.0, len(counts)), 0.1),
                 "a = 1.4": top_share(zipf_probabilities(1.4, len(counts)), 0.1)})


def hotspot_probabilities(count: int) -> np.ndarray:
    hot = max(1, round(HOT * count))
    return np.concatenate([np.full(hot, HOT_SHARE / hot), np.full(count - hot, (1 - HOT_SHARE) / (count - hot))])


def test_hotspot_reference_hot_parents_get_their_share(shop_db):
    """tickets.order_id (hot 20%, share 80%): the busiest 20% of orders take ~80% of tickets
    (the sorting's own bias is in the simulated bound), and the rest are mostly never picked."""
    counts = counts_per_parent(shop_db, "tickets", "order_id", "orders", "order_id")
    tickets = int(counts.sum())
    model = hotspot_probabilities(len(counts))
    check(top_share(counts, HOT), simulated_bounds(lambda c: top_share(c, HOT), model, tickets),
          wrong={"uniform": top_share(uniform_sample(tickets, len(counts)), HOT),
                 "share 70%": 0.70, "share 90%": 0.90})
    never = float(np.mean(counts == 0))
    uniform_never = math.exp(-tickets / len(counts))
    check(never, simulated_bounds(lambda c: np.mean(c == 0), model, tickets), wrong={"uniform": uniform_never})


# -- children per parent ----------------------------------------------------------------------------


def test_orders_per_customer_poisson_mean_by_tier(shop_db):
    rows = shop_db.execute(
        "SELECT tier, avg(n_orders), var_samp(n_orders), count(*) FROM customers GROUP BY tier").fetchall()
    overall = scalar(shop_db, "SELECT avg(n_orders) FROM customers")
    for tier, mean, variance, n in rows:
        lam = ORDERS_PER_TIER[tier]
        check(mean, mean_bounds(lam, math.sqrt(lam), n),
              wrong={f"one rate ({overall:.2f}) for all tiers": overall} if abs(overall - lam) > 0.5 else {})
        # Poisson: variance equals the mean (sd of a sample variance ≈ sqrt(2λ² + λ) / sqrt(n))
        assert abs(variance - lam) <= SIGMAS * math.sqrt((2 * lam ** 2 + lam) / n)


def test_items_per_order_poisson_mean(shop_db):
    mean, n, zero = shop_db.execute("SELECT avg(n_items), count(*), avg((n_items = 0)::INT) FROM orders").fetchone()
    check(mean, mean_bounds(ITEMS_PER_ORDER, math.sqrt(ITEMS_PER_ORDER), n), wrong={"lam 2.3": 2.3, "lam 1.7": 1.7})
    p0 = math.exp(-ITEMS_PER_ORDER)
    check(zero * n, binomial_bounds(n, p0), wrong={"never zero": 0.0})


# -- parameters conditioned on the parent ------------------------------------------------------------


def test_lognormal_parameters_by_parent_tier(shop_db):
    """orders.amount is lognormal with the log-mean of the *customer's* tier (read through the
    reference, joined here from the customers table itself)."""
    rows = shop_db.execute("""
        SELECT p.tier, avg(ln(o.amount)), stddev_samp(ln(o.amount)), count(*)
        FROM orders o JOIN customers p USING (customer_id) GROUP BY p.tier""").fetchall()
    for tier, log_mean, log_sd, n in rows:
        others = {f"{other}'s mean": mean for other, mean in AMOUNT_LOG_MEAN.items() if other != tier}
        low, high = mean_bounds(AMOUNT_LOG_MEAN[tier], AMOUNT_LOG_SIGMA, n)
        check(log_mean, (low - 1e-3, high + 1e-3), wrong=others)  # 1e-3: rounding to cents
        assert abs(log_sd - AMOUNT_LOG_SIGMA) <= SIGMAS * AMOUNT_LOG_SIGMA / math.sqrt(2 * n) + 1e-3


def test_priority_shares_by_parent_tier(shop_db):
    rows = shop_db.execute("""
        SELECT p.tier, t.priority, count(*) FROM tickets t JOIN customers p USING (customer_id)
        GROUP BY ALL""").fetchall()
    for tier, shares in PRIORITY_BY_TIER.items():
        n = sum(count for t, _, count in rows if t == tier)
        observed = {priority: count for t, priority, count in rows if t == tier}
        assert set(observed) <= set(shares)
        for priority, weight in shares.items():
            p = weight / sum(shares.values())
            equal = {"equal shares": n / 3} if abs(p - 1 / 3) > 0.1 else {}
            check(observed.get(priority, 0), binomial_bounds(n, p), wrong=equal)


def test_resolution_hours_scale_by_priority(shop_db):
    rows = shop_db.execute("SELECT priority, avg(resolution_hours), count(*) FROM tickets GROUP BY priority").fetchall()
    overall = scalar(shop_db, "SELECT avg(resolution_hours) FROM tickets")
    for priority, mean, n in rows:
        scale = HOURS_BY_PRIORITY[priority]
        check(mean, mean_bounds(scale, scale, n), wrong={"one scale for all": overall})


def test_csat_shares_by_resolution_hour_bins(shop_db):
    """csat by resolution_hours cut at [8, 24]: each bin's value shares, and never a value the
    bin does not list (a row on an edge belongs to the bin above: 8 is in `<24`)."""
    rows = shop_db.execute("""
        SELECT CASE WHEN resolution_hours < 8 THEN '<8' WHEN resolution_hours < 24 THEN '<24' ELSE '>=24' END,
               csat, count(*) FROM tickets GROUP BY ALL""").fetchall()
    for label, shares in CSAT_BY_BIN.items():
        n = sum(count for b, _, count in rows if b == label)
        observed = {int(csat): count for b, csat, count in rows if b == label}
        assert n > 500
        assert set(observed) <= set(shares), f"{label}: {sorted(observed)} not within {sorted(shares)}"
        total = sum(shares.values())
        for value, weight in shares.items():
            wrong_share = sum(CSAT_BY_BIN[other].get(value, 0) / sum(CSAT_BY_BIN[other].values())
                              for other in CSAT_BY_BIN if other != label)
            other = {"another bin's shares": n * wrong_share / 2} if abs(wrong_share / 2 - weight / total) > 0.1 else {}
            check(observed.get(value, 0), binomial_bounds(n, weight / total), wrong=other)


# -- lags -------------------------------------------------------------------------------------------


def test_lag_distribution_mean_in_hours(shop_db):
    """first_response_at = created_at + Exponential(mean 2) hours."""
    mean, sd, n = shop_db.execute("""
        SELECT avg(h), stddev_samp(h), count(*) FROM (
            SELECT (epoch_us(first_response_at) - epoch_us(created_at)) / 3600e6 AS h FROM tickets)""").fetchone()
    check(mean, mean_bounds(FIRST_RESPONSE_HOURS, FIRST_RESPONSE_HOURS, n),
          wrong={"lag in minutes read as hours": FIRST_RESPONSE_HOURS / 60, "lag in days": FIRST_RESPONSE_HOURS * 24})
    # an exponential's sample sd has a standard error of about scale * sqrt(2 / n)
    assert abs(sd - FIRST_RESPONSE_HOURS) <= SIGMAS * FIRST_RESPONSE_HOURS * math.sqrt(2 / n)


def test_lag_after_a_parent_date_in_days(shop_db):
    """order_items.shipped_at = the order's date (midnight) + Exponential(mean 3) days."""
    mean, n = shop_db.execute("""
        SELECT avg((epoch_us(i.shipped_at) - epoch_us(CAST(o.order_date AS TIMESTAMP))) / 86400e6), count(*)
        FROM order_items i JOIN orders o USING (order_id)""").fetchone()
    check(mean, mean_bounds(SHIP_LAG_DAYS, SHIP_LAG_DAYS, n), wrong={"lag in hours": SHIP_LAG_DAYS / 24,
                                                                    "no lag (uniform in the window)": 90.0})
