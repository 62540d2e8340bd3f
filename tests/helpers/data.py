"""Reading an output back, and digests of its files and values."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def read_table(out: Path, table: str) -> pa.Table:
    """A table read back from its part files, in part order."""
    files = sorted((out / table).glob("part-*.parquet"))
    return pa.concat_tables([pq.read_table(path) for path in files])


def file_digests(out: Path) -> dict[str, str]:
    """sha256 of every Parquet file under `out`, by relative path."""
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
