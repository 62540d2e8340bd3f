"""Per-entity sequences as a spec writes them: a child table on a regular cadence per parent
(every 15 minutes per device, with jitter and dropouts), the row's position within its parent,
running values per parent (cumulative sums and counts, the previous value, a balance with a
floor, a level that drains and is recharged), and durations between two times as numbers.

    readings:
      rows: {per: devices, every: 15m, start: -7d, end: today, jitter: 2m, dropout: 0.01}
      columns:
        device_id: {kind: reference, to: devices.device_id}
        read_at: {kind: cadence}                  # the slot's time, jittered
        seq: {kind: position}                     # 1, 2, 3 … within the device
        battery: {kind: running, fn: level, of: drain, high: 100, low: 5}
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from fabula.spec.columns import BooleanColumn, CategoricalColumn, ColumnSpec, ConditionalColumn, column_kind
from fabula.spec.dates import DateBound, parse_bound
from fabula.spec.expressions import parse_expression

_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)\s*$")
_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86_400, "w": 604_800}
DURATION_UNITS = {"days": 86_400.0, "hours": 3_600.0, "minutes": 60.0, "seconds": 1.0}


def parse_span(value: Any) -> Any:
    """A length of time in seconds: `15m`, `30s`, `1h`, `2d`, or a number of seconds.

    >>> parse_span("15m"), parse_span("1.5h"), parse_span(90)
    (900, 5400, 90)
    """
    if isinstance(value, str):
        found = _SPAN.match(value.lower())
        if not found:
            raise ValueError(f"{value!r} is not a length of time — write 30s, 15m, 1h, 2d (or 1mo for `every`)")
        return int(round(float(found.group(1)) * _SECONDS[found.group(2)]))
    return value


@column_kind("cadence_count")
class CadenceCount(ColumnSpec):
    """How many slots of a parent's cadence are kept (the count of a table sized by a cadence).
    Built by the loader from `rows: {per: ..., every: ...}`; not written in a spec."""

    numeric: ClassVar[bool] = True
    table: str = ""
    every: int = Field(gt=0, description="seconds between readings, e.g. 15m (or months: 1mo)")
    months: int | None = Field(None, gt=0, description="set from `every: 1mo`: slots on the same day of every month")
    start: DateBound
    end: DateBound
    jitter: int = Field(0, ge=0, description="each time moves by up to ± this many seconds")
    dropout: float = Field(0.0, ge=0, lt=1, description="share of readings lost at random")
    timeline: str | None = Field(None, description="keep readings in proportion to a timeline's intensity")
    scoped: tuple[str, ...] = ()
    """Columns of the parent the events' `where:` conditions read (filled in by the loader)."""

    @model_validator(mode="before")
    @classmethod
    def _months(cls, data: Any) -> Any:
        every = data.get("every") if isinstance(data, dict) else None
        found = re.match(r"^\s*(\d+)\s*(mo|month|months)\s*$", every.lower()) if isinstance(every, str) else None
        if found:
            return {**data, "every": int(found.group(1)) * 28 * 86_400, "months": int(found.group(1))}
        return data

    @field_validator("every", "jitter", mode="before")
    @classmethod
    def _span(cls, value: Any) -> Any:
        return parse_span(value)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _bound(cls, value: Any) -> DateBound:
        return parse_bound(value)

    def own_refs(self) -> frozenset[str]:
        return frozenset(self.scoped)


CADENCE_KEYS = ("every", "start", "end", "jitter", "dropout", "timeline")


@column_kind("cadence")
class CadenceColumn(ColumnSpec):
    """The time of a row on its parent's cadence (`rows: {per: ..., every: ...}`): the kept
    slot's time plus jitter, in time order within each parent."""

    unit: Literal["s", "ms", "us"] = "us"
    rows: CadenceCount | None = None
    """The table's cadence, placed here by the loader."""


@column_kind("position")
class PositionColumn(ColumnSpec):
    """The row's position within its parent in a table sized per parent: 1, 2, 3 … (or from `start`)."""

    numeric: ClassVar[bool] = True
    start: int = 1


@column_kind("running")
class RunningColumn(ColumnSpec):
    """A running value per parent, in row order (a table sized per parent):

    - `sum` — the cumulative sum of `of` (plus `start`);
    - `count` — how many rows so far (where `of`, a boolean, is true, if given);
    - `previous` — the previous row's `of` (null on a parent's first row);
    - `balance` — `start` plus the changes in `of`, never below `floor`;
    - `level` — starts at `high`, moves by `of` each row and is reset to `high` when it would
      fall below `low` (a battery that drains and is recharged).

    With `restart: day`, it also starts afresh whenever the row's `day` differs from the previous
    row's (units produced today, per machine)."""

    numeric: ClassVar[bool] = True
    fn: Literal["sum", "count", "previous", "balance", "level"]
    of: str | None = Field(None, description="the column of the same row it runs over")
    start: float = Field(0.0, description="the value before a parent's first row (sum, balance)")
    floor: float = Field(0.0, description="balance: the lowest value it can take")
    low: float | None = Field(None, description="level: the value below which it is reset")
    high: float | None = Field(None, description="level: the value it starts at and is reset to")
    restart: str | None = Field(None, description="start afresh whenever this column of the row changes "
                                                  "within the parent, e.g. a day or a shift")

    @model_validator(mode="after")
    def _parameters(self) -> RunningColumn:
        if self.fn != "count" and self.of is None:
            raise ValueError(f"fn: {self.fn} runs over a column: add `of: <column>`")
        if self.fn == "level":
            if self.low is None or self.high is None or not self.low < self.high:
                raise ValueError("fn: level needs `low` and `high` with low < high, e.g. low: 5, high: 100")
        elif self.low is not None or self.high is not None:
            raise ValueError("`low` and `high` apply to fn: level")
        if self.fn == "balance" and self.start < self.floor:
            raise ValueError(f"a balance starts at or above its floor, and start {self.start} < floor {self.floor}")
        return self

    def own_refs(self) -> frozenset[str]:
        return frozenset(name for name in (self.of, self.restart) if name is not None)


@column_kind("duration")
class DurationColumn(ColumnSpec):
    """The time from one date or timestamp to another as a number: `{kind: duration, from:
    created_at, to: resolved_at, unit: hours}`; null where either is null."""

    numeric: ClassVar[bool] = True
    from_: str = Field(alias="from", description="the earlier time's column")
    to: str = Field(description="the later time's column")
    unit: Literal["days", "hours", "minutes", "seconds"] = "days"

    model_config = ColumnSpec.model_config | {"populate_by_name": True}

    def own_refs(self) -> frozenset[str]:
        return frozenset({self.from_, self.to})


def integer_valued(column) -> bool:
    """Whether a column draws whole numbers or booleans, so it can count children per parent:
    a distribution, a categorical of integers (`{0: 90, 1: 10}`) or a boolean (0 or 1)."""
    if isinstance(column, ConditionalColumn):
        return all(integer_valued(branch) for branch in column.branches())
    if isinstance(column, BooleanColumn):
        return True
    if isinstance(column, CategoricalColumn):
        return all(isinstance(value, int) and not isinstance(value, bool) and value >= 0 for value in column.values)
    return column.is_numeric()


def as_count(column):
    """A count spec with its categorical values as integers: the canonical form (JSON) writes
    `{0: 90, 1: 10}` with text keys, which read back as "0" and "1"."""
    if isinstance(column, CategoricalColumn) and all(isinstance(value, str) and value.isdigit()
                                                     for value in column.values):
        return column.model_copy(update={"values": {int(value): weight for value, weight in column.values.items()}})
    return column


def where_columns(where: str) -> frozenset[str]:
    return parse_expression(where).columns


def cadence_rows(raw, path, source, issues) -> dict | None:
    """`rows: {per: devices, every: 15m, start: -7d, end: today, ...}` as a table sized per parent
    whose count is the number of the parent's kept slots (a `cadence_count`)."""
    from pydantic import ValidationError

    unknown = [key for key in raw if key not in ("per", *CADENCE_KEYS)]
    if unknown:
        issues.append(source.issue("unknown-key", (*path, unknown[0]), f"`rows` on a cadence has no `{unknown[0]}`",
                                   hint=f"keys: per, {', '.join(CADENCE_KEYS)}"))
        return None
    if "per" not in raw:
        issues.append(source.issue("missing-parameter", path, "a cadence is per parent: add `per: <parent table>`",
                                   hint="rows: {per: devices, every: 15m, start: -7d, end: today}"))
        return None
    try:
        count = CadenceCount.model_validate({key: raw[key] for key in CADENCE_KEYS if key in raw}
                                            | {"table": str(path[1]) if len(path) > 1 else ""})
    except (ValidationError, ValueError) as error:
        errors = (error.errors(include_url=False) if isinstance(error, ValidationError)
                  else [{"loc": (), "msg": str(error)}])
        for found in errors:
            where = tuple(str(part) for part in found.get("loc", ()))
            issues.append(source.issue("bad-value", (*path, *where), str(found["msg"]).removeprefix("Value error, "),
                                       hint="e.g. rows: {per: devices, every: 15m, start: -7d, end: today, "
                                            "jitter: 30s, dropout: 0.01}"))
        return None
    return {"per": raw["per"], "count": count}


def place_cadence(columns: dict, rows) -> dict:
    """Give each `cadence` column its table's cadence (the table's `rows`)."""
    count = getattr(rows, "count", None)
    if not isinstance(count, CadenceCount):
        return columns
    placed = {name: column.model_copy(update={"rows": count}) if isinstance(column, CadenceColumn) else column
              for name, column in columns.items()}
    timed = [name for name, column in placed.items() if isinstance(column, CadenceColumn)]
    if len(timed) != 1:
        return placed
    # a `during:` override is placed in time by the table's one cadence column unless it says otherwise
    for name, column in placed.items():
        if any(override.at is None for override in column.during):
            during = tuple(override if override.at else override.model_copy(update={"at": timed[0]})
                           for override in column.during)
            placed[name] = column.model_copy(update={"during": during})
    return placed


def per_parent_kind(column) -> bool:
    """Kinds that read the parent row of each row (a table sized per parent)."""
    return isinstance(column, (CadenceColumn, PositionColumn, RunningColumn))


def scoped_columns(spec, table: str) -> frozenset[str]:
    """Columns of a cadence table's parent that events' `where:` conditions on the table read."""
    found: set[str] = set()
    for event in spec.events.values():
        effect = event.volume.get(table)
        if effect is not None and effect.where:
            found |= where_columns(effect.where)
    return frozenset(found)


def check_scoped_volume(spec, table_name: str, table, effect, path, source):
    """Issues of an event's volume effect on a table sized by a cadence (None: not such a table,
    the usual timeline checks apply). A `where:` on another table is refused: rows drawn from a
    timeline are counted before their columns exist, so only a cadence (whose count pass sees
    the parent's columns) can thin the rows of a subset."""
    count = getattr(getattr(table, "rows", None), "count", None)
    if isinstance(count, CadenceCount):
        issues = []
        if effect is not None and effect.where:
            parent = spec.tables.get(table.rows.per)
            for name in sorted(where_columns(effect.where)):
                if parent is not None and name not in parent.columns:
                    issues.append(source.issue(
                        "unknown-column", (*path, "where"),
                        f"`where` reads `{name}`, and `{table.rows.per}` has no such column",
                        hint=f"on a cadence, `where` is a condition on the parent's columns: "
                             f"{', '.join(parent.columns)}"))
        return issues
    if effect is not None and effect.where:
        return [source.issue(
            "bad-value", (*path, "where"),
            f"`where` on a volume applies to a table sized by a cadence, and `{table_name}` is not one",
            hint="size the table rows: {per: <parent>, every: 15m, ...}; to change only some rows of "
                 "another table, put `where:` on a column's `during:` override")]
    return None


@column_kind("component")
class ComponentColumn(ColumnSpec):
    """Which timeline of a mix a row came from (`timelines: {card: {mix: {normal: day, fraud:
    night}}}`): at the row's time `at`, each component is drawn in proportion to its intensity
    that day and hour — a night-time fraud burst labels the night's extra rows `fraud`."""

    timeline: str = Field(description="the mix timeline")
    at: str = Field(description="the timestamp column that places the row in time")

    def own_refs(self) -> frozenset[str]:
        return frozenset({self.at})
