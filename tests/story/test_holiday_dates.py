"""Holiday dates are read from the disk cache when they can be, and are the same either way."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from fabula.story import holiday_dates
from fabula.story.holiday_dates import build_ordinals, holiday_ordinals

CALENDARS = [("US", None, 2020, 2027), ("GB", None, 2023, 2025), ("DE", "BY", 2024, 2024), ("US", "CA", 1999, 2001)]


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FABULA_CACHE_DIR", str(tmp_path))
    holiday_dates._cached.cache_clear()
    yield tmp_path / "holidays"
    holiday_dates._cached.cache_clear()


@pytest.mark.parametrize(("country", "subdiv", "first", "last"), CALENDARS)
def test_cached_dates_are_the_packages_dates(empty_cache, country, subdiv, first, last):
    built = build_ordinals(country, subdiv, first, last)
    assert holiday_ordinals(country, subdiv, first, last) == built  # cold: built and written
    assert len(list(empty_cache.glob("*.json"))) == 1
    holiday_dates._cached.cache_clear()
    assert holiday_ordinals(country, subdiv, first, last) == built  # warm: read from the file


def test_the_dates_are_those_of_the_calendar(empty_cache):
    found = holiday_ordinals("US", None, 2024, 2024)
    assert date(2024, 7, 4).toordinal() in found and date(2024, 12, 25).toordinal() in found
    assert date(2024, 7, 5).toordinal() not in found
    assert all(date.fromordinal(ordinal).year == 2024 for ordinal in found)


@pytest.mark.parametrize("damage", [b"not json", b'{"a": 1}', b"[1, \"x\"]", b""])
def test_a_damaged_file_is_rebuilt(empty_cache, damage):
    expected = holiday_ordinals("US", None, 2024, 2025)
    (path,) = empty_cache.glob("*.json")
    path.write_bytes(damage)
    holiday_dates._cached.cache_clear()
    assert holiday_ordinals("US", None, 2024, 2025) == expected
    holiday_dates._cached.cache_clear()
    assert holiday_ordinals("US", None, 2024, 2025) == expected  # and written again whole


def test_a_cache_that_cannot_be_written_only_costs_speed(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("FABULA_CACHE_DIR", str(blocker))
    holiday_dates._cached.cache_clear()
    try:
        assert holiday_ordinals("US", None, 2024, 2024) == build_ordinals("US", None, 2024, 2024)
    finally:
        holiday_dates._cached.cache_clear()


def test_a_warm_cache_does_not_import_the_holidays_package(empty_cache):
    holiday_ordinals("US", None, 2024, 2026)
    code = ("import sys; from fabula.story.holiday_dates import holiday_ordinals; "
            "holiday_ordinals('US', None, 2024, 2026); print('holidays' in sys.modules)")
    env = {"FABULA_CACHE_DIR": str(empty_cache.parent), "PATH": ""}
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert ran.stdout.strip() == "False"
