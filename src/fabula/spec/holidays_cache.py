"""What fabula asks of the `holidays` package, cached on disk: the country codes it knows, a
country's subdivisions, and the holiday dates of a country (and subdivision) over some years.

Importing `holidays` and asking it costs about a tenth of a second each for the country list
(checked when a spec loads) and for a calendar (built when a plan compiles), a large share of a
small run. The answers are pure functions of the question and the package's version, so they are
kept as small JSON files next to the Faker pools (`$FABULA_CACHE_DIR/holidays/`, default
`~/.cache/fabula/holidays/`): a new release of `holidays` asks afresh. A missing or damaged file
is rebuilt, and a read-only cache folder only costs speed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from importlib.metadata import version

from fabula.disk_cache import answer_path, read_json, write_json


def holiday_ordinals(country: str, subdiv: str | None, first_year: int, last_year: int) -> frozenset[int]:
    """The proleptic ordinals (`date.toordinal()`) of every holiday from `first_year` to `last_year`.

    >>> from datetime import date
    >>> date(2024, 7, 4).toordinal() in holiday_ordinals("US", None, 2024, 2024)
    True
    """
    return frozenset(_remembered("dates", country, subdiv, first_year, last_year))


def holiday_countries() -> tuple[str, ...]:
    """Every country code the package knows, aliases included, in the package's order."""
    return _remembered("countries")


def holiday_subdivisions(country: str) -> tuple[str, ...]:
    """The subdivision codes of a known country, in the package's order."""
    return _remembered("subdivisions", country)


def build_ordinals(country: str, subdiv: str | None, first_year: int, last_year: int) -> tuple[int, ...]:
    import holidays  # lazily: only a cold cache pays for it

    calendar = holidays.country_holidays(country, subdiv=subdiv, years=range(first_year, last_year + 1))
    return tuple(sorted(day.toordinal() for day in calendar))


def build_countries() -> tuple[str, ...]:
    """From the package's registry, without loading any country: `list_supported_countries()`
    loads all 500 modules for their subdivisions, which only the country named needs."""
    from holidays.registry import EntityLoader

    return tuple(EntityLoader.get_country_codes(include_aliases=True))


def build_subdivisions(country: str) -> tuple[str, ...]:
    import holidays

    return tuple(getattr(holidays, country).subdivisions)


_BUILDERS: dict[str, tuple[Callable[..., tuple], type]] = {
    "dates": (build_ordinals, int), "countries": (build_countries, str), "subdivisions": (build_subdivisions, str)}
"""What is asked → how the package answers it, and the type of each item of the answer."""


@lru_cache(maxsize=128)
def _remembered(what: str, *question: object) -> tuple:
    build, kind = _BUILDERS[what]
    path = answer_path("holidays", {"what": what, "question": list(question), "holidays": _release()})
    found = _items(read_json(path), kind)
    if found is None:
        found = build(*question)
        write_json(path, list(found))
    return found


@cache
def _release() -> str:
    return version("holidays")  # its metadata: reading it imports nothing


def _items(items: object, kind: type) -> tuple | None:
    """A cached answer as a tuple of `kind`, or None when the file held something else."""
    if not isinstance(items, list) or not all(type(item) is kind for item in items):
        return None
    return tuple(items)
