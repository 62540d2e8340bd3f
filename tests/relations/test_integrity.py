"""Relational integrity of the shop (relations/shop.py), proved on the Parquet files as written,
read back with DuckDB, for every block size, file layout and worker count in `RUNS`: keys
unique, zero orphans, lookups equal to the parent's value, children never before their parents,
per-parent children contiguous and in parent order, aggregates equal to SQL's."""

from __future__ import annotations

import json

import pytest

from helpers import content_digest, read_table
from relations.shop import RUNS, SAME_BLOCKS, TABLES, scalar

KEYS = {"customers": "customer_id", "products": "product_id", "orders": "order_id",
        "order_items": "item_id", "tickets": "ticket_id"}

# (child table, reference column, parent table, parent key)
REFERENCES = [
    ("orders", "customer_id", "customers", "customer_id"),
    ("order_items", "order_id", "orders", "order_id"),
    ("order_items", "product_id", "products", "product_id"),
    ("tickets", "customer_id", "customers", "customer_id"),
    ("tickets", "order_id", "orders", "order_id"),
]

# (child, reference, parent): tables sized per parent, and the reference that owns each row
PER_PARENT = [("orders", "customer_id", "customers"), ("order_items", "order_id", "orders")]

# (child, column, reference, parent column): values read through a reference
LOOKUPS = [
    ("orders", "tier", "customer_id", "tier"),
    ("order_items", "unit_price", "product_id", "price"),
    ("tickets", "tier", "customer_id", "tier"),
]

# (child, later column, earlier value as SQL over child `c` and parent `p` (or None), reference)
NEVER_BEFORE = [
    ("orders", "c.order_date", "p.created_at", "customer_id"),
    ("order_items", "c.shipped_at", "CAST(p.order_date AS TIMESTAMP)", "order_id"),
    ("tickets", "c.created_at", "CAST(p.created_at AS TIMESTAMP)", "customer_id"),
    ("tickets", "c.first_response_at", "c.created_at", None),
    ("tickets", "c.resolved_at", "c.created_at", None),
]

# (parent, aggregate column, child, child's reference to the parent, SQL over children `c`,
#  how to compare: exact, or relative to 1e-9 for float sums and means)
AGGREGATES = [
    ("customers", "n_orders", "orders", "customer_id", "count(c.order_id)", "exact"),
    ("customers", "spend", "orders", "customer_id", "coalesce(sum(c.items_total), 0)", "relative"),
    ("customers", "order_amount", "orders", "customer_id", "round(coalesce(sum(c.amount), 0), 2)", "exact"),
    ("customers", "mean_amount", "orders", "customer_id", "avg(c.amount)", "relative"),
    ("customers", "first_order", "orders", "customer_id", "min(c.order_date)", "exact"),
    ("customers", "last_order", "orders", "customer_id", "max(c.order_date)", "exact"),
    ("orders", "n_items", "order_items", "order_id", "count(c.item_id)", "exact"),
    ("orders", "items_total", "order_items", "order_id", "coalesce(sum(c.line_amount), 0)", "relative"),
    ("orders", "max_line", "order_items", "order_id", "max(c.line_amount)", "exact"),
    ("orders", "last_shipped", "order_items", "order_id", "max(c.shipped_at)", "exact"),
]


def parent_key(parent: str) -> str:
    return KEYS[parent]


# -- what was written ---------------------------------------------------------------------------


def test_every_table_has_rows_and_the_manifest_counts_them(run_db, shop_outputs, request):
    run = request.node.callspec.params["run_db"]
    manifest = json.loads((shop_outputs[run] / "manifest.json").read_text())
    for table in TABLES:
        rows = scalar(run_db, f"SELECT count(*) FROM {table}")
        assert rows > 0, table
        assert manifest["tables"][table]["rows"] == rows, table


@pytest.mark.parametrize("table", TABLES)
def test_keys_are_unique_and_never_null(run_db, table):
    key = KEYS[table]
    total, distinct, nulls = run_db.execute(
        f"SELECT count(*), count(DISTINCT {key}), count(*) - count({key}) FROM {table}").fetchone()
    assert nulls == 0
    assert distinct == total


# -- references ---------------------------------------------------------------------------------


@pytest.mark.parametrize("child, column, parent, key", REFERENCES, ids=[f"{c}.{r}" for c, r, *_ in REFERENCES])
def test_zero_orphans(run_db, child, column, parent, key):
    """Every reference value is a key of its parent (and none is null: no `nulls` declared)."""
    rows, nulls, orphans = run_db.execute(f"""
        SELECT count(*), count(*) - count(c.{column}),
               count(*) FILTER (WHERE c.{column} IS NOT NULL AND p.{key} IS NULL)
        FROM {child} c LEFT JOIN {parent} p ON p.{key} = c.{column}""").fetchone()
    assert rows == scalar(run_db, f"SELECT count(*) FROM {child}"), "a parent key matched twice"
    assert rows > 0
    assert (nulls, orphans) == (0, 0)


@pytest.mark.parametrize("child, column, reference, parent_column", LOOKUPS,
                         ids=[f"{c}.{col}" for c, col, *_ in LOOKUPS])
def test_lookups_equal_the_parents_value(run_db, child, column, reference, parent_column):
    parent = next(p for c, r, p, _ in REFERENCES if (c, r) == (child, reference))
    mismatched = scalar(run_db, f"""
        SELECT count(*) FROM {child} c JOIN {parent} p ON p.{parent_key(parent)} = c.{reference}
        WHERE c.{column} IS DISTINCT FROM p.{parent_column}""")
    assert mismatched == 0


# -- tables sized per parent --------------------------------------------------------------------


@pytest.mark.parametrize("child, reference, parent", PER_PARENT, ids=[c for c, *_ in PER_PARENT])
def test_children_are_contiguous_and_in_parent_order(run_db, child, reference, parent):
    """Walking the child table in file order, the owning parent's row never goes back: each
    parent's children form one run, and runs come in the parents' order."""
    backwards, rows = run_db.execute(f"""
        SELECT count(*) FILTER (WHERE parent_row < previous), count(*)
        FROM (SELECT p._row AS parent_row, lag(p._row) OVER (ORDER BY c._row) AS previous
              FROM {child} c JOIN {parent} p ON p.{parent_key(parent)} = c.{reference})""").fetchone()
    assert rows == scalar(run_db, f"SELECT count(*) FROM {child}")
    assert backwards == 0


@pytest.mark.parametrize("child, reference, parent", PER_PARENT, ids=[c for c, *_ in PER_PARENT])
def test_some_parents_have_no_children_and_some_many(run_db, child, reference, parent):
    """The counts really vary (so contiguity and aggregates are tested on uneven groups)."""
    childless, most = run_db.execute(f"""
        SELECT count(*) FILTER (WHERE n = 0), max(n)
        FROM (SELECT p.{parent_key(parent)}, count(c.{reference}) AS n
              FROM {parent} p LEFT JOIN {child} c ON c.{reference} = p.{parent_key(parent)}
              GROUP BY ALL)""").fetchone()
    assert childless > 0
    assert most >= 5


# -- time -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("child, later, earlier, reference", NEVER_BEFORE,
                         ids=[f"{c}.{later[2:]}" for c, later, *_ in NEVER_BEFORE])
def test_children_never_predate_parents(run_db, child, later, earlier, reference):
    if reference is None:
        source = f"{child} c"
    else:
        parent = next(p for c, r, p, _ in REFERENCES if (c, r) == (child, reference))
        source = f"{child} c JOIN {parent} p ON p.{parent_key(parent)} = c.{reference}"
    rows, before, unknown = run_db.execute(f"""
        SELECT count(*), count(*) FILTER (WHERE {later} < {earlier}),
               count(*) - count({later}) FROM {source}""").fetchone()
    assert rows == scalar(run_db, f"SELECT count(*) FROM {child}")
    assert (before, unknown) == (0, 0)


def test_resolved_exactly_resolution_hours_after_created(run_db):
    """`after: created_at` with `lag: resolution_hours` (hours): the gap is the column's value,
    to the microsecond."""
    worst = scalar(run_db, """
        SELECT max(abs(epoch_us(resolved_at) - epoch_us(created_at) - resolution_hours * 3600e6))
        FROM tickets""")
    assert worst <= 1.0


def test_first_and_last_order_bracket_the_customers_orders(run_db):
    wrong = scalar(run_db, """
        SELECT count(*) FROM customers
        WHERE n_orders > 0 AND NOT (created_at <= first_order AND first_order <= last_order)""")
    assert wrong == 0


# -- aggregates -----------------------------------------------------------------------------------


@pytest.mark.parametrize("parent, column, child, reference, sql, compare", AGGREGATES,
                         ids=[f"{p}.{col}" for p, col, *_ in AGGREGATES])
def test_aggregates_equal_the_childrens_values(run_db, parent, column, child, reference, sql, compare):
    """Recomputed by SQL from the child rows as written (a parent without children: count and
    sum 0, min, max and mean null)."""
    key = parent_key(parent)
    if compare == "exact":
        agrees = "a.{column} IS NOT DISTINCT FROM e.expected"
    else:
        agrees = ("(a.{column} IS NULL AND e.expected IS NULL) "
                  "OR abs(a.{column} - e.expected) <= 1e-9 * abs(e.expected)")
    rows, wrong, nulls = run_db.execute(f"""
        WITH e AS (SELECT p.{key} AS k, {sql} AS expected
                   FROM {parent} p LEFT JOIN {child} c ON c.{reference} = p.{key} GROUP BY p.{key})
        SELECT count(*), count(*) FILTER (WHERE NOT ({agrees.format(column=column)})),
               count(*) - count(a.{column})
        FROM {parent} a JOIN e ON e.k = a.{key}""").fetchone()
    assert rows == scalar(run_db, f"SELECT count(*) FROM {parent}")
    assert wrong == 0
    expected_nulls = scalar(run_db, f"""
        SELECT count(*) FROM {parent} p WHERE NOT EXISTS (SELECT 1 FROM {child} c WHERE c.{reference} = p.{key})""")
    assert nulls == (expected_nulls if sql.startswith(("avg", "min", "max")) else 0)


@pytest.mark.parametrize("table, column", [("customers", "order_amount"), ("orders", "amount"),
                                           ("order_items", "line_amount"), ("products", "price")])
def test_rounded_columns_hold_exact_decimals(run_db, table, column):
    """`round: 2` (here on an aggregate, a conditional and a lookup's source) and the expression
    `round(.., 2)` give the double nearest the decimal, not one a hair off it (42.620000000000005)."""
    off = scalar(run_db, f"SELECT count(*) FILTER (WHERE {column} <> round({column}, 2)) FROM {table}")
    assert off == 0


def test_child_totals_add_up_across_the_chain(run_db):
    """customers.n_orders adds up to the orders table, orders.n_items to order_items, and the
    customers' spend to the sum of every line."""
    orders, items, lines = run_db.execute(
        "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM order_items), "
        "(SELECT sum(line_amount) FROM order_items)").fetchone()
    n_orders, spend = run_db.execute("SELECT sum(n_orders), sum(spend) FROM customers").fetchone()
    assert n_orders == orders
    assert scalar(run_db, "SELECT sum(n_items) FROM orders") == items
    assert spend == pytest.approx(lines, rel=1e-9)


# -- layouts ----------------------------------------------------------------------------------------


def test_same_block_size_same_content_whatever_the_files_and_workers(shop_outputs):
    """Runs that share the block size write identical tables, however files, row groups and
    workers cut the work."""
    same = [run.name for run in RUNS if run.block_rows == SAME_BLOCKS]
    assert len(same) >= 3
    digests = {name: {table: content_digest(read_table(shop_outputs[name], table)) for table in TABLES}
               for name in same}
    first = digests[same[0]]
    for name in same[1:]:
        assert digests[name] == first, name
    files = {name: len(list((shop_outputs[name] / "orders").glob("part-*.parquet"))) for name in same}
    assert len(set(files.values())) > 1, "the runs should really cut the files differently"
