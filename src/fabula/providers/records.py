"""Tables of Faker draws (component lists, address records), built once per recipe and cached.

Like the pools of `faker_pool`, a table is a pure function of its recipe (Faker version, what is
drawn, locale, size, and this module's `version` of the builder): Faker is seeded from a hash of
the recipe, never from the dataset seed, and the result is kept in memory and on disk as an
Arrow file next to the Faker pools (`$FABULA_CACHE_DIR/faker-records/`).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc

from fabula.providers.faker_pool import faker_version
from fabula.streams import stream_key

_lock = threading.Lock()
_memory: dict[str, pa.Table] = {}


def build_records(what: str, *, locale: str, size: int, draw: Callable[[Any], Mapping[str, Any] | None],
                  version: int = 1, cache: bool = True) -> pa.Table:
    """Up to `size` distinct rows of `draw(faker)` (a mapping of column → value, or None to skip),
    from a Faker of `locale` seeded by the recipe. Building stops early when draws stop bringing
    new rows, as pools do.

    >>> table = build_records("city", locale="en_US", size=3, draw=lambda f: {"city": f.city()}, cache=False)
    >>> table.num_rows, table.column_names
    (3, ['city'])
    """
    recipe = {"faker": faker_version(), "what": what, "locale": locale, "size": size, "version": version}
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:32]
    with _lock:
        if key in _memory:
            return _memory[key]
    table = _read(key) if cache else None
    if table is None:
        table = _draw(recipe, draw)
        if cache:
            _write(key, table)
    with _lock:
        _memory[key] = table
    return table


_STALE_DRAWS = 2_000


def _draw(recipe: Mapping[str, Any], draw) -> pa.Table:
    from faker import Faker

    faker = Faker(recipe["locale"])
    words = stream_key("faker-records", json.dumps(recipe, sort_keys=True))
    faker.seed_instance(words[0] << 32 | words[1])
    seen: dict[tuple, dict[str, Any]] = {}
    stale = 0
    while len(seen) < recipe["size"] and stale < _STALE_DRAWS:
        row = draw(faker)
        key = None if row is None else tuple(row.items())
        if key is None or key in seen:
            stale += 1
        else:
            seen[key] = dict(row)
            stale = 0
    rows = list(seen.values())
    if not rows:
        raise ValueError(f"Faker ({recipe['locale']}) gave no {recipe['what']}")
    return pa.Table.from_pylist(rows)


def _folder() -> Path:
    root = os.environ.get("FABULA_CACHE_DIR") or os.path.join(Path.home(), ".cache", "fabula")
    return Path(root) / "faker-records"


def _read(key: str) -> pa.Table | None:
    try:
        with ipc.open_file(_folder() / f"{key}.arrow") as reader:
            return reader.read_all().combine_chunks()
    except (OSError, pa.ArrowInvalid):
        return None  # absent or damaged: rebuild


def _write(key: str, table: pa.Table) -> None:
    folder = _folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{key}.{os.getpid()}.tmp"
        with ipc.new_file(temporary, table.schema) as writer:
            writer.write_table(table)
        os.replace(temporary, folder / f"{key}.arrow")
    except OSError:
        pass  # a read-only home only costs speed
