"""Is the `saas_support` story really in the data? One line of numbers, read back from Parquet.

Used by bench/story.py on every variant's output, so the realism of fabula and of the
hand-written baselines is compared the same way. Works on either layout: a folder per table
(fabula, Spark) or one `<table>.parquet` file (the naive script). What it measures:

    tickets/day in the incident vs outside        (story: x3)
    Authentication share in the incident vs out   (story: 65% vs 25%)
    weekday/weekend tickets per day, outside it   (story: 25 / 15 = 1.67)
    mean CSAT of Authentication tickets in the incident vs the rest (story: worse)
    share of tickets created 09:00-17:00           (uniform over the day: 33%)
    tickets/day on US public holidays vs other weekdays (no holiday effect: 1.00)
    orders dated before their customer's created_at (story: none)

>>> realism_line(Path("no-such-folder"))
'no tickets table: story checks n/a'
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

INCIDENT_START, INCIDENT_END = np.datetime64(date(2024, 10, 15)), np.datetime64(date(2024, 10, 25))


def read(out: Path, table: str, columns: list[str]) -> pa.Table | None:
    """The table's columns, or None when the table or one of the columns is not there."""
    path = out / table if (out / table).is_dir() else out / f"{table}.parquet"
    if not path.exists():
        return None
    dataset = ds.dataset(path, format="parquet")  # skips _SUCCESS, .crc and other hidden files
    if any(column not in dataset.schema.names for column in columns):
        return None
    return dataset.to_table(columns=columns)


def days(column: pa.ChunkedArray) -> np.ndarray:
    """Dates or timestamps as numpy days (timestamps with a time zone: their UTC day)."""
    if pa.types.is_timestamp(column.type) and column.type.tz is not None:
        column = column.cast(pa.timestamp(column.type.unit))
    return column.to_numpy().astype("datetime64[D]")


def strings(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return column.cast(pa.string())  # decodes fabula's dictionary-encoded categoricals


def holidays_in(calendar: np.ndarray) -> np.ndarray:
    """Which days are US public holidays (none when the `holidays` package is missing)."""
    try:
        import holidays
    except ImportError:
        return np.zeros(len(calendar), dtype=bool)
    years = sorted({int(str(day)[:4]) for day in calendar[[0, -1]]})
    dates = holidays.country_holidays("US", years=range(years[0], years[-1] + 1))
    return np.isin(calendar, np.array(sorted(dates), dtype="datetime64[D]"))


def ticket_checks(tickets: pa.Table) -> list[str]:
    day = days(tickets["created_at"])
    first = day.min()
    index = (day - first).astype(np.int64)
    per_day = np.bincount(index)  # every day from the first to the last, empty days included
    calendar = first + np.arange(len(per_day))
    incident = (calendar >= INCIDENT_START) & (calendar <= INCIDENT_END)
    weekend = (calendar.astype(np.int64) + 3) % 7 >= 5  # 1970-01-01 was a Thursday
    checks = []
    if incident.any() and (~incident).any():
        checks.append(f"tickets/day in incident x{per_day[incident].mean() / per_day[~incident].mean():.2f}")
    quiet_weekend = per_day[~incident & weekend]
    if len(quiet_weekend) and quiet_weekend.mean() > 0:
        checks.append(f"weekday/weekend {per_day[~incident & ~weekend].mean() / quiet_weekend.mean():.2f}")
    hours = tickets["created_at"].to_numpy().astype("datetime64[h]")
    hour = (hours - hours.astype("datetime64[D]")).astype(np.int64)
    checks.append(f"09-17h {((hour >= 9) & (hour < 17)).mean():.0%}")
    holiday = holidays_in(calendar)
    plain_weekday = ~incident & ~weekend & ~holiday
    if (holiday & ~weekend).any() and plain_weekday.any():
        checks.append(f"holiday/weekday {per_day[holiday & ~weekend].mean() / per_day[plain_weekday].mean():.2f}")
    in_incident = incident[index]
    auth = pc.equal(strings(tickets["category"]), "Authentication").to_numpy(zero_copy_only=False)
    if in_incident.any() and (~in_incident).any():
        checks.append(f"Authentication {auth[in_incident].mean():.0%} in incident, {auth[~in_incident].mean():.0%} outside")
        csat = tickets["csat_score"].to_numpy().astype(float)
        hit = in_incident & auth
        if hit.any():
            checks.append(f"CSAT auth-in-incident {np.nanmean(csat[hit]):.2f} vs rest {np.nanmean(csat[~hit]):.2f}")
    return checks


def order_checks(out: Path) -> list[str]:
    orders = read(out, "orders", ["customer_id", "order_date"])
    customers = read(out, "customers", ["customer_id", "created_at"])
    if orders is None or customers is None:
        return []
    joined = (orders.set_column(0, "customer_id", strings(orders["customer_id"]))
              .join(customers.set_column(0, "customer_id", strings(customers["customer_id"])), "customer_id"))
    early = int((days(joined["order_date"]) < days(joined["created_at"])).sum())
    orphans = orders.num_rows - joined.num_rows
    return [f"orders before their customer {early:,}" + (f", orphans {orphans:,}" if orphans else "")]


def realism_line(out: Path) -> str:
    tickets = read(out, "tickets", ["category", "csat_score", "created_at"])
    if tickets is None or tickets.num_rows == 0:
        return "no tickets table: story checks n/a"
    return " | ".join(ticket_checks(tickets) + order_checks(out))
