"""The shop every relations test uses: five tables with every relation feature, generated once
per run (block size, files, workers) and read back from Parquet with DuckDB.

customers ─┬─< orders (per customer, Poisson by tier) ─< order_items (per order) >── products
           └─< tickets (weighted by tier; also point at orders, hotspot)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

import fabula
from fabula.plan import Layout
from fabula.plan.compile import compile_plan
from fabula.spec import build_spec

TIER_SHARES = {"Free": 60, "Pro": 30, "Enterprise": 10}
ORDERS_PER_TIER = {"Free": 1.0, "Pro": 3.0, "Enterprise": 8.0}
AMOUNT_LOG_MEAN = {"Free": 3.0, "Pro": 4.5, "Enterprise": 6.0}
AMOUNT_LOG_SIGMA = 0.5
TICKET_WEIGHTS = {"Enterprise": 5, "Pro": 2, "Free": 1}
PRIORITY_BY_TIER = {"Enterprise": {"high": 6, "medium": 3, "low": 1},
                    "Pro": {"high": 3, "medium": 4, "low": 3},
                    "Free": {"high": 1, "medium": 3, "low": 6}}
HOURS_BY_PRIORITY = {"high": 4.0, "medium": 12.0, "low": 36.0}
CSAT_BY_BIN = {"<8": {5: 6, 4: 3, 3: 1}, "<24": {4: 4, 3: 4, 2: 2}, ">=24": {3: 2, 2: 4, 1: 4}}
ITEMS_PER_ORDER = 2.0
PRODUCT_ZIPF_A = 1.2
HOT, HOT_SHARE = 0.2, 0.8
FIRST_RESPONSE_HOURS = 2.0
SHIP_LAG_DAYS = 3.0

SHOP = {
    "name": "shop",
    "seed": 20240917,
    "as_of": "2024-09-30",
    "tables": {
        "customers": {
            "rows": 3000,
            "columns": {
                "customer_id": {"kind": "id", "format": "C-{:05d}"},
                "tier": {"kind": "categorical", "values": TIER_SHARES},
                "created_at": {"kind": "date", "start": "-2y", "end": "-6mo"},
                "n_orders": {"kind": "aggregate", "fn": "count", "of": "orders"},
                "spend": {"kind": "aggregate", "fn": "sum", "of": "orders.items_total"},
                "order_amount": {"kind": "aggregate", "fn": "sum", "of": "orders.amount", "round": 2},
                "mean_amount": {"kind": "aggregate", "fn": "mean", "of": "orders.amount"},
                "first_order": {"kind": "aggregate", "fn": "min", "of": "orders.order_date"},
                "last_order": {"kind": "aggregate", "fn": "max", "of": "orders.order_date"},
            },
        },
        "products": {
            "rows": 400,
            "columns": {
                "product_id": {"kind": "id", "format": "P-{:04d}"},
                "category": {"kind": "categorical", "values": ["books", "games", "tools", "garden"]},
                "price": {"kind": "lognormal", "mean": 3, "sigma": 0.8, "round": 2},
            },
        },
        "orders": {
            "rows": {"per": "customers",
                     "count": {"kind": "poisson", "by": "tier",
                               "cases": {tier: {"lam": lam} for tier, lam in ORDERS_PER_TIER.items()}}},
            "columns": {
                "order_id": {"kind": "id", "format": "O-{:07d}"},
                "customer_id": {"kind": "reference", "to": "customers.customer_id"},
                "tier": {"kind": "lookup", "from": "customer_id.tier"},
                "amount": {"kind": "lognormal", "sigma": AMOUNT_LOG_SIGMA, "round": 2, "by": "customer_id.tier",
                           "cases": {tier: {"mean": mean} for tier, mean in AMOUNT_LOG_MEAN.items()}},
                "order_date": {"kind": "date", "start": "-1y", "end": "today", "after": "customer_id.created_at"},
                "n_items": {"kind": "aggregate", "fn": "count", "of": "order_items"},
                "items_total": {"kind": "aggregate", "fn": "sum", "of": "order_items.line_amount"},
                "max_line": {"kind": "aggregate", "fn": "max", "of": "order_items.line_amount"},
                "last_shipped": {"kind": "aggregate", "fn": "max", "of": "order_items.shipped_at"},
            },
        },
        "order_items": {
            "rows": {"per": "orders", "count": {"kind": "poisson", "lam": ITEMS_PER_ORDER}},
            "columns": {
                "item_id": {"kind": "sequence", "start": 1},
                "order_id": {"kind": "reference", "to": "orders.order_id"},
                "product_id": {"kind": "reference", "to": "products.product_id", "pick": "zipf",
                               "a": PRODUCT_ZIPF_A},
                "unit_price": {"kind": "lookup", "from": "product_id.price"},
                "quantity": {"kind": "uniform", "low": 1, "high": 4, "integer": True},
                "line_amount": {"kind": "expression", "expr": "round(quantity * unit_price, 2)"},
                "shipped_at": {"kind": "timestamp", "start": "-1y", "end": "today", "after": "order_id.order_date",
                               "lag": {"kind": "exponential", "scale": SHIP_LAG_DAYS}, "lag_unit": "days"},
            },
        },
        "tickets": {
            "rows": 12000,
            "columns": {
                "ticket_id": {"kind": "sequence"},
                "customer_id": {"kind": "reference", "to": "customers.customer_id", "pick": "weighted",
                                "weight_by": "tier", "weights": TICKET_WEIGHTS},
                "order_id": {"kind": "reference", "to": "orders.order_id", "pick": "hotspot",
                             "hot": HOT, "share": HOT_SHARE},
                "tier": {"kind": "lookup", "from": "customer_id.tier"},
                "priority": {"kind": "categorical", "values": ["low"], "by": "customer_id.tier",
                             "cases": {tier: {"values": shares} for tier, shares in PRIORITY_BY_TIER.items()}},
                "resolution_hours": {"kind": "exponential", "scale": 1, "by": "priority",
                                     "cases": {p: {"scale": s} for p, s in HOURS_BY_PRIORITY.items()}},
                "csat": {"kind": "categorical", "values": [3], "by": "resolution_hours", "bins": [8, 24],
                         "cases": {label: {"values": shares} for label, shares in CSAT_BY_BIN.items()}},
                "created_at": {"kind": "timestamp", "start": "-1y", "end": "today",
                               "after": "customer_id.created_at"},
                "first_response_at": {"kind": "timestamp", "start": "-1y", "end": "today", "after": "created_at",
                                      "lag": {"kind": "exponential", "scale": FIRST_RESPONSE_HOURS},
                                      "lag_unit": "hours"},
                "resolved_at": {"kind": "timestamp", "start": "-1y", "end": "today", "after": "created_at",
                                "lag": "resolution_hours", "lag_unit": "hours"},
            },
        },
    },
}

TABLES = tuple(SHOP["tables"])


@dataclass(frozen=True)
class Run:
    """One way of cutting the same data: logical block size, files/row groups, workers."""

    name: str
    block_rows: int
    layout: Layout
    workers: int


SAME_BLOCKS = 1024
"""Runs with this block size must write identical content, whatever the files and workers."""

RUNS = (
    Run("b1024-one-block-files", SAME_BLOCKS, Layout(blocks_per_file=1, blocks_per_row_group=1), 1),
    Run("b1024-3x2-two-workers", SAME_BLOCKS, Layout(blocks_per_file=3, blocks_per_row_group=2), 2),
    Run("b1024-default-three-workers", SAME_BLOCKS, Layout(), 3),
    Run("b700-2x1-three-workers", 700, Layout(blocks_per_file=2, blocks_per_row_group=1), 3),
    Run("default-blocks", 65_536, Layout(), 2),
)


def write_run(run: Run, out: Path) -> Path:
    plan = compile_plan(build_spec(SHOP), block_rows=run.block_rows, layout=run.layout)
    fabula.generate(plan, out, workers=run.workers)
    return out


def connect(out: Path) -> duckdb.DuckDBPyConnection:
    """DuckDB over the written files: one view per table, with `_row`, the row's position in
    the table (part files in order, then rows within each file)."""
    db = duckdb.connect()
    for table in TABLES:
        files = str(out / table / "part-*.parquet")
        db.execute(f"""
            CREATE VIEW {table} AS
            SELECT * EXCLUDE (filename, file_row_number),
                   row_number() OVER (ORDER BY filename, file_row_number) - 1 AS _row
            FROM read_parquet('{files}', filename = true, file_row_number = true)""")
    return db


def scalar(db: duckdb.DuckDBPyConnection, sql: str):
    """The single value a query returns."""
    return db.execute(sql).fetchone()[0]
