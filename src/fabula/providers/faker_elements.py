"""Faker's draw of one element from a locale's list, made cheap while giving the same values.

Faker's `first_name_female`, `first_name_male`, `last_name` and `company_suffix` are each
`random_element` of a list of the locale. When the list carries weights (an OrderedDict, as
en_US names do), every call copies the ~1,000 weights into a tuple and sums them again before
one binary search: filling the name lists of a locale takes ~42,000 such calls, about two
seconds of a cold first run. The drawer here sums the weights once and then does exactly what
`random.Random.choices` does with them — one `random()` per draw, the same bisection — so it
consumes the generator's random numbers as Faker would and gives the same values in the same
order. It is used only where Faker's own code path is the known one (the method and
`random_element(s)` not overridden by the locale, the list an OrderedDict, tuple or list);
anything else keeps calling Faker. Before use, the first 200 draws of both are compared (and
the generator put back), so a release of Faker or Python that draws differently falls back.
"""

from __future__ import annotations

from bisect import bisect
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from itertools import accumulate
from math import isfinite
from random import Random
from typing import Any

LISTS = {"first_name_female": ("person", "first_names_female"), "first_name_male": ("person", "first_names_male"),
         "last_name": ("person", "last_names"), "company_suffix": ("company", "company_suffixes")}
"""Methods that are `self.random_element(self.<list>)` in Faker's base provider: module, list."""
_CHECKED_DRAWS = 200


def element_drawer(faker: Any, method: str) -> Callable[[], Any] | None:
    """A function giving what `getattr(faker, method)()` would, drawing from the same random
    generator, or None when the method does not take the known path (call Faker then)."""
    if method not in LISTS:
        return None
    from faker.providers import BaseProvider
    from faker.providers.company import Provider as CompanyProvider
    from faker.providers.person import Provider as PersonProvider

    module, attribute = LISTS[method]
    base = PersonProvider if module == "person" else CompanyProvider
    bound = getattr(faker, method, None)
    provider = getattr(bound, "__self__", None)
    if bound is None or provider is None or getattr(bound, "__func__", None) is not getattr(base, method):
        return None  # the locale draws this some other way
    if (type(provider).random_element is not BaseProvider.random_element
            or type(provider).random_elements is not BaseProvider.random_elements):
        return None
    elements = getattr(provider, attribute, None)
    rng = provider.generator.random
    drawer: Callable[[], Any] | None = None
    if isinstance(elements, OrderedDict) and provider.__use_weighting__:
        drawer = _weighted(tuple(elements.keys()), tuple(elements.values()), rng.random)
    elif isinstance(elements, (tuple, list, str)) and elements:
        drawer = partial(rng.choice, elements)  # what `choices_distribution` calls for a plain list
    return drawer if drawer is not None and _same_draws(bound, drawer, rng) else None


def _same_draws(faker_method: Callable[[], Any], drawer: Callable[[], Any], rng: Random) -> bool:
    """Whether both give the same values from the generator's present state (which is kept): a
    guard against a Faker or Python release that draws differently, which then keeps Faker."""
    state = rng.getstate()
    try:
        expected = [faker_method() for _ in range(_CHECKED_DRAWS)]
        rng.setstate(state)
        found = [drawer() for _ in range(_CHECKED_DRAWS)]
    finally:
        rng.setstate(state)
    return found == expected


def _weighted(values: tuple, weights: tuple, random: Callable[[], float]) -> Callable[[], Any] | None:
    """`random.Random.choices(values, weights=weights, k=1)[0]` with the sums done once."""
    cumulative = list(accumulate(weights))
    total = cumulative[-1] + 0.0 if cumulative else 0.0
    if not total > 0.0 or not isfinite(total):
        return None  # `choices` raises for these: let Faker say so
    last = len(values) - 1

    def draw() -> Any:
        return values[bisect(cumulative, random() * total, 0, last)]

    return draw
