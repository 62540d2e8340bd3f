"""Fuzzing the built-in specs: whatever a mutation does to them (keys, values, types, deleted or
duplicated entries), `check` and `preview` answer with exit code 0 or 2 and a message — never a
traceback, an internal error, or a file written outside their temporary folder.

In-process through click's CliRunner (a subprocess per example would take minutes), calling the
same `main` a user's `fabula` runs, so its error handling is what is tested. The working folder
is the repository's; nothing may appear there or beside the spec.
"""

from __future__ import annotations

import copy
import os
from datetime import date
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from fabula.cli.main import main
from fabula.scenarios import builtin_names, builtin_text

ROOT = Path(__file__).resolve().parents[2]
BUILTINS = {name: yaml.safe_load(builtin_text(name)) for name in builtin_names()}


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                 "help_option_names": []})
@click.pass_context
def fabula_command(ctx):
    """`fabula ARGS...`, through the real entry point and its error handling."""
    main(list(ctx.args))


# -- mutations ---------------------------------------------------------------------------------

ODD_VALUES = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2**63 - 1, 2**63, -(2**63), 10**20, 65536]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e300, -1e300, 1e-300, 0.5]),
    st.text(max_size=20),
    st.sampled_from(["", "today", "-999999999y", "2024-02-30", "../x", "{:999999999d}", "10**10**10",
                     "a * 9223372036854775807", "pad(x, 2000000000)", "lognormal", "sequence", "per",
                     "customers", "customers.customer_id", "\x00", "é" * 50, "x" * 300]),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    st.lists(st.integers(min_value=-5, max_value=5), max_size=4),
    st.dictionaries(st.sampled_from(["kind", "rows", "mean", "per", "count", "values", "x"]),
                    st.integers(min_value=-3, max_value=3), max_size=3),
)

KEYS = st.sampled_from(["kind", "rows", "columns", "per", "count", "by", "cases", "values", "start", "end",
                        "format", "expr", "template", "to", "timeline", "after", "lag", "unique", "nulls",
                        "round", "clip", "pool", "provider", "args", "seed", "as_of", "name", "sigma", "x"])


def _containers(data, path=()):
    """(path, container) of every mapping and list inside `data`."""
    if isinstance(data, dict):
        yield path, data
        for key, value in data.items():
            yield from _containers(value, (*path, key))
    elif isinstance(data, list):
        yield path, data
        for index, value in enumerate(data):
            yield from _containers(value, (*path, index))


@st.composite
def mutated_spec(draw):
    name = draw(st.sampled_from(sorted(BUILTINS)))
    data = copy.deepcopy(BUILTINS[name])
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        places = list(_containers(data))
        _, container = places[draw(st.integers(min_value=0, max_value=len(places) - 1))]
        keys = list(container) if isinstance(container, dict) else list(range(len(container)))
        action = draw(st.sampled_from(["delete", "duplicate", "replace", "rename", "wrap", "add"]))
        if not keys or action == "add":
            if isinstance(container, dict):
                container[draw(KEYS)] = draw(ODD_VALUES)
            else:
                container.append(draw(ODD_VALUES))
            continue
        key = keys[draw(st.integers(min_value=0, max_value=len(keys) - 1))]
        if action == "delete":
            del container[key]
        elif action == "duplicate":
            if isinstance(container, dict):
                container[f"{key}_copy" if isinstance(key, str) else draw(KEYS)] = copy.deepcopy(container[key])
            else:
                container.append(copy.deepcopy(container[key]))
        elif action == "replace":
            container[key] = draw(ODD_VALUES)
        elif action == "rename" and isinstance(container, dict):
            container[draw(st.one_of(KEYS, st.text(max_size=8)))] = container.pop(key)
        elif action == "wrap":
            container[key] = [container[key]]
    return name, data


def _dump(data) -> str:
    try:
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    except yaml.YAMLError:
        return yaml.safe_dump({"name": "unrepresentable"}, sort_keys=False)


def _tree(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.iterdir()}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_spec())
def test_check_and_preview_never_crash(tmp_path_factory, case):
    name, data = case
    text = _dump(data)
    repository_before = _tree(ROOT)
    runner = CliRunner()
    here = tmp_path_factory.mktemp("fuzz")
    spec = here / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    for args in (["check", str(spec)], ["preview", str(spec), "--rows", "2", "--scale", "0.01"]):
        result = runner.invoke(fabula_command, args, catch_exceptions=False)
        shown = result.output + (result.stderr if result.stderr_bytes is not None else "")
        assert result.exit_code in (0, 2), f"{name} → exit {result.exit_code}:\n{shown}\n--- spec ---\n{text}"
        assert "Traceback" not in shown and "internal error" not in shown, f"{shown}\n--- spec ---\n{text}"
        if result.exit_code != 0:
            break
    assert sorted(os.listdir(here)) == ["spec.yaml"], "check and preview write nothing"
    assert _tree(ROOT) == repository_before


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_the_unmutated_builtins_pass(name, tmp_path):
    """The fuzz starts from specs that work: a failure above is the mutation's doing."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(builtin_text(name), encoding="utf-8")
    result = CliRunner().invoke(fabula_command, ["check", str(spec)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
