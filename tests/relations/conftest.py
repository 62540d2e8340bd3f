"""Fixtures: the shop of `relations/shop.py`, written once per run, and DuckDB over the files."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from relations.shop import RUNS, connect, write_run


@pytest.fixture(scope="session")
def shop_outputs(tmp_path_factory) -> dict[str, Path]:
    """Every run written once as Parquet: run name → output folder."""
    root = tmp_path_factory.mktemp("shop")
    return {run.name: write_run(run, root / run.name) for run in RUNS}


@pytest.fixture(scope="session", params=[run.name for run in RUNS])
def run_db(request, shop_outputs) -> duckdb.DuckDBPyConnection:
    """DuckDB over one run's files (every test using it runs once per layout)."""
    db = connect(shop_outputs[request.param])
    yield db
    db.close()


@pytest.fixture(scope="session")
def shop_db(shop_outputs) -> duckdb.DuckDBPyConnection:
    """DuckDB over the run with the default block size, for the statistics."""
    db = connect(shop_outputs["default-blocks"])
    yield db
    db.close()
