"""Docstring examples are part of the docs, so they are tested (CONVENTIONS 12).

Run through the installed package rather than pytest's --doctest-modules, which would import
each module a second time under another name."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import fabula

MODULES = ["fabula", *sorted(info.name for info in pkgutil.walk_packages(fabula.__path__, "fabula.")
                             if not info.name.endswith("__main__"))]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_examples_exist():
    """Guard against the collection silently finding nothing."""
    found = sum(len(doctest.DocTestFinder().find(importlib.import_module(name))) for name in MODULES)
    assert found > 20
