"""Component lists and places drawn from Faker once, reproducibly, and cached."""

from __future__ import annotations

import pytest

from fabula.providers import records
from fabula.providers.addresses import address_parts
from fabula.providers.ascii import to_ascii
from fabula.providers.names import FREE_MAIL, company_parts, person_parts
from fabula.providers.records import build_records


def draw_city(faker):
    return {"city": faker.city(), "postcode": faker.postcode()}


def test_a_recipe_gives_the_same_rows_built_or_read_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FABULA_CACHE_DIR", str(tmp_path))
    built = build_records("test-city", locale="de_DE", size=50, draw=draw_city, cache=False)
    records._memory.clear()
    cached = build_records("test-city", locale="de_DE", size=50, draw=draw_city)
    assert list((tmp_path / "faker-records").glob("*.arrow")), "the table was not written to the cache"
    records._memory.clear()  # force a read of the file
    assert build_records("test-city", locale="de_DE", size=50, draw=draw_city).equals(built)
    assert cached.equals(built)
    assert built.num_rows == 50 and len(set(zip(*built.to_pydict().values()))) == 50


def test_a_damaged_cache_file_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("FABULA_CACHE_DIR", str(tmp_path))
    first = build_records("test-damaged", locale="en_US", size=20, draw=draw_city)
    for path in (tmp_path / "faker-records").glob("*.arrow"):
        path.write_bytes(b"not arrow")
    records._memory.clear()
    assert build_records("test-damaged", locale="en_US", size=20, draw=draw_city).equals(first)


def test_a_provider_with_few_values_gives_them_all_and_stops():
    table = build_records("test-few", locale="en_US", size=1000, draw=lambda f: {"v": f.random_int(1, 7)},
                          cache=False)
    assert sorted(table.column("v").to_pylist()) == list(range(1, 8))


@pytest.mark.parametrize("locale", ["en_US", "de_DE", "sv_SE"])
def test_person_parts_are_spelled_index_for_index(locale):
    parts = person_parts(locale)
    for names in (parts.female, parts.male, parts.last):
        assert len(names.values) == len(names.ascii) > 50
        values, spelled = names.values.to_pylist(), names.ascii.to_pylist()
        assert all(to_ascii(value, locale) == ascii_ for value, ascii_ in zip(values, spelled))
        assert all(ascii_ and ascii_.isascii() for ascii_ in spelled)


def test_free_mail_and_company_domains_are_real_looking():
    domains = [domain for table in FREE_MAIL.values() for domain in table]
    assert not [domain for domain in domains if domain.split(".")[0] == "example"]
    assert person_parts("de_DE").free_mail.values.to_pylist()[:3] == ["gmail.com", "gmx.de", "web.de"]
    assert set(company_parts("de_DE").tlds.values.to_pylist()) == {"de", "com"}
    assert "co.uk" in company_parts("en_GB").tlds.values.to_pylist()


def test_places_hold_together_in_en_us():
    """A place is one draw: in en_US its ZIP code lies inside its state's range (Faker's data)."""
    from faker import Faker

    provider = next(p for p in Faker("en_US").get_providers() if ".address" in type(p).__module__)
    places = address_parts("en_US").places.to_pylist()
    assert len(places) > 1000
    for place in places:
        low, high = provider.states_postcode[place["state_abbr"]]
        assert low <= int(place["postcode"]) <= high, place
        assert place["country_code"] == "US"
    states = {place["state_abbr"]: place["state"] for place in places}
    assert states["CA"] == "California" and states["NY"] == "New York" and states["FL"] == "Florida"


def test_places_use_the_locales_regions_where_it_has_no_states():
    places = address_parts("en_GB").places
    assert places.column("state").null_count == 0  # counties
    assert set(places.column("country_code").to_pylist()) == {"GB"}
