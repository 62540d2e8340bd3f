"""Defects in a batch appended to an output (`--mode append`): where its rows and keys start.

A batch's plan knows the plans of the batches before it (`plan.earlier`), and a batch's
defects are a pure function of its plan, so everything here is computed from plans alone,
without reading a file:

- **rows continue**: a label's `row` is its row's number in the whole appended table, i.e. the
  batch's own row number plus the rows (copies included) every earlier batch wrote
  (`rows_before`), the same ranges the manifest's history records;
- **keys never collide**: a key no row has (an orphan's parent key, a `new_key` copy's key) is
  made by the batch's own key generator past its own rows (`beyond_keys`), never by an earlier
  batch's plan, and the next batch's ids start after every key this one used (`keys_end`), so
  a later batch never writes the key of an earlier batch's orphan or new-key copy.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from fabula.plan.model import Plan


def written_rows(plan: Plan, table: str) -> int:
    """The rows `plan`'s batch writes in `table`: its rows, and the copies its duplicates add."""
    from fabula.defects.compile import compile_defects

    defects = compile_defects(plan).get(table)
    return defects.written_rows if defects is not None else plan.table(table).rows


def rows_before(plan: Plan, table: str) -> int:
    """The rows of `table` the batches before `plan`'s wrote (0 for a first batch)."""
    return sum(written_rows(earlier, table) for earlier in plan.earlier if _has(earlier, table))


def keys_end(plan: Plan, table: str) -> int:
    """One past the last key index `plan`'s batch uses in `table`, counted from its first id:
    its rows, the keys its `new_key` copies take (`rows + written row`), and the keys the orphans
    of any table pointing at it take (`rows + [0, rows)`)."""
    from fabula.defects.compile import compile_defects

    own = plan.table(table).rows
    end = own
    for defects in compile_defects(plan).values():
        for defect in defects.defects:
            if defect.kind == "duplicate" and defect.form == "new_key" and defects.table.name == table:
                end = max(end, own + defects.written_rows)
            if defect.kind == "orphan" and any(parent == table for column, parent, _ in defects.parents
                                               if column == defect.column):
                end = max(end, own + max(own, 1))
    return end


def key_offsets(earlier: tuple[Plan, ...]) -> dict[str, int]:
    """Where the next batch's ids start, per table: after every key the earlier batches used.
    Without defects that is the rows they wrote, as the manifest's history records them."""
    offsets: dict[str, int] = {}
    for plan in earlier:
        for table in plan.tables:
            offsets[table.name] = offsets.get(table.name, 0) + keys_end(plan, table.name)
    return offsets


def beyond_keys(plan: Plan, table: str, column: str, rows: np.ndarray) -> pa.Array:
    """The keys `column` of `table` would have at row indexes past the batch's own rows, from
    the batch's own generator. (`PlanReader.keys` reads such rows as earlier batches' rows in an
    appended batch: an orphan or a new key must be a key no batch has.)"""
    from fabula.plan.blocks import PlanReader

    return PlanReader(plan)._own_keys(table, column, np.asarray(rows, dtype=np.int64))


def continue_rows(plan: Plan, labels: pa.Table, *, sign: int = 1) -> pa.Table:
    """A batch's labels with `row` counted over the whole appended table (`rows_before` added);
    with `sign=-1`, the way back: counted from the batch's own first rows, as validating the
    batch alone needs them (`own_rows`)."""
    import pyarrow.compute as pc

    if not plan.earlier or not labels.num_rows:
        return labels
    tables = labels.column("table").to_pylist()
    shift = {name: sign * rows_before(plan, name) for name in set(tables)}
    rows = pc.add(labels.column("row"), pa.array([shift[name] for name in tables], pa.int64()))
    return labels.set_column(labels.schema.get_field_index("row"), labels.schema.field("row"), rows)


def own_rows(plan: Plan, labels: pa.Table) -> pa.Table:
    """The labels of `plan`'s batch, `row` counted from the batch's own first row of each table."""
    return continue_rows(plan, labels, sign=-1)


def _has(plan: Plan, table: str) -> bool:
    return any(candidate.name == table for candidate in plan.tables)


__all__ = ["written_rows", "rows_before", "keys_end", "key_offsets", "beyond_keys", "continue_rows", "own_rows"]
