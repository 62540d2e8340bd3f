"""The shop the validation tests break: a spec with keys, references, aggregates, a promotion
spike and expectations, and helpers to tamper with its Parquet files."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.parquet as pq

SHOP = """\
name: shop
seed: 11
as_of: 2024-12-31
tables:
  customers:
    rows: 20000
    columns:
      customer_id: {kind: id, format: "C-{:06d}"}
      tier: {kind: categorical, values: {Free: 60, Pro: 30, Enterprise: 10}}
      signup: {kind: date, start: 2023-01-01, end: 2023-12-31}
      n_orders: {kind: aggregate, fn: count, of: orders}
      spend: {kind: aggregate, fn: sum, of: orders.amount, round: 2}
  orders:
    rows: {per: customers, count: {kind: poisson, lam: 4}}
    columns:
      order_id: {kind: id, format: "O-{:07d}"}
      customer_id: {kind: reference, to: customers.customer_id}
      status: {kind: categorical, values: {completed: 80, pending: 15, cancelled: 5}}
      promo: {kind: boolean, p: 0.1}
      ordered_at:
        kind: date
        by: promo
        cases:
          true: {start: 2024-03-01, end: 2024-03-07}
          false: {start: 2024-01-01, end: 2024-12-31}
      shipped_at: {kind: date, start: 2024-01-01, end: 2024-12-31, after: ordered_at,
                   lag: {kind: exponential, scale: 3}, nulls: 0.1}
      first_seen: {kind: date, start: 2023-06-01, end: 2024-12-31, after: customer_id.signup}
      amount: {kind: lognormal, mean: 3.5, sigma: 0.6, round: 2}
      items: {kind: poisson, lam: 2.5, clip: {min: 1}}
expect:
  - name: completed orders average 30-50
    sql: "select avg(amount) from orders where status = 'completed'"
    between: [30, 50]
  - name: the spring sale spikes orders
    uplift: {table: orders, time: ordered_at, window: [2024-03-01, 2024-03-07]}
    between: [3, 30]
  - name: most orders complete
    share: {table: orders, column: status, value: completed}
    between: [0.75, 0.85]
  - name: promo orders are as big as the others
    ratio:
      table: orders
      numerator: {value: avg(amount), where: promo}
      denominator: {value: avg(amount), where: not promo}
    between: [0.9, 1.1]
"""


def rewrite(out: Path, table: str, change: Callable[[pa.Table], pa.Table]) -> None:
    """Replace a table's rows with `change(rows)`, written back as fabula writes them."""
    files = sorted((out / table).glob("part-*.parquet"))
    assert len(files) == 1, "the shop's tables are one part file each"
    rows = pq.read_table(files[0])
    changed = change(rows)
    pq.write_table(changed, files[0], row_group_size=262_144)


def with_values(rows: pa.Table, column: str, edit: Callable[[list], list]) -> pa.Table:
    """`rows` with one column's values replaced by `edit(values)` (same type)."""
    position = rows.schema.get_field_index(column)
    field = rows.schema.field(column)
    values = edit(rows.column(column).to_pylist())
    if pa.types.is_dictionary(field.type):
        array = pa.array(values, type=field.type.value_type).dictionary_encode()
    else:
        array = pa.array(values, type=field.type)
    return rows.set_column(position, field, array)
