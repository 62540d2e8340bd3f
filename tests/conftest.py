"""Fixtures shared by every test. Helpers that are not fixtures (specs, reading outputs back)
are in the `helpers` package."""

from __future__ import annotations

import json

import pytest

from helpers import SMALL_SPEC


@pytest.fixture
def small_spec() -> dict:
    return json.loads(json.dumps(SMALL_SPEC))


@pytest.fixture(autouse=True)
def _isolated_pool_cache(tmp_path_factory, monkeypatch):
    """Tests share one pool cache per session, never the user's home cache."""
    monkeypatch.setenv("FABULA_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "fabula-cache"))
