"""What the spec checks ask of Faker, cached on disk: its locales, a locale's provider methods, a
provider's keyword parameters, and whether a provider accepts a spec's arguments.

Importing Faker, listing its locales and building a `Faker(locale)` cost about a tenth of a
second, paid by every spec with a `faker` column just to check it (issue 16: a small run should
feel instant; its pools are cached already and never import Faker). The answers depend only on
the question, Faker's version (read from its metadata, as the pools are keyed) and this module's
code, so they are kept as small JSON files under `$FABULA_CACHE_DIR/faker-facts/` (`fabula.disk_cache`).

A trial call with a spec's arguments may also depend on the day: Faker's date providers count
from today (`date_between(end_date="today")`), so its answer is kept for the day it was found.

This module is part of the spec layer: standard library only; Faker is imported only to answer
a question the cache does not hold.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import date
from functools import cache, lru_cache
from importlib.metadata import version
from typing import Any

from fabula.disk_cache import answer_path, code_version, read_json, write_json

FOLDER = "faker-facts"


@cache
def faker_locales() -> tuple[str, ...]:
    """Every locale Faker has, in its own order."""
    return tuple(_remembered({"what": "locales"}, _build_locales, _strings))


@cache
def faker_providers(locale: str) -> frozenset[str]:
    """The names of the provider methods of a Faker of `locale` (a known locale)."""
    return frozenset(_remembered({"what": "providers", "locale": locale}, lambda: _build_providers(locale), _strings))


@cache
def provider_parameters(locale: str, provider: str) -> dict[str, Any] | None:
    """The keyword parameters of a Faker provider method → their defaults (None when there is no
    default), in the method's order; None when the method is unknown or takes **kwargs.

    A default that is not None, a bool, a number or text is given as an opaque value (only its
    type family is ever looked at: `fabula.spec.bounds` compares an argument with it); a default
    of a subclass of those types as its plain value."""
    return _decode_parameters(_remembered({"what": "parameters", "locale": locale, "provider": provider},
                                          lambda: _encode_parameters(_build_parameters(locale, provider)),
                                          lambda found: _decode_parameters(found) is not _DAMAGED))


@lru_cache(maxsize=256)
def trial_call(locale: str, provider: str, args: tuple) -> tuple[str | None, int]:
    """One call of the provider with the spec's arguments, to turn Faker's own refusal (a date out
    of range, an empty range) into an issue now rather than a failure while compiling: (the
    refusal's first line, or None; the length of the value). `args` is (name, value) pairs.
    Kept for the day it was found."""
    path = answer_path(FOLDER, {"what": "trial", "locale": locale, "provider": provider, "args": list(args),
                                "faker": _release(), "code": code_version(__file__)})
    today = date.today().isoformat()
    found = read_json(path)
    if isinstance(found, dict) and found.get("day") == today and _is_trial_answer(found.get("answer")):
        problem, length = found["answer"]
        return problem, length
    answer = _build_trial(locale, provider, args)
    write_json(path, {"day": today, "answer": list(answer)})
    return answer


# -- asking Faker ---------------------------------------------------------------------------------

def _build_locales() -> tuple[str, ...]:
    from faker.config import AVAILABLE_LOCALES

    return tuple(AVAILABLE_LOCALES)


def _build_providers(locale: str) -> tuple[str, ...]:
    from faker import Faker

    generator = Faker(locale).factories[0]
    return tuple(sorted(name for name in dir(generator) if not name.startswith("_") and name not in _NOT_PROVIDERS
                        and callable(getattr(generator, name, None))))


# Faker Generator methods that are machinery, not value providers.
_NOT_PROVIDERS = frozenset({
    "add_provider", "get_providers", "provider", "seed", "seed_instance", "set_formatter", "format",
    "get_formatter", "parse", "set_arguments", "get_arguments", "del_arguments", "random",
})


def _build_parameters(locale: str, provider: str) -> dict[str, Any] | None:
    try:
        from faker import Faker

        method = getattr(Faker(locale), provider)
        signature = inspect.signature(method)
    except Exception:  # an unknown locale or provider is reported by the Faker check
        return None
    found: dict[str, Any] = {}
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            return None
        if parameter.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
            default = parameter.default
            found[parameter.name] = None if default is inspect.Parameter.empty else default
    return found


def _build_trial(locale: str, provider: str, args: tuple) -> tuple[str | None, int]:
    """Sizes are bounded above before this call (`fabula.spec.bounds`), so it is quick; the
    value is thrown away."""
    try:
        from faker import Faker

        faker = Faker(locale)
        faker.seed_instance(0)
        value = getattr(faker, provider)(**dict(args))
    except Exception as error:  # noqa: BLE001 - third-party code: any failure is the arguments'
        text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return text[:200], 0
    return None, len(value) if isinstance(value, (str, bytes, list, tuple, dict)) else len(str(value))


# -- the cache ------------------------------------------------------------------------------------

def _remembered(question: dict[str, Any], build: Callable[[], Any], valid: Callable[[Any], bool]) -> Any:
    """The answer to `question` for this Faker version, as JSON gives it back (lists, not
    tuples): read from its file when that holds a `valid` answer, else `build()` and written."""
    path = answer_path(FOLDER, {**question, "faker": _release(), "code": code_version(__file__)})
    found = read_json(path)
    if isinstance(found, dict) and "answer" in found and valid(found["answer"]):
        return found["answer"]
    answer = build()
    answer = list(answer) if isinstance(answer, tuple) else answer
    write_json(path, {"answer": answer})
    return answer


@cache
def _release() -> str:
    return version("Faker")  # its metadata: reading it imports nothing (the pools' key too)


def _strings(found: Any) -> bool:
    return isinstance(found, list) and all(isinstance(item, str) for item in found)


def _is_trial_answer(found: Any) -> bool:
    return (isinstance(found, list) and len(found) == 2 and (found[0] is None or isinstance(found[0], str))
            and type(found[1]) is int)


class OtherDefault:
    """A provider parameter's default that is not None, a bool, a number or text (a tuple, a date…)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


_FAMILIES: tuple[tuple[str, type], ...] = (("bool", bool), ("int", int), ("float", float), ("str", str))
"""The families `fabula.spec.bounds` tells defaults apart by, in the order it asks (bool before int)."""


def _encode_parameters(parameters: dict[str, Any] | None) -> list[list[Any]] | None:
    """[[name, family, value], ...] in the method's order (a JSON object would keep it too, but a
    list says so)."""
    if parameters is None:
        return None
    encoded = []
    for name, default in parameters.items():
        if default is None:
            encoded.append([name, "none", None])
            continue
        family = next((family for family, kind in _FAMILIES if isinstance(default, kind)), None)
        if family is None:
            encoded.append([name, "other", repr(default)])
        else:
            encoded.append([name, family, dict(_FAMILIES)[family](default)])
    return encoded


_DAMAGED = object()


def _decode_parameters(found: Any) -> Any:
    if found is None:
        return None
    if not isinstance(found, list):
        return _DAMAGED
    decoded: dict[str, Any] = {}
    kinds = dict(_FAMILIES)
    for item in found:
        if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)):
            return _DAMAGED
        name, family, value = item
        if family == "none" and value is None:
            decoded[name] = None
        elif family == "other" and isinstance(value, str):
            decoded[name] = OtherDefault(value)
        elif family in kinds and type(value) is kinds[family]:  # JSON writes a float with its point: 1.0
            decoded[name] = value
        else:
            return _DAMAGED
    return decoded
