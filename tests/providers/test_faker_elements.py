"""The cheap element drawer gives exactly Faker's values, in Faker's order, and leaves the
random generator where Faker would: the cached name lists depend on it."""

from __future__ import annotations

import pytest
from faker import Faker

from fabula.providers.faker_elements import LISTS, _same_draws, element_drawer

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "sv_SE", "ja_JP", "ru_RU", "pt_BR", "zh_CN")
DRAWS = 3_000


def seeded(locale: str, seed: int = 12345) -> Faker:
    faker = Faker(locale)
    faker.seed_instance(seed)
    return faker


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("method", sorted(LISTS))
def test_the_drawer_gives_fakers_values_and_leaves_the_generator_as_faker_would(locale, method):
    by_faker, by_drawer = seeded(locale), seeded(locale)
    drawer = element_drawer(by_drawer, method)
    if drawer is None:
        pytest.skip(f"{locale} draws {method} another way: Faker is called")
    expected = [getattr(by_faker, method)() for _ in range(DRAWS)]
    assert [drawer() for _ in range(DRAWS)] == expected
    assert by_drawer.random.getstate() == by_faker.random.getstate()
    assert by_drawer.pystr() == by_faker.pystr()  # and what comes next is the same


@pytest.mark.parametrize("method", sorted(LISTS))
def test_weighted_and_plain_lists_take_the_fast_path(method):
    assert element_drawer(seeded("en_US"), method) is not None  # en_US: weighted names (OrderedDict)
    assert element_drawer(seeded("de_DE"), method) is not None  # de_DE: plain tuples


def test_other_methods_are_left_to_faker():
    assert element_drawer(seeded("en_US"), "city") is None
    assert element_drawer(seeded("en_US"), "no_such_method") is None


def test_a_drawer_that_draws_differently_is_refused_and_the_generator_kept():
    faker = seeded("en_US")
    state = faker.random.getstate()
    assert not _same_draws(faker.last_name, lambda: faker.random.random() and "Smith", faker.random)
    assert faker.random.getstate() == state
    assert _same_draws(faker.last_name, element_drawer(faker, "last_name"), faker.random)
    assert faker.random.getstate() == state
