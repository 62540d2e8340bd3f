"""Shared fixtures: small specs and helpers to read outputs back."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

SMALL_SPEC = {
    "name": "small",
    "seed": 7,
    "as_of": "2024-06-30",
    "tables": {
        "customers": {
            "rows": 5000,
            "columns": {
                "customer_id": {"kind": "id", "format": "C-{:05d}"},
                "tier": {"kind": "categorical", "values": {"Free": 60, "Pro": 30, "Enterprise": 10}},
                "arr": {"kind": "lognormal", "round": 2, "by": "tier",
                        "cases": {"Enterprise": {"mean": 11, "sigma": 0.5},
                                  "Pro": {"mean": 8, "sigma": 0.6}, "Free": 0}},
                "city": {"kind": "faker", "provider": "city", "pool": 200},
                "signup": {"kind": "date", "start": "-2y", "end": "-6mo"},
                "active": {"kind": "boolean", "p": 0.8, "nulls": 0.1},
            },
        },
        "events": {
            "rows": 9000,
            "columns": {
                "event_id": {"kind": "uuid"},
                "n": {"kind": "poisson", "lam": 3},
                "price": {"kind": "lognormal", "mean": 2, "sigma": 0.7, "round": 2},
                "total": {"kind": "expression", "expr": "n * price"},
                "at": {"kind": "timestamp", "start": "-30d", "end": "today", "unit": "ms"},
            },
        },
    },
}


@pytest.fixture
def small_spec() -> dict:
    return json.loads(json.dumps(SMALL_SPEC))


@pytest.fixture(autouse=True)
def _isolated_pool_cache(tmp_path_factory, monkeypatch):
    """Tests share one pool cache per session, never the user's home cache."""
    monkeypatch.setenv("FABULA_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "fabula-cache"))


def read_table(out: Path, table: str) -> pa.Table:
    """A table read back from its part files, in part order."""
    files = sorted((out / table).glob("part-*.parquet"))
    return pa.concat_tables([pq.read_table(path) for path in files])


def file_digests(out: Path) -> dict[str, str]:
    return {str(path.relative_to(out)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(out.rglob("*.parquet"))}


def content_digest(table: pa.Table) -> str:
    """A digest of a table's values that does not depend on chunking or encoding."""
    digest = hashlib.sha256()
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        digest.update(name.encode())
        digest.update(json.dumps(column.to_pylist(), default=str).encode())
    return digest.hexdigest()
