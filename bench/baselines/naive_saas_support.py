"""The `saas_support` story, hand-written the way it is usually done today: a loop per row.

This is the reference script fabula is compared against (bench/story.py runs it as the `naive`
variant). It is meant to be honest and idiomatic, not deliberately slow: one `Faker` and the
global NumPy generator seeded once, `np.random.choice` for every categorical, `np.random.lognormal`
/ `np.random.exponential` per row, rows built as lists of dicts, then pandas → Parquet. The one
thing it vectorises is the weighted customer pick (`np.random.choice(..., size=n, p=weights)`),
because a per-row `choice` over all customers would make the script quadratic in customers, which
nobody would leave in.

The story (same tables, columns, weights and parameters as the built-in scenario; window =
calendar year 2024; incident 2024-10-15..2024-10-25):

    customers  2,500 x scale   customer_id CUST-00000…, name (company), email (company email),
                               tier Free 60 / Pro 30 / Enterprise 10,
                               region North 40 / South 25 / East 20 / West 15,
                               arr log-normal(11, 0.5) Enterprise, (8, 0.6) Pro, 0 Free (2 dp),
                               created_at date between 2 years and 6 months before the window end
    orders     25,000 x scale  order_id ORD-000000…, customer_id weighted 5/2/1 by tier,
                               amount log-normal (7, 0.8) / (5, 0.7) / (3.5, 0.6) by tier (2 dp),
                               status completed 85 / pending 10 / cancelled 5,
                               order_date in the window, never before the customer's created_at
    tickets    ~8,600 x scale  per day: 25 x scale on weekdays, 15 x scale on weekend days,
                               x uniform(0.85, 1.15) noise, x 3 during the incident;
                               ticket_id TKT-000000… in time order, customer_id weighted 5/2/1,
                               category Authentication 25 / Network 30 / Billing 25 / Account 20
                               (incident: 65 / 15 / 10 / 10), priority by tier, resolution_hours
                               exponential (scale 4 Critical, 12 High, 36 otherwise; 1 dp),
                               csat_score by incident/category and resolution hours, created_at

    .venv/bin/python bench/baselines/naive_saas_support.py --scale 1 --out bench/out/naive
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from faker import Faker

SEED = 42

WINDOW_START, WINDOW_END = date(2024, 1, 1), date(2024, 12, 31)
INCIDENT_START, INCIDENT_END = date(2024, 10, 15), date(2024, 10, 25)
# created_at: between 2 years and 6 months before the window end.
CUSTOMER_SINCE, CUSTOMER_UNTIL = date(2022, 12, 31), date(2024, 6, 30)

CUSTOMERS = 2_500
ORDERS = 25_000
TICKETS_PER_WEEKDAY, TICKETS_PER_WEEKEND_DAY = 25, 15
DAILY_NOISE = 0.15
INCIDENT_MULTIPLIER = 3

TIERS, TIER_P = ["Free", "Pro", "Enterprise"], [0.60, 0.30, 0.10]
REGIONS, REGION_P = ["North", "South", "East", "West"], [0.40, 0.25, 0.20, 0.15]
ARR = {"Enterprise": (11, 0.5), "Pro": (8, 0.6)}  # Free customers pay nothing
PICK_WEIGHT = {"Enterprise": 5, "Pro": 2, "Free": 1}
AMOUNT = {"Enterprise": (7, 0.8), "Pro": (5, 0.7), "Free": (3.5, 0.6)}
STATUSES, STATUS_P = ["completed", "pending", "cancelled"], [0.85, 0.10, 0.05]

CATEGORIES = ["Authentication", "Network", "Billing", "Account"]
CATEGORY_P = [0.25, 0.30, 0.25, 0.20]
INCIDENT_CATEGORY_P = [0.65, 0.15, 0.10, 0.10]
PRIORITIES = {
    "Enterprise": (["Critical", "High", "Medium"], [0.30, 0.50, 0.20]),
    "other": (["Critical", "High", "Medium", "Low"], [0.05, 0.20, 0.45, 0.30]),
}
RESOLUTION_SCALE = {"Critical": 4, "High": 12}  # hours; everything else 36
OTHER_RESOLUTION_SCALE = 36
INCIDENT_AUTH_CSAT = ([1, 2, 3, 4, 5], [0.15, 0.25, 0.35, 0.20, 0.05])
CSAT_FAST = ([3, 4, 5], [0.10, 0.30, 0.60])  # resolved in < 8 h
CSAT_SAME_DAY = ([2, 3, 4, 5], [0.10, 0.20, 0.40, 0.30])  # < 24 h
CSAT_SLOW = ([1, 2, 3, 4], [0.10, 0.25, 0.40, 0.25])


def make_customers(fake: Faker, n: int) -> list[dict]:
    span = (CUSTOMER_UNTIL - CUSTOMER_SINCE).days
    customers = []
    for i in range(n):
        tier = np.random.choice(TIERS, p=TIER_P)
        arr = round(float(np.random.lognormal(*ARR[tier])), 2) if tier in ARR else 0.0
        customers.append({
            "customer_id": f"CUST-{i:05d}",
            "name": fake.company(),
            "email": fake.company_email(),
            "tier": str(tier),
            "region": str(np.random.choice(REGIONS, p=REGION_P)),
            "arr": arr,
            "created_at": CUSTOMER_SINCE + timedelta(days=int(np.random.randint(0, span + 1))),
        })
    return customers


def pick_weights(customers: list[dict]) -> np.ndarray:
    weights = np.array([PICK_WEIGHT[c["tier"]] for c in customers], dtype=float)
    return weights / weights.sum()


def make_orders(customers: list[dict], n: int) -> list[dict]:
    picks = np.random.choice(len(customers), size=n, p=pick_weights(customers))
    orders = []
    for i, pick in enumerate(picks):
        customer = customers[pick]
        first_day = max(WINDOW_START, customer["created_at"])
        days = (WINDOW_END - first_day).days
        orders.append({
            "order_id": f"ORD-{i:06d}",
            "customer_id": customer["customer_id"],
            "amount": round(float(np.random.lognormal(*AMOUNT[customer["tier"]])), 2),
            "status": str(np.random.choice(STATUSES, p=STATUS_P)),
            "order_date": first_day + timedelta(days=int(np.random.randint(0, days + 1))),
        })
    return orders


def tickets_on(day: date, scale: float) -> int:
    base = TICKETS_PER_WEEKEND_DAY if day.weekday() >= 5 else TICKETS_PER_WEEKDAY
    volume = base * scale * np.random.uniform(1 - DAILY_NOISE, 1 + DAILY_NOISE)
    if INCIDENT_START <= day <= INCIDENT_END:
        volume *= INCIDENT_MULTIPLIER
    return round(float(volume))


def csat(category: str, in_incident: bool, resolution_hours: float) -> int:
    if in_incident and category == "Authentication":
        values, p = INCIDENT_AUTH_CSAT
    elif resolution_hours < 8:
        values, p = CSAT_FAST
    elif resolution_hours < 24:
        values, p = CSAT_SAME_DAY
    else:
        values, p = CSAT_SLOW
    return int(np.random.choice(values, p=p))


def make_tickets(customers: list[dict], scale: float) -> list[dict]:
    weights = pick_weights(customers)
    tickets = []
    day = WINDOW_START
    while day <= WINDOW_END:
        in_incident = INCIDENT_START <= day <= INCIDENT_END
        midnight = datetime(day.year, day.month, day.day)
        count = tickets_on(day, scale)
        for pick in np.random.choice(len(customers), size=count, p=weights):
            customer = customers[pick]
            category = str(np.random.choice(CATEGORIES, p=INCIDENT_CATEGORY_P if in_incident else CATEGORY_P))
            levels, p = PRIORITIES["Enterprise" if customer["tier"] == "Enterprise" else "other"]
            priority = str(np.random.choice(levels, p=p))
            scale_hours = RESOLUTION_SCALE.get(priority, OTHER_RESOLUTION_SCALE)
            resolution = round(float(np.random.exponential(scale_hours)), 1)
            tickets.append({
                "customer_id": customer["customer_id"],
                "category": category,
                "priority": priority,
                "resolution_hours": resolution,
                "csat_score": csat(category, in_incident, resolution),
                "created_at": midnight + timedelta(seconds=int(np.random.randint(0, 86_400))),
            })
        day += timedelta(days=1)
    tickets.sort(key=lambda t: t["created_at"])
    for i, ticket in enumerate(tickets):
        ticket["ticket_id"] = f"TKT-{i:06d}"
    return tickets


def generate(scale: float, out: Path) -> dict[str, pd.DataFrame]:
    """Write customers, orders and tickets as `out/<table>.parquet`; return the frames."""
    np.random.seed(SEED)
    Faker.seed(SEED)
    fake = Faker()
    customers = make_customers(fake, round(CUSTOMERS * scale))
    orders = make_orders(customers, round(ORDERS * scale))
    tickets = make_tickets(customers, scale)
    ticket_columns = ["ticket_id", "customer_id", "category", "priority", "resolution_hours",
                      "csat_score", "created_at"]
    frames = {
        "customers": pd.DataFrame(customers),
        "orders": pd.DataFrame(orders),
        "tickets": pd.DataFrame(tickets, columns=ticket_columns),
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_parquet(out / f"{name}.parquet", index=False)
    return frames


def summary(frames: dict[str, pd.DataFrame]) -> str:
    """Rows per table, ticket volume before vs during the incident, category mix in it."""
    tickets = frames["tickets"]
    day = tickets["created_at"].dt.normalize()
    in_incident = (day >= pd.Timestamp(INCIDENT_START)) & (day <= pd.Timestamp(INCIDENT_END))
    before = tickets[day < pd.Timestamp(INCIDENT_START)]
    per_day_before = len(before) / before["created_at"].dt.normalize().nunique()
    per_day_during = in_incident.sum() / ((INCIDENT_END - INCIDENT_START).days + 1)
    mix = tickets.loc[in_incident, "category"].value_counts(normalize=True)
    lines = [f"{name}: {len(frame):,} rows" for name, frame in frames.items()]
    lines.append(f"tickets/day before the incident {per_day_before:.1f}, during {per_day_during:.1f} "
                 f"(x{per_day_during / per_day_before:.2f})")
    lines.append("category mix during the incident: "
                 + ", ".join(f"{category} {share:.0%}" for category, share in mix.items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The saas_support story, written row by row.")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies customers, orders and tickets/day")
    parser.add_argument("--out", type=Path, required=True, help="folder for <table>.parquet")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error(f"--scale {args.scale}: must be greater than 0")
    print(summary(generate(args.scale, args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
