"""Relations between tables as a spec writes them: references (foreign keys), values read from a
parent, aggregates of children, and tables sized per parent row."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fabula.spec.columns import ColumnSpec, column_kind


def split_target(target: str) -> tuple[str, str]:
    """`customers.customer_id` → ('customers', 'customer_id')."""
    table, _, column = target.partition(".")
    return table, column


@column_kind("reference")
class ReferenceColumn(ColumnSpec):
    """A foreign key: the key of a parent row, chosen uniformly, with skew, or weighted by a
    parent column. Always a valid parent key (keys are computed from the parent row number)."""

    to: str = Field(description="the parent key as table.column, e.g. customers.customer_id",
                    pattern=r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")
    pick: Literal["uniform", "zipf", "hotspot", "weighted"] = "uniform"
    a: float | None = Field(None, gt=0, description="the Zipf exponent for pick: zipf (about 1)")
    hot: float | None = Field(None, gt=0, lt=1, description="the share of parents that are hot (pick: hotspot)")
    share: float | None = Field(None, gt=0, lt=1, description="the share of rows the hot parents get (pick: hotspot)")
    weight_by: str | None = Field(None, description="the parent column whose value sets each parent's weight")
    weights: dict[Any, float] | None = Field(None, description="weight per value of weight_by, "
                                                               "e.g. {Enterprise: 5, Free: 1}")
    match: str | dict[str, str] | None = Field(
        None, description="pick only parents whose column equals this row's: `city` (the same name in both), "
                          "or {parent_column: row_column}")

    @model_validator(mode="before")
    @classmethod
    def _match_pair(cls, data: Any) -> Any:
        match = data.get("match") if isinstance(data, dict) else None
        if isinstance(match, dict) and len(match) != 1:
            raise ValueError("`match` pairs one parent column with one column of the row, e.g. "
                             "match: city or match: {city: pickup_city}")
        return data

    @model_validator(mode="after")
    def _parameters_match_pick(self) -> ReferenceColumn:
        needed = {"zipf": ("a",), "hotspot": ("hot", "share"), "weighted": ("weight_by", "weights")}
        for pick, names in needed.items():
            for name in names:
                given = getattr(self, name) is not None
                if pick == self.pick and not given:
                    raise ValueError(f"pick: {pick} needs `{name}`")
                if pick != self.pick and given:
                    raise ValueError(f"`{name}` only applies to pick: {pick} (this reference picks {self.pick})")
        if self.weights is not None:
            if any(not weight >= 0 for weight in self.weights.values()) or not any(self.weights.values()):
                raise ValueError("weights must be zero or positive, and not all zero")
        if self.unique:
            raise ValueError("a reference cannot be unique; for one row per parent, size the table "
                             "`rows: {per: <parent>, count: 1}`")
        if self.match is not None and self.pick != "uniform":
            raise ValueError(f"`match` picks uniformly among the matching parents, so pick: {self.pick} does not "
                             "combine with it — drop one of them")
        return self

    @property
    def parent(self) -> tuple[str, str]:
        return split_target(self.to)

    @property
    def matched(self) -> tuple[str, str] | None:
        """(parent column, this row's column) that must be equal, or None."""
        if self.match is None:
            return None
        if isinstance(self.match, str):
            return self.match, self.match
        return next(iter(self.match.items()))

    def own_refs(self) -> frozenset[str]:
        return frozenset({self.matched[1]}) if self.matched is not None else frozenset()


@column_kind("lookup")
class LookupColumn(ColumnSpec):
    """A parent's value copied through a reference: `from: customer_id.tier`."""

    numeric: ClassVar[bool] = True  # the parent's type decides; `round`/`clip` are checked when compiled
    from_: str = Field(alias="from", description="reference_column.parent_column, e.g. customer_id.tier",
                       pattern=r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def own_refs(self) -> frozenset[str]:
        return frozenset({self.from_})




@column_kind("aggregate")
class AggregateColumn(ColumnSpec):
    """An aggregate of this row's children, exactly equal to their values in the output:
    `{kind: aggregate, fn: sum, of: order_items.line_amount}` or `{fn: count, of: order_items}`."""

    numeric: ClassVar[bool] = True
    fn: Literal["count", "sum", "min", "max", "mean"]
    of: str = Field(description="child_table.column (or child_table for count)",
                    pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")

    @model_validator(mode="after")
    def _column_unless_count(self) -> AggregateColumn:
        if self.fn != "count" and "." not in self.of:
            raise ValueError(f"fn: {self.fn} needs the child column: of: {self.of}.<column>")
        return self

    @property
    def child(self) -> tuple[str, str | None]:
        table, _, column = self.of.partition(".")
        return table, column or None


class PerParent(BaseModel):
    """`rows: {per: customers, count: {kind: poisson, lam: 3}}`: each parent row gets `count`
    child rows, contiguous; `count` may depend on the parent's columns (`by: tier`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)
    per: str = Field(description="the parent table")
    count: Any = Field(description="a count per parent: a number or a count distribution")
