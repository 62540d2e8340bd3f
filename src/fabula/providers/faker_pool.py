"""Pools of distinct Faker values, built once and sampled at NumPy speed.

Calling Faker per row runs at 5–20K values/s; a pool sample runs at tens of millions. A pool
is a pure function of (Faker version, locale, provider, arguments, size): Faker is seeded from
a hash of those, so the same pool comes back on any machine, and two columns with the same
provider share a vocabulary while sampling from it independently (their own streams).

Built pools are cached on disk (`$FABULA_CACHE_DIR`, default `~/.cache/fabula`), because
building 5,000 values takes about half a second per column and the result never changes for a
given Faker version. A pool holds at most `size` distinct values; a provider with fewer
possible values (Faker's en_US `first_name` has about 700) gives a smaller pool.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc

from fabula.streams import stream_key

# Stop when this many draws in a row bring nothing new: the provider has run out of values.
_STALE_DRAWS = 2_000
_lock = threading.Lock()
_memory: dict[str, pa.Array] = {}


@cache
def faker_version() -> str:
    """Faker's version, which keys every pool and table: read from the installed package's
    metadata (the same string as `faker.VERSION`), so a run whose pools are all cached never
    imports Faker, a tenth of a second."""
    return version("Faker")


def pool_recipe(provider: str, locale: str, size: int, args: Mapping[str, Any]) -> dict[str, Any]:
    return {"faker": faker_version(), "provider": provider, "locale": locale, "size": size,
            "args": {key: _jsonable(value) for key, value in sorted(args.items())}}


def build_pool(provider: str, *, locale: str = "en_US", size: int = 5000,
               args: Mapping[str, Any] | None = None, cache: bool = True) -> pa.Array:
    """Up to `size` distinct values of a Faker provider, in a reproducible order.

    >>> pool = build_pool("city", size=3, cache=False)
    >>> len(pool), pool.type
    (3, DataType(string))
    """
    recipe = pool_recipe(provider, locale, size, args or {})
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:32]
    with _lock:
        if key in _memory:
            return _memory[key]
    pool = _read_cache(key) if cache else None
    if pool is None:
        pool = _draw_distinct(recipe)
        if cache:
            _write_cache(key, pool)
    with _lock:
        _memory[key] = pool
    return pool


def _draw_distinct(recipe: Mapping[str, Any]) -> pa.Array:
    from faker import Faker

    faker = Faker(recipe["locale"])
    words = stream_key("faker-pool", json.dumps(recipe, sort_keys=True))
    faker.seed_instance(words[0] << 32 | words[1])
    method = getattr(faker, recipe["provider"])
    args = recipe["args"]
    seen: dict[Any, None] = {}
    stale = 0
    while len(seen) < recipe["size"] and stale < _STALE_DRAWS:
        value = _plain(method(**args))
        if value in seen:
            stale += 1
        else:
            seen[value] = None
            stale = 0
    values = list(seen)
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([str(value) for value in values], type=pa.string())


def _plain(value: Any) -> Any:
    """Faker values as Arrow-friendly scalars (hashable, one type per provider)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, (str, int, float, bool, date)):
        return value
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _cache_dir() -> Path:
    root = os.environ.get("FABULA_CACHE_DIR") or os.path.join(Path.home(), ".cache", "fabula")
    return Path(root) / "faker-pools"


def _read_cache(key: str) -> pa.Array | None:
    path = _cache_dir() / f"{key}.arrow"
    try:
        with ipc.open_file(path) as reader:
            return reader.read_all().column(0).combine_chunks()
    except (OSError, pa.ArrowInvalid):
        return None  # absent or damaged: rebuild


def _write_cache(key: str, pool: pa.Array) -> None:
    folder = _cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{key}.{os.getpid()}.tmp"
        table = pa.table({"value": pool})
        with ipc.new_file(temporary, table.schema) as writer:
            writer.write_table(table)
        os.replace(temporary, folder / f"{key}.arrow")
    except OSError:
        pass  # a read-only home only costs speed
