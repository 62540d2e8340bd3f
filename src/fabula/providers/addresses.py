"""Places (city, postcode, state, country) and street names per locale, for `address` columns.

A place is drawn from Faker as one record, so its parts belong together as far as Faker's
locale data knows: in en_US the postcode is drawn inside the state's ZIP range
(`postcode_in_state`); elsewhere Faker keeps no link between city and postcode, and fabula
keeps the parts of one drawn place together. Streets (name × building number) are composed per
row, so distinct street addresses grow with the rows while cities come from a finite set, as
in life.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pyarrow as pa

from fabula.providers.names import country_of
from fabula.providers.records import build_records

PLACES = 5_000
STREETS = 5_000
"""Enough for variety (a street address is one of 5,000 names × house numbers); Faker takes
about a millisecond per value, so a locale's first build takes seconds, once."""


@dataclass(frozen=True)
class AddressParts:
    places: pa.Table
    """city, postcode, state, state_abbr (or nulls), country, country_code."""
    streets: pa.Array
    number_first: bool
    """"12 Main Street" (English, French) or "Hauptstraße 12"."""
    separator: str
    """Between number and street when the number comes first: " " or ", " (French)."""
    english: bool


@cache
def address_parts(locale: str) -> AddressParts:
    """The places and streets of a locale (built once, cached on disk).

    >>> parts = address_parts("en_US")
    >>> parts.places.column_names
    ['city', 'postcode', 'state', 'state_abbr', 'country', 'country_code']
    """
    places = build_records("place", locale=locale, size=PLACES, draw=_place, version=1)
    streets = build_records("street_name", locale=locale, size=STREETS,
                            draw=lambda faker: {"value": str(faker.street_name())}).column("value").combine_chunks()
    language = locale.split("_")[0]
    return AddressParts(places=places, streets=streets, number_first=language in ("en", "fr"),
                        separator=", " if language == "fr" else " ", english=language == "en")


def _place(faker) -> dict:
    state, abbr = _state(faker)
    if abbr and hasattr(faker, "postcode_in_state"):
        postcode = faker.postcode_in_state(abbr)  # a ZIP code inside the state's range
    else:
        postcode = faker.postcode()
    return {"city": str(faker.city()), "postcode": str(postcode), "state": state, "state_abbr": abbr,
            "country": _call(faker, "current_country"),
            "country_code": _call(faker, "current_country_code") or country_of(faker.locales[0])}


def _state(faker) -> tuple[str | None, str | None]:
    """A state (region, county) and its abbreviation where the locale has them."""
    provider = next((p for p in faker.get_providers() if ".address" in type(p).__module__), None)
    names, abbreviations = getattr(provider, "states", None), getattr(provider, "states_abbr", None)
    if names and abbreviations and len(abbreviations) == len(names) + 1 and "DC" in abbreviations:
        abbreviations = [abbr for abbr in abbreviations if abbr != "DC"]  # en_US lists DC's code, not its name
    if names and abbreviations and len(names) == len(abbreviations):
        index = faker.random_int(0, len(names) - 1)
        return str(names[index]), str(abbreviations[index])
    for method in ("administrative_unit", "state", "region", "county"):
        value = _call(faker, method)
        if value:
            return value, None
    return None, None


def _call(faker, method: str) -> str | None:
    try:
        return str(getattr(faker, method)())
    except (AttributeError, NotImplementedError, KeyError, ValueError):
        return None
