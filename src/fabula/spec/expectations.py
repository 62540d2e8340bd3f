"""Declared expectations (`expect:`) and validation settings (`validation:`), as a spec writes them.

An expectation is a named number computed from the generated tables and the bounds it must
fall in. It is written as SQL (run by DuckDB over the written files, each table a view named
after it) or as one of a few readable forms that fabula turns into SQL:

    expect:
      - name: completed orders average 20-200
        sql: "select avg(amount) from orders where status = 'completed'"
        between: [20, 200]
      - name: Enterprise orders are bigger than Free ones
        ratio: {table: orders, numerator: {value: avg(amount), where: "channel = 'sales_rep'"},
                denominator: {value: avg(amount), where: "channel = 'web'"}}
        between: [1.5, null]                     # null: no bound on that side
      - name: most orders complete
        share: {table: orders, column: status, value: completed}
        between: [0.8, 0.9]
      - name: the spring sale doubles orders
        uplift: {table: orders, time: ordered_at, window: [2024-03-01, 2024-03-07]}
        between: [1.8, 2.5]
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fabula.spec.dates import DateBound, parse_bound

Scalar = str | int | float | bool | date
FORMS = ("sql", "ratio", "share", "uplift")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Aggregate(_Frozen):
    """One side of a ratio: an aggregate over a table, optionally filtered. A plain string is
    the `value`: `numerator: sum(amount)`."""

    value: str = Field(description="an SQL aggregate, e.g. avg(amount), sum(amount) or count(*)")
    table: str | None = Field(None, description="the table (default: the ratio's `table`)")
    where: str | None = Field(None, description="an SQL filter, e.g. status = 'completed'")

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        return {"value": value} if isinstance(value, str) else value


class Ratio(_Frozen):
    """numerator / denominator, two aggregates (of the same table unless each names its own)."""

    table: str | None = Field(None, description="the table both sides aggregate, unless a side names its own")
    where: str | None = Field(None, description="an SQL filter applied to both sides")
    numerator: Aggregate
    denominator: Aggregate

    @model_validator(mode="after")
    def _tables_named(self) -> Ratio:
        if self.table is None and (self.numerator.table is None or self.denominator.table is None):
            raise ValueError("a ratio needs `table:`, or a `table` on both numerator and denominator — "
                             "e.g. ratio: {table: orders, numerator: avg(amount), denominator: ...}")
        return self

    def side_table(self, side: Aggregate) -> str:
        return side.table or self.table  # type: ignore[return-value]


class Share(_Frozen):
    """The share of rows (optionally within a filter) whose `column` holds `value` (or one of a list)."""

    table: str
    column: str
    value: Scalar | list[Scalar] = Field(description="the value counted, or a list of values")
    where: str | None = Field(None, description="an SQL filter: the share is of the rows it keeps")

    @property
    def values(self) -> list[Scalar]:
        return list(self.value) if isinstance(self.value, list) else [self.value]


class Uplift(_Frozen):
    """Rows per day inside a window of days divided by rows per day outside it (within the days
    the table's `time` column covers): 2 means the window has twice the usual daily volume."""

    table: str
    time: str = Field(description="the date or timestamp column that places rows in time")
    window: tuple[DateBound, DateBound] = Field(description="[first day, last day], "
                                                            "e.g. [2024-03-01, 2024-03-07] or [-30d, -23d]")
    where: str | None = Field(None, description="an SQL filter: only these rows are counted")

    @field_validator("window", mode="before")
    @classmethod
    def _bounds(cls, value: Any) -> Any:
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise ValueError("`window` takes two days, [start, end] — "
                             "e.g. window: [2024-03-01, 2024-03-07] or [-30d, -23d]")
        return tuple(parse_bound(bound) for bound in value)


class Expectation(_Frozen):
    """A named number from the generated data and the bounds it must fall in."""

    name: str = Field(description="what the report calls this expectation, e.g. completed orders average 20-200")
    description: str | None = None
    sql: str | None = Field(None, description="a query returning one number, e.g. select avg(amount) from orders")
    ratio: Ratio | None = None
    share: Share | None = None
    uplift: Uplift | None = None
    between: tuple[float | None, float | None] = Field(
        description="[low, high]: the bounds the number must fall in (inclusive); null leaves a side open")

    @field_validator("between", mode="before")
    @classmethod
    def _pair(cls, value: Any) -> Any:
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise ValueError("`between` takes two bounds, [low, high] — "
                             "e.g. between: [0.8, 0.9], or [1.5, null] for no upper bound")
        return value

    @field_validator("between")
    @classmethod
    def _ordered(cls, between: tuple[float | None, float | None]) -> tuple[float | None, float | None]:
        low, high = between
        if low is None and high is None:
            raise ValueError("`between` needs at least one bound — e.g. between: [0.8, 0.9] or [1.5, null]")
        if low is not None and high is not None and low > high:
            raise ValueError(f"`between` is [low, high], and {low:g} is above {high:g} — swap them")
        return between

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("the name is empty — say what the expectation checks, e.g. name: most orders complete")
        return name

    @field_validator("sql")
    @classmethod
    def _query(cls, sql: str | None) -> str | None:
        if sql is not None and not sql.strip():
            raise ValueError("the query is empty — e.g. select avg(amount) from orders")
        return sql

    @model_validator(mode="after")
    def _one_form(self) -> Expectation:
        given = [form for form in FORMS if getattr(self, form) is not None]
        if len(given) != 1:
            what = "none" if not given else " and ".join(f"`{form}`" for form in given)
            raise ValueError(f"it takes exactly one of sql, ratio, share or uplift (got {what}) — "
                             "e.g. sql: select avg(amount) from orders")
        return self

    @property
    def form(self) -> str:
        return next(form for form in FORMS if getattr(self, form) is not None)

    def tables(self) -> list[tuple[str, tuple[str, ...]]]:
        """(table, path of the key naming it) for every table a named form reads."""
        if self.ratio is not None:
            found: list[tuple[str, tuple[str, ...]]] = ([(self.ratio.table, ("ratio", "table"))] if self.ratio.table
                                                        else [])
            for side in ("numerator", "denominator"):
                table = getattr(self.ratio, side).table
                if table is not None:
                    found.append((table, ("ratio", side, "table")))
            return found
        form = self.share or self.uplift
        return [(form.table, (self.form, "table"))] if form is not None else []


class ValidationSettings(_Frozen):
    """`validation: {strict: true}`: failed checks make `fabula generate` and `fabula validate`
    exit with code 3, as `--strict` does."""

    strict: bool = Field(False, description="true makes failed checks exit with code 3")
