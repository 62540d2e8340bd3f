"""Local time in a zone, vectorised: UTC seconds to wall-clock seconds and back, with the
zone's daylight-saving rules.

A zone is a list of regimes: from UTC second `starts[i]` on, the clock is `offsets[i]` seconds
ahead of UTC. The transitions are found once per zone and year from the `tzdata` package (never
the machine's own database, so a laptop and a Spark executor agree), then every conversion is a
binary search over them.

Going from a wall-clock time back to UTC has two awkward cases, handled as clocks handle them:

- a time the clock skips when daylight saving starts (02:30 on the day New York springs forward)
  does not exist: it moves forward by the skipped hour (03:30), as a clock set to it would;
- a time the clock shows twice when daylight saving ends (01:30 on the day New York falls back)
  is the first or the second of the two, as the caller says (a keyed coin, in the generators).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SECONDS_PER_DAY = 86_400
_FIRST_YEAR, _LAST_YEAR = 1, 9999


@dataclass(frozen=True)
class Zone:
    name: str
    starts: np.ndarray
    """UTC seconds at which each regime starts (the first one reaches back indefinitely)."""
    offsets: np.ndarray
    """Seconds the wall clock is ahead of UTC in each regime."""

    def to_local(self, utc: np.ndarray) -> np.ndarray:
        """Wall-clock seconds (since 1970-01-01 00:00 on the local clock) of UTC seconds.

        >>> berlin = zone("Europe/Berlin", 2024, 2024)
        >>> summer, winter = 1_719_835_200, 1_704_110_400   # 2024-07-01 12:00 and 2024-01-01 12:00 UTC
        >>> ((berlin.to_local(np.array([summer, winter])) - [summer, winter]) // 3600).tolist()
        [2, 1]
        """
        regime = np.searchsorted(self.starts, utc, side="right") - 1
        return utc + self.offsets[np.maximum(regime, 0)]

    def to_utc(self, wall: np.ndarray, second: np.ndarray | None = None) -> np.ndarray:
        """UTC seconds of wall-clock seconds: a skipped time moves forward by the gap, a repeated
        time is its first occurrence, or its second where `second` is true.

        >>> new_york = zone("America/New_York", 2024, 2024)
        >>> spring = 1_710_037_800          # 2024-03-10 02:30 on the clock: skipped
        >>> fall = 1_730_597_400            # 2024-11-03 01:30 on the clock: shown twice
        >>> utc = new_york.to_utc(np.array([spring, fall, fall]), np.array([False, False, True]))
        >>> ((utc - [spring, fall, fall]) // 3600).tolist()   # hours behind the clock
        [5, 4, 5]
        >>> ((new_york.to_local(utc) - [spring, fall, fall]) // 60).tolist()   # 02:30 shows as 03:30
        [60, 0, 0]
        """
        wall = np.asarray(wall, dtype=np.int64)
        # where each regime starts on the wall clock (the first reaches back indefinitely)
        wall_starts = np.concatenate([[np.iinfo(np.int64).min], self.starts[1:] + self.offsets[1:]])
        regime = np.maximum(np.searchsorted(wall_starts, wall, side="right") - 1, 0)
        # past the regime's end on the wall clock (a skipped time), `wall − offset` is already
        # after the transition: the time moves forward by the gap
        utc = wall - self.offsets[regime]
        # a repeated time: the previous regime's clock had not yet reached it when the clock fell back
        earlier = np.maximum(regime - 1, 0)
        previous_end = self.starts[regime] + self.offsets[earlier]
        repeated = (regime > 0) & (wall < previous_end)
        first = repeated if second is None else repeated & ~np.asarray(second, dtype=bool)
        return np.where(first, wall - self.offsets[earlier], utc)


def zone(name: str, first_year: int, last_year: int) -> Zone:
    """The zone's regimes covering the years `first_year`..`last_year` (UTC), from `tzdata`."""
    first_year, last_year = max(_FIRST_YEAR, first_year), min(_LAST_YEAR, last_year)
    years = [_year(name, year) for year in range(first_year, last_year + 1)]
    starts = [np.iinfo(np.int64).min] + [start for year in years for start, _ in year]
    offsets = [_offset_at(name, _year_start(first_year))] + [offset for year in years for _, offset in year]
    return Zone(name, np.asarray(starts, dtype=np.int64), np.asarray(offsets, dtype=np.int64))


def zone_for_seconds(name: str, low: int, high: int) -> Zone:
    """The zone's regimes covering UTC seconds `low`..`high` (with a day to spare either side)."""
    return _cached_zone(name, _year_of(low - SECONDS_PER_DAY), _year_of(high + SECONDS_PER_DAY))


def _year_of(second: int) -> int:
    """The UTC year of a second since the epoch, within the years 1 to 9999."""
    if second < _year_start(_FIRST_YEAR):
        return _FIRST_YEAR
    if second >= _LAST_SECOND:
        return _LAST_YEAR
    return (datetime(1970, 1, 1, tzinfo=UTC) + _seconds(second)).year


@lru_cache(maxsize=256)
def _cached_zone(name: str, first_year: int, last_year: int) -> Zone:
    return zone(name, first_year, last_year)


@lru_cache(maxsize=4096)
def _year(name: str, year: int) -> tuple[tuple[int, int], ...]:
    """(UTC second, new offset) of each transition of a zone within a UTC year: the offset is
    sampled at every midnight, and a day whose two ends differ is bisected to the second."""
    start = _year_start(year)
    end = _year_start(year + 1) if year < _LAST_YEAR else _LAST_SECOND
    found = []
    cursor, before = start, _offset_at(name, start)
    while cursor < end:
        step = min(start + ((cursor - start) // SECONDS_PER_DAY + 1) * SECONDS_PER_DAY, end)
        if _offset_at(name, step) == before:
            cursor = step
            continue
        low, high = cursor, step  # offset(low) is `before`, offset(high) is not
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if _offset_at(name, middle) == before else (low, middle)
        before = _offset_at(name, high)
        found.append((high, before))
        cursor = high
    return tuple(found)


def _year_start(year: int) -> int:
    return int((datetime(year, 1, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())


_LAST_SECOND = _year_start(_LAST_YEAR) + 365 * SECONDS_PER_DAY
"""The first second after 9999-12-31."""


def _offset_at(name: str, utc_second: int) -> int:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + _seconds(utc_second)
    return int(moment.astimezone(_info(name)).utcoffset().total_seconds())


def _seconds(value: int):
    from datetime import timedelta

    return timedelta(seconds=value)


@cache
def _info(name: str):
    """The zone's rules from the `tzdata` package (`UTC` needs none)."""
    from importlib.resources import files
    from zoneinfo import ZoneInfo

    if name.upper() == "UTC":
        return UTC
    parts = name.split("/")
    resource = files("tzdata.zoneinfo").joinpath(*parts)
    with resource.open("rb") as data:
        return ZoneInfo.from_file(data, key=name)


def local_seconds(utc: np.ndarray, codes: np.ndarray, names: list[str]) -> np.ndarray:
    """Wall-clock seconds of UTC seconds, each row in the zone `names[codes[row]]`."""
    return _per_zone(utc, codes, names, lambda found, part: found.to_local(part))


def utc_seconds(wall: np.ndarray, codes: np.ndarray, names: list[str], second: np.ndarray | None = None) -> np.ndarray:
    """UTC seconds of wall-clock seconds, each row in the zone `names[codes[row]]`; `second`
    picks the second occurrence of a repeated time (see `Zone.to_utc`)."""
    second = np.zeros(len(wall), dtype=bool) if second is None else np.asarray(second, dtype=bool)
    out = np.empty(len(wall), dtype=np.int64)
    for code in np.unique(codes):
        rows = np.flatnonzero(codes == code)
        part = wall[rows]
        found = zone_for_seconds(names[code], int(part.min()) - SECONDS_PER_DAY, int(part.max()) + SECONDS_PER_DAY)
        out[rows] = found.to_utc(part, second[rows])
    return out


def _per_zone(values: np.ndarray, codes: np.ndarray, names: list[str], convert) -> np.ndarray:
    out = np.empty(len(values), dtype=np.int64)
    for code in np.unique(codes):
        rows = np.flatnonzero(codes == code)
        part = values[rows]
        out[rows] = convert(zone_for_seconds(names[code], int(part.min()), int(part.max())), part)
    return out


def split_ticks(ticks: np.ndarray, per_second: int) -> tuple[np.ndarray, np.ndarray]:
    """Whole seconds and the ticks left over (ms or µs), so a conversion moves whole seconds."""
    seconds = np.floor_divide(ticks, per_second)
    return seconds, ticks - seconds * per_second


def zone_codes(values: pa.Array | None, tz: str, n: int) -> tuple[np.ndarray, list[str]]:
    """Each row's zone as a code into a list of zone names: the one zone `tz` names, or the zone
    names in `values` (the column `tz` names; a null zone is UTC). ValueError names a value that
    is not a zone."""
    from fabula.spec.zones import is_zone_name, zone_problem

    if is_zone_name(tz):
        return np.zeros(n, dtype=np.int64), [tz]
    assert values is not None  # `tz` names a column: its values are given
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not pa.types.is_dictionary(values.type):
        values = pc.dictionary_encode(values)
    names = [str(name) for name in values.dictionary.to_pylist()]
    for name in names:
        if zone_problem(name):
            raise ValueError(f"`{tz}` holds `{name}`, which is not a time zone")
    codes = values.indices.fill_null(len(names)).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, [*names, "UTC"]


def convert_times(times: pa.Array, zones: pa.Array, *, to_local: bool) -> pa.Array:
    """Timestamps (naive, any unit) moved between UTC and the wall clock of each row's zone (a
    column of zone names); null where either is null. ValueError names a value that is not a zone."""
    n = len(times)
    codes, names = zone_codes(zones, "zone", n)
    unknown = codes == len(names) - 1  # a null zone
    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[times.type.unit]
    ticks = times.view(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    seconds, rest = split_ticks(ticks, per_second)
    moved = local_seconds(seconds, codes, names) if to_local else utc_seconds(seconds, codes, names)
    missing = np.asarray(times.is_null()) | unknown
    return pa.array(moved * per_second + rest, type=pa.int64(), mask=missing).view(times.type)
