"""The components people's and companies' names are composed from, per locale.

Faker's lists (first names by gender, last names, company suffixes) are drawn once into
cached tables (`records.build_records`); each entry also gets its ASCII spelling once
(`ascii.to_ascii`), so usernames, emails and domains are composed by indexing, never by a
per-row Faker call or per-row transliteration. The free-mail providers and company top-level
domains below are the common ones of each country, with rough shares of use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import pyarrow as pa

from fabula.providers.ascii import to_ascii
from fabula.providers.faker_elements import element_drawer
from fabula.providers.records import build_records

_LIST_SIZE = 20_000
"""More than any locale's list holds: the lists are read whole."""

FREE_MAIL: dict[str, dict[str, float]] = {
    "US": {"gmail.com": 40, "yahoo.com": 14, "outlook.com": 12, "hotmail.com": 10, "icloud.com": 10,
           "aol.com": 5, "comcast.net": 4, "proton.me": 3, "msn.com": 2},
    "GB": {"gmail.com": 35, "hotmail.co.uk": 14, "yahoo.co.uk": 10, "outlook.com": 12, "btinternet.com": 8,
           "icloud.com": 8, "sky.com": 5, "live.co.uk": 5, "aol.co.uk": 3},
    "DE": {"gmail.com": 24, "gmx.de": 22, "web.de": 22, "t-online.de": 12, "outlook.de": 6, "yahoo.de": 5,
           "posteo.de": 3, "freenet.de": 3, "icloud.com": 3},
    "AT": {"gmail.com": 30, "gmx.at": 25, "aon.at": 12, "chello.at": 6, "outlook.com": 10, "yahoo.de": 5,
           "web.de": 7, "icloud.com": 5},
    "CH": {"gmail.com": 30, "bluewin.ch": 25, "gmx.ch": 15, "hotmail.com": 10, "outlook.com": 8,
           "sunrise.ch": 7, "icloud.com": 5},
    "FR": {"gmail.com": 35, "orange.fr": 16, "hotmail.fr": 12, "free.fr": 10, "yahoo.fr": 8, "laposte.net": 7,
           "sfr.fr": 6, "outlook.fr": 4, "wanadoo.fr": 2},
    "SE": {"gmail.com": 40, "hotmail.com": 18, "outlook.com": 10, "telia.com": 10, "yahoo.se": 8,
           "live.se": 7, "icloud.com": 5, "bredband.net": 2},
    "DK": {"gmail.com": 40, "hotmail.com": 18, "outlook.dk": 10, "live.dk": 10, "yahoo.dk": 7, "mail.dk": 6,
           "jubii.dk": 4, "icloud.com": 5},
    "NO": {"gmail.com": 42, "hotmail.com": 18, "online.no": 12, "outlook.com": 10, "live.no": 8,
           "yahoo.no": 5, "icloud.com": 5},
    "NL": {"gmail.com": 40, "hotmail.com": 15, "outlook.com": 12, "ziggo.nl": 10, "kpnmail.nl": 8,
           "live.nl": 8, "icloud.com": 7},
    "ES": {"gmail.com": 45, "hotmail.es": 18, "yahoo.es": 10, "outlook.es": 12, "telefonica.net": 5,
           "icloud.com": 10},
    "IT": {"gmail.com": 38, "libero.it": 16, "hotmail.it": 12, "yahoo.it": 10, "virgilio.it": 8,
           "alice.it": 6, "outlook.it": 5, "tiscali.it": 5},
}
FREE_MAIL_DEFAULT: dict[str, float] = {"gmail.com": 45, "outlook.com": 15, "yahoo.com": 14, "hotmail.com": 12,
                     "icloud.com": 9, "proton.me": 5}

COMPANY_TLDS: dict[str, dict[str, float]] = {
    "US": {"com": 82, "net": 6, "io": 6, "co": 6},
    "GB": {"co.uk": 60, "com": 35, "uk": 5},
}
"""Elsewhere: the country's own domain for two companies in three, .com for the rest."""

BUSINESS_WORDS = ("Logistics", "Systems", "Solutions", "Consulting", "Software", "Analytics", "Media",
                  "Partners", "Labs", "Technologies", "Networks", "Energy", "Health", "Capital", "Foods",
                  "Digital", "Design", "Engineering", "Industries", "Holdings", "Ventures", "Services",
                  "Security", "Cloud", "Robotics", "Studio", "Trading", "Finance", "Retail", "Data")
"""Words that company names around the world borrow from English ("Müller Logistics GmbH")."""

CONJUNCTIONS = {"en": "and", "de": "und", "fr": "et", "sv": "och", "da": "og", "no": "og", "nb": "og",
                "nl": "en", "es": "y", "it": "e", "pt": "e", "fi": "ja", "pl": "i"}


@dataclass(frozen=True)
class Choices:
    """Values with their cumulative shares, for drawing by inverse CDF."""

    values: pa.Array
    cumulative: np.ndarray

    @classmethod
    def of(cls, weighted: dict[str, float]) -> Choices:
        weights = np.array(list(weighted.values()), dtype=np.float64)
        return cls(pa.array(list(weighted), type=pa.string()), np.cumsum(weights) / weights.sum())

    def pick(self, uniform: np.ndarray) -> np.ndarray:
        return np.minimum(np.searchsorted(self.cumulative, uniform, side="right"), len(self.values) - 1)


@dataclass(frozen=True)
class Names:
    """One list of names and their ASCII spellings, index for index."""

    values: pa.Array
    ascii: pa.Array

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class PersonParts:
    female: Names
    male: Names
    last: Names
    free_mail: Choices
    english: bool
    """English locales show a middle name as an initial ("John A. Smith")."""


@dataclass(frozen=True)
class CompanyParts:
    last: Names
    suffixes: pa.Array
    words: Names
    conjunction: str
    tlds: Choices


def country_of(locale: str) -> str:
    """The country code of a locale: `de_DE` → DE, `en` → US."""
    parts = locale.split("_")
    return parts[1].upper() if len(parts) > 1 else "US"


@cache
def person_parts(locale: str) -> PersonParts:
    """The person components of a locale (built once per process, cached on disk).

    >>> parts = person_parts("de_DE")
    >>> len(parts.female) > 500 and len(parts.last) > 300
    True
    """
    return PersonParts(female=_names("first_name_female", locale), male=_names("first_name_male", locale),
                       last=_names("last_name", locale),
                       free_mail=Choices.of(FREE_MAIL.get(country_of(locale), FREE_MAIL_DEFAULT)),
                       english=locale.split("_")[0] == "en")


@cache
def company_parts(locale: str) -> CompanyParts:
    country = country_of(locale)
    tlds = COMPANY_TLDS.get(country, {country.lower(): 2, "com": 1})
    suffixes = _list("company_suffix", locale)
    words = pa.array(BUSINESS_WORDS)
    return CompanyParts(last=_names("last_name", locale), suffixes=suffixes,
                        words=Names(words, pa.array([to_ascii(word) for word in BUSINESS_WORDS])),
                        conjunction=CONJUNCTIONS.get(locale.split("_")[0], "&"), tlds=Choices.of(tlds))


def _list(method: str, locale: str) -> pa.Array:
    """Every value a Faker method gives in a locale, in the order first drawn."""
    table = build_records(method, locale=locale, size=_LIST_SIZE, draw=_ElementDraw(method))
    return table.column("value").combine_chunks()


class _ElementDraw:
    """One value of a Faker method as a record: the same values as calling it, through the cheap
    drawer of `faker_elements` when the method allows (chosen once, on the first draw)."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.drawer: Callable[[], object] | None = None

    def __call__(self, faker) -> dict[str, str]:
        if self.drawer is None:
            self.drawer = element_drawer(faker, self.method) or getattr(faker, self.method)
        return {"value": str(self.drawer())}


def _names(method: str, locale: str) -> Names:
    values = _list(method, locale)
    spelled = [to_ascii(value, locale) for value in values.to_pylist()]
    keep = [index for index, text in enumerate(spelled) if text]  # a name with no Latin letters cannot spell a login
    if not keep:
        raise ValueError(f"Faker's {method} of {locale} has no names written in Latin letters; "
                         "usernames and emails need them (use a Latin-script locale such as en_US, de_DE, fr_FR)")
    taken = pa.array(keep, type=pa.int64())
    return Names(values.take(taken), pa.array(spelled, type=pa.string()).take(taken))
