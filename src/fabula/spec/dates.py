"""Date bounds written in a spec: absolute (`2024-01-01`) or relative to `as_of` (`-6mo`).

Relative bounds are resolved once, at plan time, against the dataset's `as_of`, so nothing in
generation ever reads the clock.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime

_RELATIVE = re.compile(r"^\s*(?P<sign>[+-])\s*(?P<count>\d{1,9})\s*(?P<unit>d|w|mo|y)\s*$")
_UNITS = {"d": "days", "w": "weeks", "mo": "months", "y": "years"}

# Python dates (and so fabula's) run from 0001-01-01 to 9999-12-31: no offset can reach further.
MAX_OFFSET_DAYS = 10_000 * 366
_DAYS_PER_UNIT = {"d": 1, "w": 7, "mo": 31, "y": 366}

DateBound = date | str
"""What a spec may write for a date: a date, an ISO date string, `today`, or `[+-]N(d|w|mo|y)`."""


def parse_bound(value: object) -> DateBound:
    """Check a date bound's syntax and return it in canonical form (a date or a relative string).

    >>> parse_bound("2024-03-01")
    datetime.date(2024, 3, 1)
    >>> parse_bound(" -6mo ")
    '-6mo'
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a date like 2024-01-01 or a relative date like -6mo, got {value!r}")
    text = value.strip()
    if text == "today":
        return text
    match = _RELATIVE.match(text)
    if match:
        bound = f"{match['sign']}{int(match['count'])}{match['unit']}"
        if int(match["count"]) * _DAYS_PER_UNIT[match["unit"]] > MAX_OFFSET_DAYS:
            raise ValueError(f"{value!r} reaches more than {MAX_OFFSET_DAYS // 366:,} years from as_of — "
                             "dates run from the year 1 to 9999; write a smaller offset")
        return bound
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a date: write 2024-01-01, `today`, or an offset from as_of such as"
            " -30d, -2w, -6mo, -2y"
        ) from None


def resolve_bound(bound: DateBound, as_of: date) -> date:
    """The calendar date a bound means for a given `as_of`; ValueError when it would fall
    outside the years 1 to 9999.

    Months and years keep the day of month, clamped to the month's length (Mar 31 - 1mo is
    Feb 28 or 29), as people count months.

    >>> resolve_bound("-6mo", date(2024, 8, 31))
    datetime.date(2024, 2, 29)
    >>> resolve_bound("today", date(2024, 8, 31))
    datetime.date(2024, 8, 31)
    """
    if isinstance(bound, date):
        return bound
    if bound == "today":
        return as_of
    match = _RELATIVE.match(bound)
    if match is None:  # parse_bound admits nothing else
        raise ValueError(f"not a date bound: {bound!r}")
    count = int(match["count"]) * (1 if match["sign"] == "+" else -1)
    unit = match["unit"]
    try:
        if unit in ("d", "w"):
            return date.fromordinal(as_of.toordinal() + count * (7 if unit == "w" else 1))
        months = count * (12 if unit == "y" else 1)
        return _add_months(as_of, months)
    except (ValueError, OverflowError):
        raise ValueError(f"{bound} from as_of {as_of} falls outside the years 1 to 9999") from None


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))
