"""The `saas_support` story as a plain PySpark job, written the way the usual workflow recommends.

bench/story.py runs it as the `pyspark-plain` variant in a session it creates (local[2]). It is
the same story as naive_saas_support.py (tables, columns, weights, parameters, 2024 window,
incident 2024-10-15..2024-10-25) built with the usual tools of such jobs:

* ids from `spark.range` and `format_string`;
* names and emails from Faker inside pandas UDFs (one Faker per Arrow batch, seeded from the
  batch's first id);
* categoricals from a `rand(seed)` column cut by `when` chains at the cumulative weights;
* log-normal and exponential values from NumPy in a per-row Python UDF (unseeded, as usually
  written: those columns differ from run to run);
* the weighted customer pick in two steps: a tier drawn with probability weight x customers of
  that tier, then a uniform customer of that tier, joined on (tier, rank in tier);
* the ticket timeline: 366 daily counts computed on the driver (small), exploded into rows.

Customers are written first and read back for the joins, so orders and tickets see exactly the
tiers and created_at dates that were written.

    .venv/bin/python bench/baselines/pyspark_saas_support.py --scale 1 --out bench/out/pyspark
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

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

TIERS = {"Free": 0.60, "Pro": 0.30, "Enterprise": 0.10}
REGIONS = {"North": 0.40, "South": 0.25, "East": 0.20, "West": 0.15}
ARR = {"Enterprise": (11.0, 0.5), "Pro": (8.0, 0.6)}  # Free customers pay nothing
PICK_WEIGHT = {"Enterprise": 5, "Pro": 2, "Free": 1}
AMOUNT = {"Enterprise": (7.0, 0.8), "Pro": (5.0, 0.7), "Free": (3.5, 0.6)}
STATUSES = {"completed": 0.85, "pending": 0.10, "cancelled": 0.05}
CATEGORIES = {"Authentication": 0.25, "Network": 0.30, "Billing": 0.25, "Account": 0.20}
INCIDENT_CATEGORIES = {"Authentication": 0.65, "Network": 0.15, "Billing": 0.10, "Account": 0.10}
ENTERPRISE_PRIORITIES = {"Critical": 0.30, "High": 0.50, "Medium": 0.20}
OTHER_PRIORITIES = {"Critical": 0.05, "High": 0.20, "Medium": 0.45, "Low": 0.30}
RESOLUTION_SCALE = {"Critical": 4.0, "High": 12.0}  # hours; everything else 36
OTHER_RESOLUTION_SCALE = 36.0
INCIDENT_AUTH_CSAT = {1: 0.15, 2: 0.25, 3: 0.35, 4: 0.20, 5: 0.05}
CSAT_FAST = {3: 0.10, 4: 0.30, 5: 0.60}  # resolved in < 8 h
CSAT_SAME_DAY = {2: 0.10, 3: 0.20, 4: 0.40, 5: 0.30}  # < 24 h
CSAT_SLOW = {1: 0.10, 2: 0.25, 3: 0.40, 4: 0.25}


def pick(u, weights: dict):
    """A `when` chain turning a uniform column `u` into one of the keys, by cumulative weight.

    `u` must be a column already holding `rand(seed)`, never `F.rand(seed)` itself: each
    reference to a `rand` expression is its own generator, and inside CASE WHEN the later ones
    only advance on the rows that reach them, so the later branches would see other numbers
    (with Free 60 / Pro 30 / Enterprise 10 you would get about 60 / 36 / 4).
    """
    from pyspark.sql import functions as F

    values = list(weights)
    total = float(sum(weights.values()))
    chain, cumulative = None, 0.0
    for value in values[:-1]:
        cumulative += weights[value] / total
        chain = (F.when(u < cumulative, F.lit(value)) if chain is None
                 else chain.when(u < cumulative, F.lit(value)))
    return chain.otherwise(F.lit(values[-1]))


def by_key(column, mapping: dict, default=None):
    """`mapping[column]` as a `when` chain (`default` when no key matches)."""
    from pyspark.sql import functions as F

    chain = None
    for key, value in mapping.items():
        chain = (F.when(column == key, F.lit(value)) if chain is None
                 else chain.when(column == key, F.lit(value)))
    return chain.otherwise(F.lit(default))


def udfs():
    """The UDFs, defined inside a function so importing this module does not need pyspark."""
    from faker import Faker
    from pyspark.sql import functions as F

    @F.pandas_udf("string")
    def fake_company(ids: pd.Series) -> pd.Series:
        fake = Faker()
        fake.seed_instance(SEED + int(ids.iloc[0]))
        return pd.Series([fake.company() for _ in range(len(ids))])

    @F.pandas_udf("string")
    def fake_company_email(ids: pd.Series) -> pd.Series:
        fake = Faker()
        fake.seed_instance(SEED + 1 + int(ids.iloc[0]))
        return pd.Series([fake.company_email() for _ in range(len(ids))])

    @F.udf("double")
    def lognormal(mean, sigma):
        if mean is None:
            return None
        return float(np.random.lognormal(mean, sigma))

    @F.udf("double")
    def exponential(scale):
        return float(np.random.exponential(scale))

    return fake_company, fake_company_email, lognormal, exponential


def customers_frame(spark, n: int):
    from pyspark.sql import functions as F

    fake_company, fake_company_email, lognormal, _ = udfs()
    span = (CUSTOMER_UNTIL - CUSTOMER_SINCE).days
    tier = F.col("tier")
    return (
        spark.range(n)
        .withColumn("customer_id", F.format_string("CUST-%05d", "id"))
        .withColumn("name", fake_company("id"))
        .withColumn("email", fake_company_email("id"))
        .withColumn("u_tier", F.rand(SEED + 1))
        .withColumn("u_region", F.rand(SEED + 2))
        .withColumn("tier", pick(F.col("u_tier"), TIERS))
        .withColumn("region", pick(F.col("u_region"), REGIONS))
        .withColumn("arr", F.when(tier == "Free", F.lit(0.0)).otherwise(F.round(lognormal(
            by_key(tier, {t: p[0] for t, p in ARR.items()}),
            by_key(tier, {t: p[1] for t, p in ARR.items()})), 2)))
        .withColumn("created_at", F.date_add(F.lit(CUSTOMER_SINCE), (F.rand(SEED + 3) * (span + 1)).cast("int")))
        .drop("id", "u_tier", "u_region")
    )


def weighted_customers(customers, rows, seed: int):
    """Join each row of `rows` to a customer picked with weight 5 / 2 / 1 by tier."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    counts = {row["tier"]: row["count"] for row in customers.groupBy("tier").count().collect()}
    mass = {tier: counts[tier] * PICK_WEIGHT[tier] for tier in counts}
    ranked = customers.select(
        "tier", "customer_id", "created_at",
        (F.row_number().over(Window.partitionBy("tier").orderBy("customer_id")) - 1).alias("rank"))
    return (
        rows.withColumn("u_tier", F.rand(seed))
        .withColumn("tier", pick(F.col("u_tier"), mass))
        .withColumn("rank", F.floor(F.rand(seed + 1) * by_key(F.col("tier"), counts)).cast("long"))
        .join(ranked, ["tier", "rank"])
        .drop("rank", "u_tier")
    )


def orders_frame(spark, customers, n: int):
    from pyspark.sql import functions as F

    _, _, lognormal, _ = udfs()
    tier = F.col("tier")
    first_day = F.greatest(F.lit(WINDOW_START), F.col("created_at"))
    rows = spark.range(n).withColumn("order_id", F.format_string("ORD-%06d", "id"))
    return (
        weighted_customers(customers, rows, SEED + 10)
        .withColumn("amount", F.round(lognormal(by_key(tier, {t: p[0] for t, p in AMOUNT.items()}),
                                                by_key(tier, {t: p[1] for t, p in AMOUNT.items()})), 2))
        .withColumn("u_status", F.rand(SEED + 12))
        .withColumn("status", pick(F.col("u_status"), STATUSES))
        .withColumn("order_date", F.date_add(first_day, F.floor(
            F.rand(SEED + 13) * (F.datediff(F.lit(WINDOW_END), first_day) + 1)).cast("int")))
        .select("order_id", "customer_id", "amount", "status", "order_date")
    )


def daily_counts(scale: float) -> pd.DataFrame:
    """Tickets per day of the window (366 rows), with each day's first ticket number."""
    rng = np.random.default_rng(SEED)
    days = [WINDOW_START + timedelta(days=i) for i in range((WINDOW_END - WINDOW_START).days + 1)]
    base = np.array([TICKETS_PER_WEEKEND_DAY if d.weekday() >= 5 else TICKETS_PER_WEEKDAY for d in days])
    incident = np.array([INCIDENT_START <= d <= INCIDENT_END for d in days])
    noise = rng.uniform(1 - DAILY_NOISE, 1 + DAILY_NOISE, len(days))
    counts = np.rint(base * scale * noise * np.where(incident, INCIDENT_MULTIPLIER, 1)).astype("int64")
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return pd.DataFrame({"day": days, "first": first, "n": counts, "incident": incident})


def tickets_frame(spark, customers, scale: float):
    from pyspark.sql import functions as F

    _, _, _, exponential = udfs()
    days = spark.createDataFrame(daily_counts(scale)).where("n > 0")
    ids = F.explode(F.sequence(F.col("first"), F.col("first") + F.col("n") - 1))
    rows = (days.select("day", "incident", ids.alias("id"))
            .withColumn("ticket_id", F.format_string("TKT-%06d", "id")))
    category, priority, hours = F.col("category"), F.col("priority"), F.col("resolution_hours")
    u = F.col("u_csat")
    csat = (F.when(F.col("incident") & (category == "Authentication"), pick(u, INCIDENT_AUTH_CSAT))
            .when(hours < 8, pick(u, CSAT_FAST))
            .when(hours < 24, pick(u, CSAT_SAME_DAY))
            .otherwise(pick(u, CSAT_SLOW)))
    return (
        weighted_customers(customers, rows, SEED + 20)
        .withColumn("u_category", F.rand(SEED + 22))
        .withColumn("u_priority", F.rand(SEED + 23))
        .withColumn("category", F.when(F.col("incident"), pick(F.col("u_category"), INCIDENT_CATEGORIES))
                    .otherwise(pick(F.col("u_category"), CATEGORIES)))
        .withColumn("priority", F.when(F.col("tier") == "Enterprise", pick(F.col("u_priority"), ENTERPRISE_PRIORITIES))
                    .otherwise(pick(F.col("u_priority"), OTHER_PRIORITIES)))
        .withColumn("resolution_hours", F.round(exponential(by_key(priority, RESOLUTION_SCALE, OTHER_RESOLUTION_SCALE)), 1))
        .withColumn("u_csat", F.rand(SEED + 24))
        .withColumn("csat_score", csat.cast("int"))
        .withColumn("created_at", F.timestamp_seconds(
            F.unix_timestamp(F.col("day").cast("timestamp")) + F.floor(F.rand(SEED + 25) * 86_400)))
        .select("ticket_id", "customer_id", "category", "priority", "resolution_hours", "csat_score", "created_at")
    )


def write(spark, scale: float, out: Path) -> None:
    """Write customers, orders and tickets as Parquet folders under `out` (overwriting them)."""
    out = Path(out).resolve()
    customers_frame(spark, round(CUSTOMERS * scale)).write.mode("overwrite").parquet(str(out / "customers"))
    customers = spark.read.parquet(str(out / "customers"))
    orders_frame(spark, customers, round(ORDERS * scale)).write.mode("overwrite").parquet(str(out / "orders"))
    tickets_frame(spark, customers, scale).write.mode("overwrite").parquet(str(out / "tickets"))


def local_session(master: str = "local[2]", app: str = "saas_support-plain"):
    """The session the benchmark uses for both Spark variants: local, UTC, no UI; the Python
    workers run this interpreter (so they see this venv's Faker, NumPy and pandas)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master(master).appName(app)
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.memory", "2g")
            .getOrCreate())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The saas_support story as a plain PySpark job.")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies customers, orders and tickets/day")
    parser.add_argument("--out", type=Path, required=True, help="folder for the <table>/ Parquet folders")
    parser.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error(f"--scale {args.scale}: must be greater than 0")
    spark = local_session(args.master)
    try:
        write(spark, args.scale, args.out)
        for table in ("customers", "orders", "tickets"):
            print(f"{table}: {spark.read.parquet(str(args.out.resolve() / table)).count():,} rows")
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
