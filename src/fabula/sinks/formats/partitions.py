"""Hive-style partition folders (`orders/region=West/part-00000.parquet`), for every format.

A part of a partitioned table is still a fixed run of blocks (so the files are the same for
any worker count and on either engine); its rows are split by the values of the partition
columns, and each partition it has rows in gets one file, named like the unpartitioned part,
in that partition's folder. Within a file, rows keep their order. The partition columns are
in the folder names only, not in the files, as Hive, Spark, Delta, DuckDB and pyarrow expect.

Folder names follow Hive: `name=value`, the value as text (`2024-12-31`, `true`, `42`), the
characters Hive escapes written as `%XX` (`North/South` → `North%2FSouth`), and null as
`__HIVE_DEFAULT_PARTITION__`.

While a part is written, its rows arrive a row group at a time but each file must be written
whole; rather than hold one open file per partition (a year of days is hundreds of open files
per worker), each row group's pieces are appended to one spool file beside the part, and the
partition files are then written one after the other from it: two open files, and memory of
one piece at a time.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from fabula.sinks.base import PartWritten
    from fabula.sinks.formats.registry import PartFormat

NULL_FOLDER = "__HIVE_DEFAULT_PARTITION__"
"""The folder value of a null, as Hive, Spark and pyarrow write and read it."""

_ESCAPED = frozenset('"#%\'*/:=?\\\x7f{[]^') | frozenset(chr(code) for code in range(0x20))
"""What Hive escapes in a partition value (`FileUtils.escapePathName`)."""


def escape(text: str) -> str:
    """A value as Hive writes it in a folder name.

    >>> escape("North/South"), escape("a=b 100%")
    ('North%2FSouth', 'a%3Db 100%25')
    """
    return "".join(f"%{ord(char):02X}" if char in _ESCAPED else char for char in text)


def unescape(text: str) -> str:
    """The value a folder name holds.

    >>> unescape("North%2FSouth")
    'North/South'
    """
    return re.sub(r"%([0-9A-Fa-f]{2})", lambda match: chr(int(match.group(1), 16)), text)


def value_text(value) -> str | None:
    """A partition value as folder text: dates in ISO 8601, booleans `true`/`false`.

    >>> value_text(dt.date(2024, 1, 2)), value_text(True), value_text(7), value_text(None)
    ('2024-01-02', 'true', '7', None)
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def folder_of(names: Sequence[str], values: Sequence) -> str:
    """The partition folder (relative to the table's) of one combination of values.

    >>> folder_of(["region", "day"], ["West", dt.date(2024, 1, 2)])
    'region=West/day=2024-01-02'
    """
    parts = []
    for name, value in zip(names, values):
        text = value_text(value)
        parts.append(f"{name}={NULL_FOLDER if text is None else escape(text)}")
    return "/".join(parts)


def folder_values(relative: str) -> dict[str, str | None]:
    """The partition values in a file's path (relative to its table's folder or to the output),
    as text: every `name=value` folder above the file.

    >>> folder_values("orders/region=North%2FSouth/day=__HIVE_DEFAULT_PARTITION__/part-00000.csv")
    {'region': 'North/South', 'day': None}
    """
    found = {}
    for segment in relative.split("/")[:-1]:
        name, equals, value = segment.partition("=")
        if equals:
            found[name] = None if value == NULL_FOLDER else unescape(value)
    return found


def row_folders(rows: pa.Table | pa.RecordBatch, names: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The partition folders of some rows: the distinct folders (sorted) and each row's index
    into them. Vectorised: each column is dictionary-encoded, and only its distinct values are
    turned into text."""
    codes = np.zeros(rows.num_rows, dtype=np.int64)
    levels: list[list] = []
    for name in names:
        column = rows.column(name)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        encoded = pc.dictionary_encode(column)
        values = encoded.dictionary.to_pylist()
        indices = encoded.indices.fill_null(len(values)).to_numpy(zero_copy_only=False).astype(np.int64)
        codes = codes * (len(values) + 1) + indices
        levels.append([*values, None])
    distinct, inverse = np.unique(codes, return_inverse=True)
    folders = []
    for code in distinct.tolist():
        values = []
        for level in reversed(levels):
            code, index = divmod(code, len(level))
            values.append(level[index])
        folders.append(folder_of(names, values[::-1]))
    order = sorted(range(len(folders)), key=folders.__getitem__)  # by folder name, not by code
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return [folders[index] for index in order], rank[inverse.reshape(-1)]


def write_partitioned(root: Path, target: Path, table: str, file_name: str, part: int, schema: pa.Schema,
                      partition_by: Sequence[str], row_groups: Iterable[pa.Table],
                      fmt: PartFormat) -> tuple[PartWritten, ...]:
    """Write one part of a partitioned table under `root`: `table/<folder>/<file_name>` for each
    partition the rows fall in; return each file as written, in path order (none for no rows)."""
    from fabula.manifest import file_sha256
    from fabula.sinks.base import PartWritten
    from fabula.sinks.folder import write_errors

    data_schema = pa.schema([field for field in schema if field.name not in partition_by])
    file_schema = fmt.file_schema(data_schema)
    spool_path = root / table / f".{file_name}.{uuid.uuid4().hex[:8]}.spool"
    written = []
    with write_errors(target, f"writing {table}/{file_name} by partition"):
        (root / table).mkdir(exist_ok=True)
        try:
            with _Spool(spool_path) as spool:
                for group in row_groups:
                    folders, index = row_folders(group, partition_by)
                    order = np.argsort(index, kind="stable")  # each folder's rows, in row order
                    bounds = np.searchsorted(index[order], np.arange(len(folders) + 1))
                    data = group.drop_columns(list(partition_by))
                    for position, folder in enumerate(folders):
                        rows = order[bounds[position]:bounds[position + 1]]
                        spool.add(folder, data.take(pa.array(rows)).cast(file_schema))
                for folder in sorted(spool.folders):
                    relative = f"{table}/{folder}/{file_name}"
                    path = root / relative
                    path.parent.mkdir(parents=True, exist_ok=True)
                    file_rows = fmt.write_whole(path, file_schema, spool.pieces(folder))
                    written.append(PartWritten(table, part, relative, file_rows, path.stat().st_size,
                                               file_sha256(path)))
        finally:
            if spool_path.exists():
                spool_path.unlink()
    return tuple(written)


class _Spool:
    """Pieces of rows by folder, kept in one local file as Arrow IPC streams (each piece its
    own stream, so dictionaries may differ between pieces) and read back folder by folder."""

    def __init__(self, path: Path):
        self.path = path
        self._file = open(path, "wb")
        self._where: dict[str, list[tuple[int, int]]] = {}
        self._offset = 0

    def __enter__(self) -> _Spool:
        return self

    def __exit__(self, *exc) -> None:
        self._file.close()

    @property
    def folders(self) -> list[str]:
        return list(self._where)

    def add(self, folder: str, rows: pa.Table) -> None:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, rows.schema) as writer:
            writer.write_table(rows)
        buffer = sink.getvalue()
        self._file.write(buffer)
        self._where.setdefault(folder, []).append((self._offset, buffer.size))
        self._offset += buffer.size

    def pieces(self, folder: str) -> Iterator[pa.Table]:
        self._file.flush()
        with pa.OSFile(str(self.path), "rb") as source:
            for offset, size in self._where[folder]:
                yield pa.ipc.open_stream(source.read_at(size, offset)).read_all()


def with_partition_columns(batch: pa.RecordBatch, schema: pa.Schema,
                           values: Mapping[str, str | None]) -> pa.RecordBatch:
    """A file's rows with the partition columns its folders name put back, typed as `schema`
    says and in its column order (columns neither in the file nor in `values` stay absent)."""
    columns, fields = [], []
    for field in schema:
        if field.name in batch.schema.names:
            columns.append(batch.column(field.name))
            fields.append(batch.schema.field(field.name))
        elif field.name in values:
            columns.append(constant(values[field.name], field.type, batch.num_rows))
            fields.append(field)
    return pa.RecordBatch.from_arrays(columns, schema=pa.schema(fields))


def constant(text: str | None, kind: pa.DataType, rows: int) -> pa.Array:
    """`rows` copies of a folder's value, as a column of type `kind`.

    >>> constant("2024-01-02", pa.date32(), 2).to_pylist()
    [datetime.date(2024, 1, 2), datetime.date(2024, 1, 2)]
    """
    plain = kind.value_type if pa.types.is_dictionary(kind) else kind
    if text is None:
        return pa.nulls(rows, kind)
    value = pc.cast(pa.array([text]), plain) if not pa.types.is_string(plain) else pa.array([text], plain)
    repeated = pa.repeat(value[0], rows) if rows else pa.array([], plain)
    return repeated.dictionary_encode().cast(kind) if pa.types.is_dictionary(kind) else repeated
