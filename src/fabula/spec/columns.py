"""Column kinds as they are written in a spec: one frozen model per kind, registered by name.

These models only describe and validate parameters (and say what the spec layer itself needs:
whether a kind draws numbers, whether it is a key). The generator of each kind is registered
against its model in `fabula.generators` (`generators.base.KINDS`), together with what
validation expects of it. The numeric distributions' models are in `spec/numeric.py`, which
`fabula.spec` imports, so the registry is complete whatever a caller imports.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from datetime import date
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fabula.spec.dates import DateBound, parse_bound
from fabula.spec.expressions import ExpressionError, Template, parse_expression, parse_template
from fabula.spec.story import EventOverride

COLUMN_KINDS: dict[str, type[ColumnSpec]] = {}

Scalar = str | int | float | bool | date


def column_kind(name: str):
    """Register a column model under its `kind:` name."""

    def register(cls: type[ColumnSpec]) -> type[ColumnSpec]:
        if name in COLUMN_KINDS:
            raise ValueError(f"column kind {name!r} registered twice")
        cls.kind_name = name
        COLUMN_KINDS[name] = cls
        return cls

    return register


class Clip(BaseModel):
    """Bounds applied after drawing; either side may be left open."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    min: float | date | None = None
    max: float | date | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_pair(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            if len(value) != 2:
                raise ValueError("clip takes two bounds: [min, max] or {min: .., max: ..}")
            return {"min": value[0], "max": value[1]}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Clip:
        if self.min is not None and self.max is not None and type(self.min) is type(self.max):
            if self.min > self.max:  # type: ignore[operator]  # of one type, tested above
                raise ValueError(f"clip min {self.min} is above clip max {self.max}")
        return self


class ColumnSpec(BaseModel):
    """What every kind accepts: the modifiers applied after values are drawn."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)
    kind_name: ClassVar[str] = ""
    numeric: ClassVar[bool] = False
    """Whether the kind draws numbers, so that `round` applies."""
    key: ClassVar[bool] = False
    """Whether values are computed from the row number, so they are unique and a reference
    can point to them."""

    kind: str
    """Filled in from the class when built in Python: `LogNormalColumn(mean=3, sigma=1)`."""
    nulls: float = Field(0.0, ge=0.0, le=1.0, description="fraction of rows set to null")
    round: int | None = Field(None, ge=0, le=12, description="decimals to round to")
    clip: Clip | None = None
    unique: bool = Field(False, description="every value distinct, guaranteed by construction")
    description: str | None = None
    during: tuple[EventOverride, ...] = Field((), description="how rows inside an event's window are drawn")
    hidden: bool = Field(False, description="computed and readable by other columns, but not written")
    when: str | None = Field(None, description="a condition on the row; where it is false the value is null, "
                                               "e.g. status == 'shipped'")

    @field_validator("when")
    @classmethod
    def _when_parses(cls, text: str | None) -> str | None:
        if text is not None:
            _parse_or_raise(parse_expression, text)
        return text

    @model_validator(mode="before")
    @classmethod
    def _kind_from_class(cls, data: Any) -> Any:
        if isinstance(data, dict) and "kind" not in data and cls.kind_name:
            return {"kind": cls.kind_name, **data}
        return data

    @field_validator("kind")
    @classmethod
    def _kind_matches(cls, kind: str) -> str:
        if cls.kind_name and kind != cls.kind_name:
            raise ValueError(f"this model is for `{cls.kind_name}` columns, not `{kind}`")
        return kind

    def refs(self) -> frozenset[str]:
        """What this column reads, as written: `tier`, or `customer_id.tier` through a reference,
        including what its event overrides read and the time column that places them."""
        return self.own_refs() | during_refs(self.during) | when_refs(self.when)

    def own_refs(self) -> frozenset[str]:
        """What the column's own parameters read (kinds that read columns override this)."""
        return frozenset()

    def depends_on(self) -> frozenset[str]:
        """Columns of the same row this column reads (for `fk.column`, the reference `fk`)."""
        return frozenset(ref.split(".", 1)[0] for ref in self.refs())

    def is_numeric(self) -> bool:
        return self.numeric


# -- keys -----------------------------------------------------------------------------------

_ID_FIELD = re.compile(r"^(0?\d*)d?$")


@column_kind("sequence")
class SequenceColumn(ColumnSpec):
    """Integers start, start+step, … by row: a surrogate key."""

    numeric: ClassVar[bool] = True
    key: ClassVar[bool] = True
    start: int = 0
    step: int = Field(1, description="must not be 0")
    order_by: str | None = Field(None, description="number the rows in the order of this date, timestamp or "
                                                   "number of the same row (chronological ids)")

    @field_validator("order_by")
    @classmethod
    def _same_row(cls, value: str | None) -> str | None:
        return _same_row_column(value)

    def own_refs(self) -> frozenset[str]:
        return frozenset({self.order_by}) if self.order_by is not None else frozenset()

    @field_validator("step")
    @classmethod
    def _nonzero(cls, step: int) -> int:
        if step == 0:
            raise ValueError("step must not be 0, or every row gets the same key")
        return step


@column_kind("id")
class IdColumn(ColumnSpec):
    """Formatted ids such as `CUST-00042`: unique by construction, derived from the row number."""

    key: ClassVar[bool] = True

    format: str = Field(description="a pattern with one integer field, e.g. CUST-{:05d}")
    start: int = Field(0, ge=0)
    order_by: str | None = Field(None, description="number the rows in the order of this date, timestamp or "
                                                   "number of the same row (chronological ids)")

    @field_validator("order_by")
    @classmethod
    def _same_row(cls, value: str | None) -> str | None:
        return _same_row_column(value)

    def own_refs(self) -> frozenset[str]:
        return frozenset({self.order_by}) if self.order_by is not None else frozenset()

    @field_validator("format")
    @classmethod
    def _one_integer_field(cls, pattern: str) -> str:
        try:
            fields = [f for f in string.Formatter().parse(pattern) if f[1] is not None]
        except ValueError as error:
            raise ValueError(f"format {pattern!r} is not a valid pattern ({error})") from None
        if len(fields) != 1 or fields[0][1] != "" or fields[0][3]:
            raise ValueError(f"format {pattern!r} needs exactly one field `{{}}` or `{{:05d}}`")
        if not _ID_FIELD.match(fields[0][2] or ""):
            raise ValueError(f"format {pattern!r}: only zero-padded integer fields like {{:05d}} work")
        return pattern

    @property
    def parts(self) -> tuple[str, int, str]:
        """(prefix, zero-pad width, suffix) of the pattern."""
        (prefix, _, spec, _), *rest = string.Formatter().parse(self.format)
        suffix = "".join(literal for literal, *_ in rest)
        digits = (spec or "").rstrip("d")
        return prefix, int(digits) if digits else 0, suffix


def _same_row_column(value: str | None) -> str | None:
    if value is not None and "." in value:
        raise ValueError(f"`order_by` names a column of the same table, not `{value}` — look the parent's "
                         "time up into a column first ({kind: lookup, from: ...})")
    return value


@column_kind("uuid")
class UuidColumn(ColumnSpec):
    """Version-4-shaped UUID strings derived from the row number: unique and reproducible."""

    key: ClassVar[bool] = True


# -- numeric distributions ------------------------------------------------------------------


class Distribution(ColumnSpec):
    """The base of the numeric distributions (`spec/numeric.py`; their generators and laws are
    in `generators/numeric.py`)."""

    numeric: ClassVar[bool] = True


# -- categorical and simple values -------------------------------------------------------------


@column_kind("categorical")
class CategoricalColumn(ColumnSpec):
    """One of `values`, drawn with the given weights (normalised; they need not sum to 1)."""

    values: dict[Scalar, float] = Field(description="value: weight, or a list for equal weights")

    @field_validator("values", mode="before")
    @classmethod
    def _list_means_equal_weights(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            if len(set(map(repr, value))) != len(value):
                raise ValueError("values lists a value twice")
            return {item: 1.0 for item in value}
        return value

    @field_validator("values")
    @classmethod
    def _positive_weights(cls, values: dict[Scalar, float]) -> dict[Scalar, float]:
        if not values:
            raise ValueError("values is empty: list at least one value with its weight")
        bad = {key: weight for key, weight in values.items() if not weight > 0}
        if bad:
            raise ValueError(
                f"weights must be positive, got {bad}; drop a value instead of weighting it 0"
            )
        return values

    @model_validator(mode="after")
    def _one_type(self) -> CategoricalColumn:
        kinds = {_scalar_family(value) for value in self.values}
        if len(kinds) > 1:
            raise ValueError(f"values mix types ({', '.join(sorted(kinds))}); use one type")
        return self

    @property
    def weights(self) -> dict[Scalar, float]:
        total = sum(self.values.values())
        return {value: weight / total for value, weight in self.values.items()}


def _scalar_family(value: Scalar) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, date):
        return "date"
    return "string"


@column_kind("boolean")
class BooleanColumn(ColumnSpec):
    """True with probability `p`."""

    p: float = Field(ge=0, le=1)


@column_kind("constant")
class ConstantColumn(ColumnSpec):
    """The same value on every row."""

    value: Scalar

    def is_numeric(self) -> bool:
        return isinstance(self.value, (int, float)) and not isinstance(self.value, bool)


# -- dates and times ----------------------------------------------------------------------------


LAG_UNITS = {"days": 86_400, "hours": 3_600, "minutes": 60, "seconds": 1}


class _Between(ColumnSpec):
    start: DateBound | None = Field(None, description="the first date, e.g. 2024-01-01 or -6mo")
    end: DateBound | None = Field(None, description="the last date (inclusive), e.g. today")
    timeline: str | None = Field(None, description="draw from a timeline's window and shape instead of start/end")
    after: str | None = Field(None, description="a column (or fk.column) this value never precedes")
    lag: str | float | dict[str, Any] | None = Field(
        None, description="how long after `after`: a number, a numeric column, or a distribution")
    lag_unit: Literal["days", "hours", "minutes", "seconds"] = "days"
    within: int | None = Field(None, gt=0, description="with `timeline` and `after`: at most this many days "
                                                       "after `after`, e.g. 30d")
    censor: bool | None = Field(None, description="null when the value would fall after the data's end "
                                                  "(default: yes with `timeline` and `after`, no otherwise)")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _bound(cls, value: Any) -> DateBound | None:
        return None if value is None else parse_bound(value)

    @field_validator("within", mode="before")
    @classmethod
    def _within_days(cls, value: Any) -> Any:
        from fabula.spec.story import parse_days

        return parse_days(value)

    @field_validator("lag")
    @classmethod
    def _lag_distribution(cls, lag: Any) -> Any:
        if isinstance(lag, dict):
            kind = lag.get("kind")
            model = COLUMN_KINDS.get(kind) if isinstance(kind, str) else None
            if model is None or not model.numeric:
                raise ValueError("a `lag` distribution needs a numeric `kind`, e.g. {kind: exponential, scale: 3}")
            model.model_validate(lag)  # its own parameter errors, reported at `lag`
        return lag

    @model_validator(mode="after")
    def _window(self) -> _Between:
        if self.lag is not None and self.after is None:
            raise ValueError("`lag` counts from `after`; add `after:` with the column it follows")
        if self.timeline is not None:
            if self.within is not None and self.after is None:
                raise ValueError("`within` counts from `after`; add `after:` with the time it follows")
            if self.start is not None or self.end is not None:
                raise ValueError("`timeline` sets the window, so leave out `start` and `end` — drop them, "
                                 "or drop `timeline` to draw between your own dates")
            if self.lag is not None:
                raise ValueError("a column drawn from a timeline after another time takes the timeline's "
                                 "shape, not a `lag` — drop `lag`, and bound the wait with `within: 30d`")
        elif self.within is not None:
            raise ValueError("`within` bounds a time drawn from a timeline after another time — add "
                             "`timeline:` and `after:`, or use `lag:` to say how long after")
        elif self.start is None or self.end is None:
            missing = "start" if self.start is None else "end"
            raise ValueError(f"needs `{missing}` (or `timeline:` to draw from a timeline) — "
                             "e.g. start: -1y, end: today")
        return self

    def lag_spec(self) -> ColumnSpec | None:
        """The lag as a column spec when it is a distribution or a constant."""
        if isinstance(self.lag, dict):
            return COLUMN_KINDS[self.lag["kind"]].model_validate(self.lag)
        if isinstance(self.lag, (int, float)):
            return ConstantColumn(kind="constant", value=float(self.lag))
        return None

    def own_refs(self) -> frozenset[str]:
        found = {self.after} if self.after is not None else set()
        if isinstance(self.lag, str):
            found.add(self.lag)
        return frozenset(found)


@column_kind("date")
class DateColumn(_Between):
    """A calendar date between `start` and `end` (inclusive), absolute or relative to as_of."""


@column_kind("timestamp")
class TimestampColumn(_Between):
    """A timestamp from the start of `start` to the end of `end`, in `unit` precision (UTC).

    With `timeline` and `tz`, the timeline's calendar is read in each row's local time
    (`fabula.spec.zones`): its days, weekdays, hours and holidays are those of the row's zone."""

    unit: Literal["s", "ms", "us"] = "us"
    tz: str | None = Field(None, description="read the timeline's calendar in local time: a zone such as "
                                             "Europe/Berlin, or the column (or fk.column) holding each row's zone")
    store: Literal["utc", "local"] | None = Field(
        None, description="with tz: write UTC instants (utc, the default) or local wall-clock times (local)")

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        from fabula.spec.zones import is_zone_name, zone_problem

        if value is None:
            return value
        if is_zone_name(value):
            problem = zone_problem(value)
            if problem:
                raise ValueError(problem)
        elif not re.match(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)?$", value):
            raise ValueError(f"`{value}` is neither a time zone (Europe/Berlin) nor a column holding zone names")
        return value

    @model_validator(mode="after")
    def _zone_on_a_timeline(self) -> TimestampColumn:
        if self.store is not None and self.tz is None:
            raise ValueError("`store` says how a local time is written: add `tz:` with the zone "
                             "(Europe/Berlin) or the column holding each row's zone")
        if self.tz is not None and self.timeline is None:
            raise ValueError("`tz` reads a timeline's calendar in local time: add `timeline:` "
                             "(a timestamp between `start` and `end` has no hours to place)")
        return self

    @property
    def zone_column(self) -> str | None:
        """The column holding each row's zone (None for a fixed zone or no zone)."""
        from fabula.spec.zones import is_zone_name

        return self.tz if self.tz is not None and not is_zone_name(self.tz) else None

    def own_refs(self) -> frozenset[str]:
        refs = super().own_refs()
        return refs | {self.zone_column} if self.zone_column is not None else refs


# -- text -----------------------------------------------------------------------------------------


@column_kind("faker")
class FakerColumn(ColumnSpec):
    """Text from any Faker provider method, sampled from a pool of distinct values."""

    provider: str = Field(description="a Faker method name, e.g. company, city, phone_number")
    locale: str = "en_US"
    pool: int = Field(5000, ge=1, le=1_000_000, description="distinct values to sample from")
    args: dict[str, Scalar] = Field(default_factory=dict)


@column_kind("expression")
class ExpressionColumn(ColumnSpec):
    """A value computed from other columns of the row, e.g. `quantity * unit_price`."""

    numeric: ClassVar[bool] = True
    expr: str

    @field_validator("expr")
    @classmethod
    def _parses(cls, text: str) -> str:
        _parse_or_raise(parse_expression, text)
        return text

    @property
    def expression(self):
        return parse_expression(self.expr)

    def own_refs(self) -> frozenset[str]:
        return self.expression.columns


@column_kind("template")
class TemplateColumn(ColumnSpec):
    """A string built from other columns, e.g. `{slug(first_name)}.{slug(last_name)}@example.com`."""

    template: str

    @field_validator("template")
    @classmethod
    def _parses(cls, text: str) -> str:
        _parse_or_raise(parse_template, text)
        return text

    @property
    def parsed(self) -> Template:
        return parse_template(self.template)

    def own_refs(self) -> frozenset[str]:
        return self.parsed.columns


@column_kind("python")
class PythonColumn(ColumnSpec):
    """Python API only: `fn(columns: dict[str, pyarrow.Array], rng, n) -> array-like` of n values per block.

    Not loadable from a spec file (a file is data, never code)."""

    numeric: ClassVar[bool] = True
    fn: Callable[..., Any]
    depends: tuple[str, ...] = ()
    type: Literal["int64", "float64", "string", "bool", "date32", "timestamp[us]"] = "float64"

    def own_refs(self) -> frozenset[str]:
        return frozenset(self.depends)


def _parse_or_raise(parse: Callable[[str], Any], text: str) -> None:
    try:
        parse(text)
    except ExpressionError as error:
        # pydantic turns ValueError into a validation error at this field
        raise ValueError(error.message + (f" — {error.hint}" if error.hint else "")) from None


# -- conditional columns ------------------------------------------------------------------------


class ConditionalColumn(BaseModel):
    """Parameters that depend on another column: one full column spec per value of `by`.

    Written in YAML as a normal column plus `by:` and `cases:`; each case inherits the column's
    kind and parameters and overrides what it names (or names another kind, e.g. a constant 0
    for the Free tier)."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)
    kind_name: ClassVar[str] = "conditional"

    by: str
    bins: tuple[float, ...] | None = Field(
        None, description="edges that cut a numeric `by` column into cases `<8`, `<24`, `>=24`")
    cases: tuple[tuple[Scalar, ColumnSpec], ...]
    default: ColumnSpec | None = None
    nulls: float = Field(0.0, ge=0.0, le=1.0)
    round: int | None = Field(None, ge=0, le=12)
    clip: Clip | None = None
    unique: bool = False
    description: str | None = None
    during: tuple[EventOverride, ...] = ()
    hidden: bool = False
    when: str | None = None

    @field_validator("when")
    @classmethod
    def _when_parses(cls, text: str | None) -> str | None:
        if text is not None:
            _parse_or_raise(parse_expression, text)
        return text

    @field_validator("bins")
    @classmethod
    def _increasing(cls, bins):
        if bins is not None and (not bins or any(b >= a for a, b in zip(bins[1:], bins))):
            raise ValueError("bins must be a non-empty list of increasing numbers, e.g. [8, 24]")
        return bins

    def bin_labels(self) -> list[str]:
        """The case names `bins` cut `by` into: `<8`, `<24`, `>=24` for bins [8, 24]."""
        edges = [_number(edge) for edge in self.bins or ()]
        return [f"<{edge}" for edge in edges] + ([f">={edges[-1]}"] if edges else [])

    @property
    def kind(self) -> str:
        kinds = {branch.kind for branch in self.branches()}
        return kinds.pop() if len(kinds) == 1 else "mixed"

    def branches(self) -> list[ColumnSpec]:
        return [case for _, case in self.cases] + ([self.default] if self.default else [])

    def is_numeric(self) -> bool:
        return all(branch.is_numeric() for branch in self.branches())

    def refs(self) -> frozenset[str]:
        found = {self.by}
        for branch in self.branches():
            found |= branch.refs()
        return frozenset(found) | during_refs(self.during) | when_refs(self.when)

    def depends_on(self) -> frozenset[str]:
        return frozenset(ref.split(".", 1)[0] for ref in self.refs())


def column_branches(column: AnyColumn, path: tuple = ()):
    """(path, spec) of each case of a conditional column, or of the column itself."""
    if isinstance(column, ConditionalColumn):
        for key, case in column.cases:
            yield (*path, "cases", key), case
        if column.default is not None:
            yield (*path, "default"), column.default
    else:
        yield path, column


def during_refs(during: tuple[EventOverride, ...]) -> frozenset[str]:
    """What event overrides read: their own columns' inputs and the time column placing each row."""
    found: set[str] = set()
    for override in during:
        found |= override.column.refs()
        if override.at:
            found.add(override.at)
        if override.where:
            found |= parse_expression(override.where).columns
    return frozenset(found)


def when_refs(when: str | None) -> frozenset[str]:
    """What a `when:` condition reads."""
    return parse_expression(when).columns if when else frozenset()


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


AnyColumn = ColumnSpec | ConditionalColumn

MODIFIERS = ("nulls", "round", "clip", "unique", "description", "hidden", "when")
CONDITIONAL_KEYS = ("by", "bins", "cases", "default")


# Record kinds (person, company, address) live in their own module; importing it registers them.
from fabula.spec import people as _people  # noqa: E402,F401
