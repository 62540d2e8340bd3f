"""What the spec checks ask of Faker is read from the disk cache when it can be, and the answer
is the one Faker gives (issue 16: a spec with faker columns is checked without importing Faker)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from fabula.spec import faker_facts
from fabula.spec.faker_facts import (
    OtherDefault,
    faker_locales,
    faker_providers,
    provider_parameters,
    trial_call,
)

CACHED = (faker_locales, faker_providers, provider_parameters, trial_call)

PARAMETERS = [("en_US", "bothify"), ("en_US", "pystr"), ("en_US", "date_between"), ("en_US", "random_element"),
              ("en_US", "pyfloat"), ("en_US", "boolean"), ("en_US", "phone_number"), ("en_US", "no_such_provider"),
              ("de_DE", "name")]


def forget() -> None:
    """Drop the process's memory of answers, so the next question reads the disk cache."""
    for function in CACHED:
        function.cache_clear()


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FABULA_CACHE_DIR", str(tmp_path))
    forget()
    yield tmp_path / "faker-facts"
    forget()


def test_locales_and_providers_are_fakers(empty_cache):
    from faker import Faker
    from faker.config import AVAILABLE_LOCALES

    assert faker_locales() == tuple(AVAILABLE_LOCALES)  # cold
    providers = faker_providers("en_US")
    assert {"name", "bothify", "phone_number"} <= providers and not {"seed", "format", "_", "random"} & providers
    assert all(callable(getattr(Faker("en_US"), name)) for name in providers)
    forget()
    assert faker_locales() == tuple(AVAILABLE_LOCALES) and faker_providers("en_US") == providers  # warm
    assert len(list(empty_cache.glob("*.json"))) == 2


@pytest.mark.parametrize(("locale", "provider"), PARAMETERS)
def test_parameters_keep_their_order_and_the_family_of_their_default(empty_cache, locale, provider):
    built = faker_facts._build_parameters(locale, provider)
    cold = provider_parameters(locale, provider)
    forget()
    warm = provider_parameters(locale, provider)
    if built is None:
        assert cold is None and warm is None
        return
    assert list(cold) == list(warm) == list(built)
    for name, default in built.items():
        for found in (cold, warm):
            if default is None or isinstance(default, (bool, int, float, str)):
                assert type(found[name]) is type(default) and found[name] == default, name
            else:  # only its family is ever looked at: anything but None, a bool, a number or text
                assert isinstance(found[name], OtherDefault) and repr(found[name]) == repr(default)


def test_a_trial_call_is_fakers_answer_and_kept_for_the_day(empty_cache):
    args = (("text", "EU#########"),)
    assert trial_call("en_US", "bothify", args) == (None, 11)
    bad = (("end_date", "-10y"), ("start_date", "today"))
    problem, length = trial_call("en_US", "date_between", bad)
    assert problem and length == 0
    forget()
    assert trial_call("en_US", "bothify", args) == (None, 11)
    assert trial_call("en_US", "date_between", bad) == (problem, 0)
    for path in empty_cache.glob("*.json"):  # found on another day: asked again
        path.write_text(json.dumps({"day": "2000-01-01", "answer": [None, 12345]}))
    forget()
    assert trial_call("en_US", "bothify", args) == (None, 11)


@pytest.mark.parametrize("damage", ['not json', '{"a": 1}', '{"answer": [1, "x"]}', '', '{"answer": {"a": 1}}',
                                    '{"answer": [["x", "int", "1"]]}', '{"day": null}'])
def test_a_damaged_file_is_rebuilt(empty_cache, damage):
    expected = (faker_locales(), faker_providers("en_US"), list(provider_parameters("en_US", "pystr").items()),
                trial_call("en_US", "bothify", (("text", "##"),)))
    for path in empty_cache.glob("*.json"):
        path.write_text(damage)
    forget()
    found = (faker_locales(), faker_providers("en_US"), list(provider_parameters("en_US", "pystr").items()),
             trial_call("en_US", "bothify", (("text", "##"),)))
    assert found == expected
    forget()
    assert (faker_locales(), faker_providers("en_US")) == expected[:2]  # and written again whole


def test_a_cache_that_cannot_be_written_only_costs_speed(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("FABULA_CACHE_DIR", str(blocker))
    forget()
    try:
        assert "en_US" in faker_locales() and "name" in faker_providers("en_US")
        assert trial_call("en_US", "bothify", (("text", "#"),)) == (None, 1)
    finally:
        forget()


def test_a_warm_cache_does_not_import_faker(empty_cache):
    """The checks of a spec with faker columns, arguments included, import Faker only once."""
    code = ("import sys; import fabula; fabula.load_spec('saas_support'); print('faker' in sys.modules)")
    env = {"FABULA_CACHE_DIR": str(empty_cache.parent), "PATH": ""}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
            for _ in range(2)]
    assert [run.stdout.strip() for run in runs] == ["True", "False"]  # cold, then warm
