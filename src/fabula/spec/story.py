"""The story as a spec writes it: timelines (when rows arrive) and events (windows that change
volumes and values).

A timeline is an arrival intensity over a window of days: a base rate per day times a weekday
profile, public holidays, seasonality, a trend, day-level noise and the volume effects of
events. A table can take its rows from a timeline (`rows: {timeline: support}`), and any
`date`/`timestamp` column can draw from a timeline's shape (`timeline: support`).

An event is a named window with optional ramps. It multiplies the volume of tables
(`volume: {tickets: 3}`) and, through `during:` on a column, changes how that column is drawn
for rows whose time falls inside it — optionally later and for longer (`delay`, `lasting`).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from fabula.spec.dates import DateBound, parse_bound

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_GROUPS = {"weekdays": WEEKDAY_NAMES[:5], "weekend": WEEKDAY_NAMES[5:]}

INTRADAY_PRESETS: dict[str, tuple[float, ...]] = {
    # relative activity per hour 0..23; a person-driven day is never flat
    "daytime": (0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.4, 0.7, 1.0, 1.2, 1.3, 1.3,
                1.25, 1.3, 1.3, 1.25, 1.2, 1.1, 1.0, 0.9, 0.75, 0.6, 0.4, 0.25),
    "business_hours": (0.05, 0.03, 0.03, 0.03, 0.05, 0.1, 0.25, 0.6, 1.2, 1.6, 1.7, 1.6,
                       1.3, 1.5, 1.6, 1.5, 1.3, 1.0, 0.6, 0.35, 0.25, 0.15, 0.1, 0.07),
    "evening": (0.3, 0.15, 0.08, 0.05, 0.05, 0.08, 0.2, 0.4, 0.55, 0.6, 0.65, 0.7,
                0.8, 0.75, 0.7, 0.7, 0.8, 0.95, 1.2, 1.5, 1.7, 1.6, 1.2, 0.7),
    "flat": (1.0,) * 24,
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Holidays(_Frozen):
    """Public holidays of a country (and optionally a subdivision) scale that day's volume."""

    country: str = Field(description="an ISO country code known to the `holidays` package, e.g. US, DE, GB")
    subdiv: str | None = Field(None, description="a state or region code, e.g. CA or BY")
    factor: float = Field(0.3, ge=0, description="the volume on a holiday relative to a normal day")


class Seasonality(_Frozen):
    """A smooth annual curve: volume peaks in `peak` month at 1 + amplitude, the opposite month
    is lowest at 1 - amplitude."""

    peak: int = Field(ge=1, le=12, description="the month with the most volume, 1-12")
    amplitude: float = Field(ge=0, lt=1, description="how far the curve swings around 1, e.g. 0.2")


class Trend(_Frozen):
    """Volume that grows (or shrinks) over the window: `growth` per year from the window's start."""

    growth: float = Field(gt=-1, description="change per year, e.g. 0.3 for +30% a year, -0.1 for -10%")
    shape: Literal["linear", "exponential"] = "linear"


def _seasonality_form(value: Any) -> str:
    return "curve[peak, amplitude]" if isinstance(value, (dict, Seasonality)) else "monthly[12 factors]"


# A mapping is a curve, anything else the monthly list: one error for the form the user wrote,
# not one per form. The tags have brackets, like pydantic's own union tags, so the loader
# leaves them out of the paths it shows.
SeasonalityForm = Annotated[
    Annotated[tuple[float, ...], Tag("monthly[12 factors]")] | Annotated[Seasonality, Tag("curve[peak, amplitude]")],
    Discriminator(_seasonality_form),
]


class TimelineSpec(_Frozen):
    """When rows arrive: an intensity per day over a window, and a profile within the day."""

    start: DateBound = Field(description="the first day, e.g. 2024-01-01 or -12mo")
    end: DateBound = Field(description="the last day (inclusive), e.g. 2024-12-31 or today")
    rate: float = Field(gt=0, description="rows per day on a normal day (scaled by --scale)")
    weekday: tuple[float, ...] | dict[str, float] | None = Field(
        None, description="factors per day of the week: 7 numbers from Monday, or {weekend: 0.6, fri: 1.2}")
    intraday: str | tuple[float, ...] = Field(
        "daytime", description=f"24 hourly factors, or one of: {', '.join(INTRADAY_PRESETS)}")
    holidays: Holidays | None = None
    seasonality: SeasonalityForm | None = Field(
        None, description="12 monthly factors from January, or {peak: 12, amplitude: 0.2}")
    trend: Trend | None = Field(None, description="growth per year from the window's start, e.g. "
                                                  "{growth: 0.3} or {growth: 0.3, shape: exponential}")
    noise: float = Field(0.0, ge=0, lt=1, description="day-level noise: each day's volume × uniform(1 ± noise)")
    description: str | None = None

    @field_validator("start", "end", mode="before")
    @classmethod
    def _bound(cls, value: Any) -> DateBound:
        return parse_bound(value)

    @field_validator("weekday")
    @classmethod
    def _weekday(cls, value):
        if isinstance(value, dict):
            known = (*WEEKDAY_NAMES, *WEEKDAY_GROUPS)
            for key in value:
                if str(key).lower()[:3] not in WEEKDAY_NAMES and str(key).lower() not in WEEKDAY_GROUPS:
                    raise ValueError(f"`{key}` is not a day of the week — use {', '.join(known)}")
            factors = value.values()
        else:
            if len(value) != 7:
                raise ValueError(f"weekday takes 7 factors from Monday to Sunday, got {len(value)} — "
                                 "write 7 numbers, or name days: {weekend: 0.6, fri: 1.2}")
            factors = value
        if any(not factor >= 0 for factor in factors):
            raise ValueError("weekday factors must be zero or positive — 0.6 is 60% of a normal day's volume")
        return value

    @field_validator("intraday")
    @classmethod
    def _intraday(cls, value):
        if isinstance(value, str):
            if value not in INTRADAY_PRESETS:
                raise ValueError(f"unknown intraday profile `{value}` — use one of {', '.join(INTRADAY_PRESETS)}"
                                 " or 24 hourly factors")
        elif len(value) != 24 or any(not factor >= 0 for factor in value) or not any(value):
            raise ValueError("intraday takes 24 hourly factors (zero or positive, not all zero) — "
                             f"list one per hour from midnight, or use a preset: {', '.join(INTRADAY_PRESETS)}")
        return value

    @field_validator("seasonality")
    @classmethod
    def _monthly(cls, value):
        if isinstance(value, tuple) and (len(value) != 12 or any(not factor >= 0 for factor in value)):
            raise ValueError("seasonality takes 12 monthly factors from January (zero or positive) — "
                             "list one per month, or write a curve: {peak: <month 1-12>, amplitude: <0..1>}")
        return value

    def weekday_factors(self) -> tuple[float, ...]:
        """Monday..Sunday; a mapping's groups first, then single days override them."""
        if self.weekday is None:
            return (1.0,) * 7
        if not isinstance(self.weekday, dict):
            return tuple(self.weekday)
        factors = dict.fromkeys(WEEKDAY_NAMES, 1.0)
        for group, days in WEEKDAY_GROUPS.items():
            for key, value in self.weekday.items():
                if str(key).lower() == group:
                    factors.update(dict.fromkeys(days, float(value)))
        for key, value in self.weekday.items():
            if str(key).lower() not in WEEKDAY_GROUPS:
                factors[str(key).lower()[:3]] = float(value)
        return tuple(factors[day] for day in WEEKDAY_NAMES)

    def intraday_factors(self) -> tuple[float, ...]:
        return INTRADAY_PRESETS[self.intraday] if isinstance(self.intraday, str) else tuple(self.intraday)


class MixSpec(TimelineSpec):
    """A timeline that is the sum of others: `mix: {normal: card_day, fraud: night_fraud}`. Each
    day has the components' volumes added up and an intraday profile that mixes theirs, so rows
    of two behaviours share one table; a `component` column says which one each row came from."""

    start: DateBound | None = None  # type: ignore[assignment]  # a mix takes them from its parts
    end: DateBound | None = None  # type: ignore[assignment]  # a mix takes them from its parts
    rate: float | None = None  # type: ignore[assignment]  # a mix takes them from its parts
    mix: dict[str, str] = Field(description="label: timeline, e.g. {normal: card_day, fraud: night_fraud}")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _bound(cls, value: Any) -> DateBound | None:  # type: ignore[override]  # a mix may leave them out
        return None if value is None else parse_bound(value)

    @model_validator(mode="after")
    def _only_components(self) -> MixSpec:
        if len(self.mix) < 2:
            raise ValueError("a mix adds up two timelines or more, e.g. mix: {normal: card_day, fraud: night_fraud}")
        extra = sorted(self.model_fields_set - {"mix", "description"})
        if extra:
            raise ValueError(f"a mix takes its calendar from its timelines, so `{extra[0]}` does not apply — "
                             "put it on a component timeline")
        return self


class TimelineRows(_Frozen):
    """`rows: {timeline: support}`: a row per arrival — each day's count drawn around the
    timeline's intensity — or `total` rows spread over the window in proportion to it."""

    timeline: str = Field(description="the timeline whose arrivals are this table's rows")
    total: int | None = Field(None, ge=0, description="a fixed row count (scaled by --scale) spread over the window")


class VolumeEffect(_Frozen):
    """An event's effect on how many rows a table gets per day."""

    factor: float = Field(ge=0, description="volume multiplier in the window: 3 for an incident, 0 for an outage")
    delay: int = Field(0, ge=0, description="days after the event's start that the effect starts")
    lasting: int | None = Field(None, gt=0, description="days the effect lasts (default: the event's own length)")
    where: str | None = Field(None, description="only rows matching this condition, e.g. region == 'West' "
                                                "(a table on a cadence: a condition on the parent's columns)")

    @field_validator("where")
    @classmethod
    def _where_parses(cls, text: str | None) -> str | None:
        return _condition(text)

    @model_validator(mode="before")
    @classmethod
    def _from_number(cls, value: Any) -> Any:
        return {"factor": value} if isinstance(value, (int, float)) and not isinstance(value, bool) else value

    @field_validator("delay", "lasting", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        return parse_days(value)


class EventSpec(_Frozen):
    """A named window of days (inclusive) with optional linear ramps before and after."""

    start: DateBound = Field(description="the first day, e.g. 2024-10-15 or -77d")
    end: DateBound = Field(description="the last day (inclusive)")
    ramp_up: int = Field(0, ge=0, description="days before `start` over which the effect builds up")
    decay: int = Field(0, ge=0, description="days after `end` over which the effect fades out")
    description: str | None = None
    volume: dict[str, VolumeEffect] = Field(
        default_factory=dict, description="volume multiplier per table, e.g. {tickets: 3}")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _bound(cls, value: Any) -> DateBound:
        return parse_bound(value)

    @field_validator("ramp_up", "decay", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        return parse_days(value)


class EventOverride(_Frozen):
    """How a column is drawn for rows inside an event's window (`during: {incident: {...}}`).

    `column` is the full column spec for those rows: it inherits the column's kind and
    parameters and replaces what the override names."""

    event: str
    column: Any
    at: str | None = Field(None, description="the date or timestamp column that places a row in time "
                                              "(default: the table's one column drawn from a timeline)")
    delay: int = Field(0, ge=0, description="days after the event's start that the change starts")
    lasting: int | None = Field(None, gt=0, description="days the change lasts (default: the event's own length)")
    where: str | None = Field(None, description="only rows matching this condition change, e.g. region == 'West'")

    reserved: ClassVar[tuple[str, ...]] = ("at", "delay", "lasting", "where")

    @field_validator("where")
    @classmethod
    def _where_parses(cls, text: str | None) -> str | None:
        return _condition(text)
    """Keys of a `during:` entry that are about the window, not the column."""

    @field_validator("delay", "lasting", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        return parse_days(value)


def _condition(text: str | None) -> str | None:
    """A `where:` condition, parsed now so that a typo is reported where it is written."""
    if text is not None:
        from fabula.spec.expressions import ExpressionError, parse_expression

        try:
            parse_expression(text)
        except ExpressionError as error:
            raise ValueError(error.message + (f" — {error.hint}" if error.hint else "")) from None
    return text


def parse_days(value: Any) -> Any:
    """A duration in whole days: `3`, `3d` or `2w`.

    >>> parse_days("2w"), parse_days("3d"), parse_days(5)
    (14, 3, 5)
    """
    if isinstance(value, str):
        text = value.strip().lower()
        for suffix, days in (("d", 1), ("w", 7)):
            if text.endswith(suffix) and text[:-1].strip().isdigit():
                return int(text[:-1]) * days
        raise ValueError(f"{value!r} is not a number of days — write 10, 10d or 2w")
    return value
