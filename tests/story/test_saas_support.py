"""The built-in `saas_support` tells the reference story, read back from its Parquet files with
DuckDB: table sizes, the ticket timeline (25 a weekday, 15 a weekend day, ×3 during the
incident), the category shift, priority by tier, resolution by priority, satisfaction by
resolution (and worse for Authentication tickets filed during the incident), orders never
before their customer, weighted customers — and `--as-of` moving the whole story.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest

from story.support import (
    binomial_bounds,
    check,
    check_mix,
    connect,
    days,
    mean_bounds,
    run_cli,
    write,
)

WINDOW = (date(2024, 1, 1), date(2024, 12, 31))  # -365d .. today, as_of 2024-12-31
INCIDENT = (date(2024, 10, 15), date(2024, 10, 25))  # -77d .. -67d
WEEKDAY_RATE, WEEKEND_RATE, SPIKE, NOISE = 25, 15, 3, 0.15
CATEGORIES = {"Authentication": 25, "Network": 30, "Billing": 25, "Account": 20}
CATEGORIES_DURING = {"Authentication": 65, "Network": 15, "Billing": 10, "Account": 10}
PRIORITY = {"Enterprise": {"Critical": 30, "High": 50, "Medium": 20},
            "other": {"Critical": 5, "High": 20, "Medium": 45, "Low": 30}}
RESOLUTION_SCALE = {"Critical": 4, "High": 12, "Medium": 36, "Low": 36}
CSAT_BY_BIN = {"<8": {3: 10, 4: 30, 5: 60}, "<24": {2: 10, 3: 20, 4: 40, 5: 30}, ">=24": {1: 10, 2: 25, 3: 40, 4: 25}}
CSAT_AUTH_INCIDENT = {1: 15, 2: 25, 3: 35, 4: 20, 5: 5}
WEIGHTS = {"Enterprise": 5, "Pro": 2, "Free": 1}


@pytest.fixture(scope="module")
def saas(tmp_path_factory):
    db = connect(write("saas_support", tmp_path_factory.mktemp("saas") / "out"))
    db.execute("""CREATE VIEW t AS
        SELECT tickets.*, CAST(tickets.created_at AS DATE) AS day, customers.tier,
               CAST(tickets.created_at AS DATE) BETWEEN DATE '2024-10-15' AND DATE '2024-10-25' AS during
        FROM tickets JOIN customers USING (customer_id)""")
    yield db
    db.close()


def _column(db, sql: str) -> np.ndarray:
    return np.array([row[0] for row in db.execute(sql).fetchall()])


def _base_volume(day: date) -> float:
    return WEEKEND_RATE if day.weekday() >= 5 else WEEKDAY_RATE


def _day_variance(volume: float) -> float:
    """A day's count is Poisson around volume × uniform(1 ± noise)."""
    return volume + volume ** 2 * NOISE ** 2 / 3


# -- sizes and the timeline ----------------------------------------------------------------------------


def test_table_sizes(saas):
    counts = dict(saas.execute("""SELECT 'customers', count(*) FROM customers UNION ALL
                                  SELECT 'orders', count(*) FROM orders UNION ALL
                                  SELECT 'events', count(*) FROM events""").fetchall())
    assert counts == {"customers": 2500, "orders": 25000, "events": 1}
    volume = [_base_volume(day) * (SPIKE if INCIDENT[0] <= day <= INCIDENT[1] else 1) for day in days(*WINDOW)]
    expected, sd = sum(volume), math.sqrt(sum(_day_variance(v) for v in volume))
    check(saas.execute("SELECT count(*) FROM tickets").fetchone()[0], (expected - 5 * sd, expected + 5 * sd),
          wrong={"no incident": expected - (SPIKE - 1) * sum(_base_volume(d) for d in days(*INCIDENT))})
    assert 8000 <= expected <= 9000, "about 8,000 tickets, as the story says"


def _per_day(db) -> dict[date, int]:
    found = dict(db.execute("SELECT day, count(*) FROM t GROUP BY day").fetchall())
    return {day: found.get(day, 0) for day in days(*WINDOW)}


def test_weekday_and_weekend_volume(saas):
    per_day = _per_day(saas)
    quiet = [day for day in per_day if not INCIDENT[0] <= day <= INCIDENT[1]]
    weekdays = [per_day[day] for day in quiet if day.weekday() < 5]
    weekends = [per_day[day] for day in quiet if day.weekday() >= 5]
    check(np.mean(weekdays), mean_bounds(WEEKDAY_RATE, math.sqrt(_day_variance(WEEKDAY_RATE)), len(weekdays)),
          wrong={"weekend rate every day": WEEKEND_RATE})
    check(np.mean(weekends), mean_bounds(WEEKEND_RATE, math.sqrt(_day_variance(WEEKEND_RATE)), len(weekends)),
          wrong={"no weekend dip": WEEKDAY_RATE})


def test_the_incident_triples_ticket_volume(saas):
    """Tickets filed during 2024-10-15..25 over what those days get without the incident."""
    per_day = _per_day(saas)
    incident = days(*INCIDENT)
    base = sum(_base_volume(day) for day in incident)
    spread = math.sqrt(sum(_day_variance(SPIKE * _base_volume(day)) for day in incident)) / base
    check(sum(per_day[day] for day in incident) / base, (SPIKE - 5 * spread, SPIKE + 5 * spread),
          wrong={"no spike": 1.0, "a doubling": 2.0})


def test_tickets_fall_inside_the_window_in_time_order(saas):
    first, last, ordered = saas.execute("""
        SELECT min(created_at), max(created_at),
               bool_and(created_at >= previous) FROM (
                 SELECT created_at, lag(created_at, 1, created_at) OVER (ORDER BY ticket_id) AS previous
                 FROM tickets)""").fetchone()
    assert first.date() >= WINDOW[0] and last.date() <= WINDOW[1]
    assert ordered, "tickets are numbered in the order they were filed"


# -- what the rows say ----------------------------------------------------------------------------------


@pytest.mark.parametrize("during", [True, False], ids=["during", "outside"])
def test_category_mix(saas, during):
    values = _column(saas, f"SELECT category FROM t WHERE during = {during}")
    check_mix(values, CATEGORIES_DURING if during else CATEGORIES, f"categories {'during' if during else 'outside'}")
    check(np.mean(values == "Authentication"), binomial_bounds(len(values), (65 if during else 25) / 100),
          wrong={"the other mix": (25 if during else 65) / 100})


@pytest.mark.parametrize("tier", ["Enterprise", "Pro", "Free"])
def test_priority_follows_the_customers_tier(saas, tier):
    values = _column(saas, f"SELECT priority FROM t WHERE tier = '{tier}'")
    check_mix(values, PRIORITY["Enterprise" if tier == "Enterprise" else "other"], f"priority of {tier} tickets")


@pytest.mark.parametrize("priority", list(RESOLUTION_SCALE))
def test_resolution_hours_follow_priority(saas, priority):
    hours = _column(saas, f"SELECT resolution_hours FROM t WHERE priority = '{priority}'")
    scale = RESOLUTION_SCALE[priority]
    others = {f"scale {other}": other for other in set(RESOLUTION_SCALE.values()) - {scale}}
    check(hours.mean(), mean_bounds(scale, scale, len(hours), slack=0.05), wrong=others)  # slack: round: 1


@pytest.mark.parametrize("bin_label,condition", [("<8", "resolution_hours < 8"),
                                                 ("<24", "resolution_hours >= 8 AND resolution_hours < 24"),
                                                 (">=24", "resolution_hours >= 24")])
@pytest.mark.parametrize("who", ["not Authentication-during-incident", "other categories during the incident"])
def test_csat_follows_resolution_time(saas, bin_label, condition, who):
    """The column's own rule: satisfaction by resolution bins — for every ticket outside the
    override's one case, including other categories filed during the incident."""
    rows = ("NOT (category = 'Authentication' AND during)" if who.startswith("not")
            else "category <> 'Authentication' AND during")
    values = _column(saas, f"SELECT csat_score FROM t WHERE {rows} AND {condition} AND csat_score IS NOT NULL")
    check_mix(values, CSAT_BY_BIN[bin_label], f"csat of {who} resolved {bin_label}h")


def test_csat_of_authentication_tickets_during_the_incident(saas):
    """The override's case replaces the bins: any resolution time gets 1-5 at 15/25/35/20/5%
    (among the 60% of customers who answer the survey)."""
    values = _column(saas, "SELECT csat_score FROM t WHERE category = 'Authentication' AND during "
                          "AND csat_score IS NOT NULL")
    check_mix(values, CSAT_AUTH_INCIDENT, "csat of Authentication tickets during the incident")
    quick = _column(saas, "SELECT csat_score FROM t WHERE category = 'Authentication' AND during "
                          "AND resolution_hours < 8 AND csat_score IS NOT NULL")
    check(np.mean(quick <= 2), binomial_bounds(len(quick), 0.40), wrong={"the bins' rule (3-5 only)": 0.0})


# -- orders and customers -------------------------------------------------------------------------------


def test_orders_never_predate_their_customer(saas):
    before, outside = saas.execute("""
        SELECT count(*) FILTER (WHERE order_date < c.created_at),
               count(*) FILTER (WHERE order_date NOT BETWEEN DATE '2024-01-01' AND DATE '2024-12-31')
        FROM orders o JOIN customers c USING (customer_id)""").fetchone()
    assert (before, outside) == (0, 0)


@pytest.mark.parametrize("child", ["orders", "tickets"])
def test_customers_are_picked_with_weights_by_tier(saas, child):
    """P(tier) = weight × customers of that tier / Σ weight × customers (5 / 2 / 1)."""
    members = dict(saas.execute("SELECT tier, count(*) FROM customers GROUP BY tier").fetchall())
    picked = dict(saas.execute(f"""SELECT c.tier, count(*) FROM {child} JOIN customers c USING (customer_id)
                                   GROUP BY c.tier""").fetchall())
    n = sum(picked.values())
    total = sum(WEIGHTS[tier] * members[tier] for tier in WEIGHTS)
    for tier, weight in WEIGHTS.items():
        check(picked[tier] / n, binomial_bounds(n, weight * members[tier] / total),
              wrong={"uniform picks": members[tier] / sum(members.values())})


# -- --as-of moves the story ----------------------------------------------------------------------------


def test_as_of_moves_the_window_and_the_incident(tmp_path):
    out = tmp_path / "moved"
    run_cli("generate", "saas_support", "--out", str(out), "--as-of", "2026-06-30", "--quiet")
    db = connect(out)
    as_of = date(2026, 6, 30)
    start, end = as_of - timedelta(days=77), as_of - timedelta(days=67)
    assert db.execute("SELECT name, start, \"end\" FROM events").fetchall() == [("auth_incident", start, end)]
    first, last = db.execute("SELECT min(created_at), max(created_at) FROM tickets").fetchone()
    assert first.date() >= as_of - timedelta(days=365) and last.date() <= as_of
    during = _column(db, f"""SELECT category FROM tickets
                             WHERE CAST(created_at AS DATE) BETWEEN DATE '{start}' AND DATE '{end}'""")
    check(np.mean(during == "Authentication"), binomial_bounds(len(during), 0.65), wrong={"no incident": 0.25})
    customers_from, customers_to = db.execute("SELECT min(created_at), max(created_at) FROM customers").fetchone()
    assert customers_from >= date(2024, 6, 30) and customers_to <= date(2025, 12, 31)
