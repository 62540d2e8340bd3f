"""The public holidays of a country (and subdivision) over a span of years, cached on disk.

Building a calendar with the `holidays` package costs about a tenth of a second (its import and
the rules of every year), a third of a small run's planning. The dates are a pure function of
(country, subdivision, years, package version), so they are kept as a small JSON file next to
the Faker pools (`$FABULA_CACHE_DIR/holidays/`, default `~/.cache/fabula/holidays/`); a new
release of `holidays` has a new key, and so builds afresh. A missing or damaged file is rebuilt,
and a read-only cache folder only costs speed.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path


def holiday_ordinals(country: str, subdiv: str | None, first_year: int, last_year: int) -> frozenset[int]:
    """The proleptic ordinals (`date.toordinal()`) of every holiday from `first_year` to `last_year`.

    >>> from datetime import date
    >>> date(2024, 7, 4).toordinal() in holiday_ordinals("US", None, 2024, 2024)
    True
    """
    return _cached(country, subdiv, first_year, last_year, version("holidays"))


@lru_cache(maxsize=64)
def _cached(country: str, subdiv: str | None, first_year: int, last_year: int, release: str) -> frozenset[int]:
    recipe = {"country": country, "subdiv": subdiv, "years": [first_year, last_year], "holidays": release}
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:32]
    path = _folder() / f"{key}.json"
    found = _read(path)
    if found is None:
        found = build_ordinals(country, subdiv, first_year, last_year)
        _write(path, found)
    return found


def build_ordinals(country: str, subdiv: str | None, first_year: int, last_year: int) -> frozenset[int]:
    """The same dates asked of the `holidays` package itself (no cache)."""
    import holidays  # lazily: only a cold cache pays for it

    calendar = holidays.country_holidays(country, subdiv=subdiv, years=range(first_year, last_year + 1))
    return frozenset(day.toordinal() for day in calendar)


def _folder() -> Path:
    root = os.environ.get("FABULA_CACHE_DIR") or os.path.join(Path.home(), ".cache", "fabula")
    return Path(root) / "holidays"


def _read(path: Path) -> frozenset[int] | None:
    try:
        ordinals = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # absent or damaged: rebuild
    if not isinstance(ordinals, list) or not all(type(ordinal) is int for ordinal in ordinals):
        return None
    return frozenset(ordinals)


def _write(path: Path, ordinals: frozenset[int]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.parent / f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp"
        temporary.write_text(json.dumps(sorted(ordinals)), encoding="utf-8")
        os.replace(temporary, path)  # readers see the whole file or none
    except OSError:
        pass  # a read-only home only costs speed
