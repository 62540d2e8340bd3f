"""Small answers kept on disk between runs: what a third-party package says (Faker's locales, the
holidays of a country, how DuckDB parses a spec's SQL), the same until that package, or the code
that asks, changes.

Each answer is one JSON file under `$FABULA_CACHE_DIR/<folder>/` (default `~/.cache/fabula/`, the
Faker pools' folder too), named by a hash of its recipe (the question and the versions it depends
on). A missing or damaged file is rebuilt, and a read-only cache folder only costs speed.

Standard library only, and nothing of fabula: every layer may use it.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from functools import cache
from pathlib import Path
from typing import Any


@cache
def code_version(source_file: str) -> str:
    """A short hash of a module's own text (`code_version(__file__)`): an answer that fabula's code
    computes, not only the package's, is asked again when that code changes, released or not."""
    try:
        return hashlib.sha256(Path(source_file).read_bytes()).hexdigest()[:16]
    except OSError:  # a module that is not a file (imported from an archive): answers for this process only
        return f"process-{os.getpid()}-{threading.get_ident()}"


def cache_folder(name: str) -> Path:
    root = os.environ.get("FABULA_CACHE_DIR") or os.path.join(Path.home(), ".cache", "fabula")
    return Path(root) / name


def answer_path(folder: str, recipe: Any) -> Path:
    """Where the answer to `recipe` (JSON-able, dates and other values by their repr) is kept."""
    text = json.dumps(recipe, sort_keys=True, default=lambda value: {"repr": repr(value)})
    return cache_folder(folder) / f"{hashlib.sha256(text.encode()).hexdigest()[:32]}.json"


def read_json(path: Path) -> Any | None:
    """The JSON value in `path`, or None when it is absent or damaged (then rebuild it)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_json(path: Path, value: Any) -> None:
    """Write `value` whole (readers see the whole file or none); a cache that cannot be written is skipped."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.parent / f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp"
        temporary.write_text(json.dumps(value), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        pass  # a read-only home only costs speed
