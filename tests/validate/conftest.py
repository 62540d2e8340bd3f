"""Fixtures: the shop of `validate/shop.py`, written (and validated) once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from validate.shop import SHOP

import fabula


@pytest.fixture(scope="session")
def shop_spec() -> dict:
    return yaml.safe_load(SHOP)


@pytest.fixture(scope="session")
def shop_output(tmp_path_factory) -> Path:
    """The shop, generated (and validated) once; copy it before changing anything."""
    out = tmp_path_factory.mktemp("shop") / "out"
    fabula.generate(yaml.safe_load(SHOP), out, workers=2)
    return out


@pytest.fixture
def shop_copy(shop_output, tmp_path) -> Path:
    copy = tmp_path / "shop"
    shutil.copytree(shop_output, copy)
    return copy
