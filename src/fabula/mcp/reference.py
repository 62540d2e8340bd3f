"""The column-kind reference the MCP server offers as a resource, built from the spec models
themselves so that it can never describe a parameter that does not exist."""

from __future__ import annotations

import typing

from fabula.spec import COLUMN_KINDS, ColumnSpec

_FILE_ONLY = {"python"}  # a spec file (or text) cannot declare it: loading a spec never runs code

_FALLBACK = {
    "gamma": "Gamma(shape, scale): positive, skewed amounts such as claim sizes or service times.",
    "weibull": "scale × Weibull(shape): lifetimes and time to failure.",
}

_COMMON = """\
## Every kind

- `nulls: 0.05`: fraction of rows set to null (its own random stream: values never move).
- `round: 2`, `clip: [min, max]` (or `{min: 0}`): numeric kinds; `clip` also on dates (absolute bounds).
- `unique: true`: guaranteed by construction (keys, Faker pools, categoricals, integer and date
  ranges, templates over a key), else refused when the plan compiles.
- `description: ...`: free text, shown by `plan`.
- `by: other_column` + `cases: {value: {params}}` (+ `default:`): parameters that depend on
  another column of the row, or a parent's through a reference (`by: customer_id.tier`);
  `bins: [8, 24]` cuts a number into cases `"<8"`, `"<24"`, `">=24"`.
- `during: {event: {params}}`: how rows inside an event's window are drawn (inherits the column).
- A bare scalar is a constant: `country: US`.

## Tables, timelines and events

- `rows: 1000`, `rows: {per: customers, count: {kind: poisson, lam: 3}}` (children per parent),
  `rows: {timeline: support}` (one row per arrival) or `{timeline: support, total: 5000}`.
- `timelines: {name: {start: -365d, end: today, rate: 25, weekday: {weekend: 0.6},
  intraday: business_hours, holidays: {country: US}, seasonality: {peak: 12, amplitude: 0.2},
  trend: {growth: 0.3}, noise: 0.15}}`.
- `events: {name: {start: 2024-10-15, end: 2024-10-25, ramp_up: 2d, decay: 1w,
  volume: {tickets: 3, cancellations: {factor: 2, delay: 21d, lasting: 14d}}}}`;
  `events_table: events` writes them as a table.
- `expect:` checks: `sql`, `ratio`, `share` or `uplift`, each with `between: [low, high]`.

Dates: `2024-01-01`, `today`, or relative to `as_of`: `-30d`, `-2w`, `-6mo`, `-1y`.
The full reference with examples: docs/columns.md, docs/story.md, docs/validation.md.
"""


def column_reference() -> str:
    """Markdown: every column kind, what it is for, and its parameters.

    >>> text = column_reference()
    >>> "### `lognormal`" in text and "`sigma` (required)" in text
    True
    """
    base = set(ColumnSpec.model_fields)
    lines = ["# fabula column kinds", "",
             "Every column is `{kind: ..., <parameters>, <modifiers>}`.", ""]
    for kind, model in COLUMN_KINDS.items():
        if kind in _FILE_ONLY:
            continue
        lines += [f"### `{kind}`", "", _summary(kind, model), ""]
        for name, field in model.model_fields.items():
            if name in base:
                continue
            key = field.alias or name
            if field.is_required():
                state = "required"
            elif field.default_factory is not None:
                state = f"default {field.get_default(call_default_factory=True)!r}"
            else:
                state = f"default {_plain(field.default)}"
            choices = _choices(field.annotation)
            detail = "; ".join(part for part in (field.description, choices) if part)
            lines.append(f"- `{key}` ({state})" + (f": {detail}" if detail else ""))
        lines.append("")
    return "\n".join(lines) + "\n" + _COMMON


def _summary(kind: str, model) -> str:
    doc = (model.__doc__ or "").strip()
    if not doc or doc.startswith("What every kind accepts"):
        return _FALLBACK.get(kind, "")
    return " ".join(doc.split("\n\n")[0].split())


def _plain(value) -> str:
    return "none" if value is None else repr(value) if isinstance(value, str) else str(value)


def _choices(annotation) -> str | None:
    if typing.get_origin(annotation) is typing.Literal:
        return "one of " + ", ".join(map(str, typing.get_args(annotation)))
    return None
