"""`changes:` on a table: how its rows change after they are first written, emitted as a
change feed (Delta Change Data Feed's columns, or Debezium-style) and/or SCD type-2 history.

    tables:
      customers:
        rows: 1000
        columns: {...}
        changes:
          commits: 30          # versions after the initial one
          every: 1             # days between commits; the last commit is at as_of
          updates: 0.05        # share of the live rows updated in each commit
          deletes: 0.01        # share of the live rows deleted in each commit
          columns: [tier, arr] # what an update changes (default: every column but keys)
          emit: [cdf, scd2]    # tables <name>_changes (cdf or debezium) and <name>_history (scd2)
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

EMITS = ("cdf", "debezium", "scd2")
KEY_KINDS = ("id", "sequence", "uuid")


class ChangeSpec(BaseModel):
    """The declared rates of change of one table (docs/formats.md#change-data)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    commits: int = Field(10, ge=1, le=10_000, description="versions after the initial snapshot")
    every: int = Field(1, ge=1, le=3650, description="days between two commits; the last one is at as_of")
    updates: float = Field(0.1, ge=0, le=1, description="share of the live rows updated in each commit")
    deletes: float = Field(0.0, ge=0, le=1, description="share of the live rows deleted in each commit")
    columns: tuple[str, ...] = Field((), description="the columns an update changes (default: all but keys)")
    emit: tuple[Literal["cdf", "debezium", "scd2"], ...] = Field(
        ("cdf",), description="cdf: <table>_changes with Delta CDF columns; debezium: <table>_changes with "
                              "op/before/after; scd2: <table>_history with valid_from/valid_to/is_current")

    @field_validator("emit", "columns", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return (value,) if isinstance(value, str) else value

    @field_validator("emit")
    @classmethod
    def _one_feed(cls, value):
        if "cdf" in value and "debezium" in value:
            raise ValueError("emit cdf or debezium, not both: each writes <table>_changes")
        if not value:
            raise ValueError("emit at least one of: cdf, debezium, scd2")
        return value


def changing_tables(spec) -> list[str]:
    """The tables of a spec that declare `changes:`, in the spec's order."""
    return [name for name, table in spec.tables.items() if getattr(table, "changes", None) is not None]


def emitted_tables(table: str, changes: ChangeSpec) -> dict[str, str]:
    """{output table name: what it holds} for a table's `changes:`.

    >>> emitted_tables("customers", ChangeSpec(emit=["cdf", "scd2"]))
    {'customers_changes': 'cdf', 'customers_history': 'scd2'}
    """
    names: dict[str, str] = {}
    for emit in changes.emit:
        names[f"{table}_history" if emit == "scd2" else f"{table}_changes"] = emit
    return names


def change_issues(table: str, changes: ChangeSpec, columns: dict, table_names) -> list[tuple[tuple, str, str]]:
    """(path inside the table, what is wrong, hint) for a `changes:` that does not fit its table."""
    found: list[tuple[tuple, str, str]] = []
    for position, name in enumerate(changes.columns):
        column = columns.get(name)
        if column is None:
            found.append((("changes", "columns", position), f"no column {name!r} in table {table!r}",
                          f"columns: {', '.join(columns)}"))
        elif getattr(column, "kind", None) in KEY_KINDS or getattr(column, "kind", None) == "reference":
            found.append((("changes", "columns", position), f"{name!r} is a key; updates never change keys",
                          "list the columns whose values change"))
    for name in emitted_tables(table, changes):
        if name in table_names:
            found.append((("changes", "emit"), f"the table {name!r} already exists, and `changes:` writes one "
                                                 "of that name", "rename that table"))
    return found
