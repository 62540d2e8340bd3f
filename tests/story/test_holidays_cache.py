"""What is asked of the `holidays` package is read from the disk cache when it can be, and the
answer is the same either way."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from fabula.spec import holidays_cache
from fabula.spec.holidays_cache import (
    build_countries,
    build_ordinals,
    build_subdivisions,
    holiday_countries,
    holiday_ordinals,
    holiday_subdivisions,
)

CALENDARS = [("US", None, 2020, 2027), ("GB", None, 2023, 2025), ("DE", "BY", 2024, 2024), ("US", "CA", 1999, 2001)]


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FABULA_CACHE_DIR", str(tmp_path))
    holidays_cache._remembered.cache_clear()
    yield tmp_path / "holidays"
    holidays_cache._remembered.cache_clear()


def forget() -> None:
    """Drop the process's memory of answers, so the next question reads the disk cache."""
    holidays_cache._remembered.cache_clear()


@pytest.mark.parametrize(("country", "subdiv", "first", "last"), CALENDARS)
def test_cached_dates_are_the_packages_dates(empty_cache, country, subdiv, first, last):
    built = frozenset(build_ordinals(country, subdiv, first, last))
    assert holiday_ordinals(country, subdiv, first, last) == built  # cold: built and written
    assert len(list(empty_cache.glob("*.json"))) == 1
    forget()
    assert holiday_ordinals(country, subdiv, first, last) == built  # warm: read from the file


def test_cached_countries_and_subdivisions_are_the_packages_in_its_order(empty_cache):
    assert holiday_countries() == build_countries() and "US" in holiday_countries()
    assert holiday_subdivisions("US") == build_subdivisions("US") and "CA" in holiday_subdivisions("US")
    forget()
    assert holiday_countries() == build_countries()
    assert holiday_subdivisions("US") == build_subdivisions("US")
    assert len(list(empty_cache.glob("*.json"))) == 2


def test_the_dates_are_those_of_the_calendar(empty_cache):
    found = holiday_ordinals("US", None, 2024, 2024)
    assert date(2024, 7, 4).toordinal() in found and date(2024, 12, 25).toordinal() in found
    assert date(2024, 7, 5).toordinal() not in found
    assert all(date.fromordinal(ordinal).year == 2024 for ordinal in found)


@pytest.mark.parametrize("damage", [b"not json", b'{"a": 1}', b'[1, "x"]', b"", b"[true]"])
def test_a_damaged_file_is_rebuilt(empty_cache, damage):
    expected = holiday_ordinals("US", None, 2024, 2025)
    (path,) = empty_cache.glob("*.json")
    path.write_bytes(damage)
    forget()
    assert holiday_ordinals("US", None, 2024, 2025) == expected
    forget()
    assert holiday_ordinals("US", None, 2024, 2025) == expected  # and written again whole


def test_a_damaged_country_list_is_rebuilt(empty_cache):
    expected = holiday_countries()
    (path,) = empty_cache.glob("*.json")
    path.write_text("[1, 2]")
    forget()
    assert holiday_countries() == expected


def test_a_cache_that_cannot_be_written_only_costs_speed(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("FABULA_CACHE_DIR", str(blocker))
    forget()
    try:
        assert holiday_ordinals("US", None, 2024, 2024) == frozenset(build_ordinals("US", None, 2024, 2024))
        assert holiday_countries() == build_countries()
    finally:
        forget()


def test_a_warm_cache_does_not_import_the_holidays_package(empty_cache):
    code = ("import sys; from fabula.spec.holidays_cache import holiday_countries, holiday_ordinals; "
            "holiday_ordinals('US', None, 2024, 2026); holiday_countries(); print('holidays' in sys.modules)")
    env = {"FABULA_CACHE_DIR": str(empty_cache.parent), "PATH": ""}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
            for _ in range(2)]
    assert [run.stdout.strip() for run in runs] == ["True", "False"]  # cold, then warm
