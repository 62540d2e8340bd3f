"""Outputs in object stores (`s3://`, `gs://`, `abfss://`), where there is no rename.

The output is written and checked in a local staging folder exactly as a local one (same
files, same validation), then uploaded in an order that makes the manifest the commit:

1. before any work, the target prefix is checked against the mode: `error` wants nothing
   there; `overwrite` replaces only an output whose `manifest.json` is fabula's and that holds
   nothing else;
2. every data file is uploaded (a Delta table's `_delta_log` after its data files), then the
   reports;
3. `manifest.json` is uploaded **last**: an object store writes an object whole, so from that
   moment the output is complete; before it, a reader that goes by the manifest sees the
   previous output (or none);
4. only then are the previous output's files that the new manifest does not list deleted.

A run that fails before step 3 leaves the previous output readable by its manifest (files of
the failed run may remain beside it; the next overwrite removes what no manifest lists only if
they are fabula's, so clean a failed prefix by hand or write to a new one). Object stores have
no lock: two runs to one prefix at once are not detected. Credentials come from each cloud's
standard chain, through pyarrow's filesystems (AWS: environment, profile, instance role; GCS:
application default credentials; Azure: environment or managed identity).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa

from fabula.errors import OutputError
from fabula.manifest import FileEntry, Manifest, parse_manifest
from fabula.plan.model import Plan, TablePlan
from fabula.sinks.base import Capabilities, PartWriter, PartWritten, Written
from fabula.sinks.files import FilesSink

SCHEMES = ("s3", "gs", "gcs", "abfs", "abfss", "az")
MANIFEST = "manifest.json"


def is_remote(out: str | Path) -> bool:
    """True for an object-store URI (`s3://bucket/prefix`, …).

    >>> is_remote("s3://lake/sales"), is_remote("out/sales")
    (True, False)
    """
    text = str(out)
    return "://" in text and text.split("://", 1)[0].lower() in SCHEMES


def open_store(uri: str):
    """(filesystem, path inside it) for an object-store URI, or an OutputError saying why not."""
    from pyarrow import fs

    try:
        return fs.FileSystem.from_uri(uri.rstrip("/"))
    except (pa.ArrowException, OSError, ValueError) as error:
        raise OutputError(f"cannot open the object store at {uri}: {error}",
                          hint="check the URI (s3://bucket/prefix) and your cloud credentials") from None


def read_text(uri: str, name: str) -> str:
    """A small file of a remote output (the manifest, a report), as text."""
    store, root = open_store(uri)
    with store.open_input_stream(f"{root}/{name}") as stream:
        return stream.read().decode("utf-8")


class RemoteSink:
    """An output under an object-store prefix; see the module's docstring for the commit."""

    capabilities = Capabilities(atomic_commit=False, shared_staging=False)

    def __init__(self, out: str, *, output_format: str = "parquet", mode: str = "error", compression: str = "snappy"):
        if mode not in ("error", "overwrite"):
            raise OutputError(f"--mode {mode} is not available for object stores yet",
                              hint="use --mode error or overwrite, or append to a local folder and copy it")
        self.uri = out.rstrip("/")
        self.mode = mode
        self.output_format = output_format
        self.store, self.root = open_store(self.uri)
        self._local = Path(tempfile.mkdtemp(prefix="fabula-upload-"))
        self._inner = FilesSink(self._local / "out", output_format=output_format, mode="error",
                                compression=compression)
        self._previous: Manifest | None = None
        self.committed: Manifest | None = None

    def open(self, plan: Plan) -> None:
        self._previous = self._check_target()
        self._inner.open(plan)

    def _existing(self) -> list[str]:
        from pyarrow import fs

        info = self.store.get_file_info(self.root)
        if info.type == fs.FileType.NotFound:
            return []
        selector = fs.FileSelector(self.root, recursive=True, allow_not_found=True)
        return sorted(entry.path[len(self.root) + 1:] for entry in self.store.get_file_info(selector)
                      if entry.type == fs.FileType.File)

    def _check_target(self) -> Manifest | None:
        existing = self._existing()
        if not existing:
            return None
        if self.mode == "error":
            raise OutputError(f"the output {self.uri} already holds {len(existing)} objects",
                              hint="pass --mode overwrite to replace it, or choose another --out")
        if MANIFEST not in existing:
            raise OutputError(f"refusing to overwrite {self.uri}: it holds objects and no {MANIFEST}, "
                              "so fabula did not write it", hint="choose an empty or new prefix for --out")
        with self.store.open_input_stream(f"{self.root}/{MANIFEST}") as stream:
            previous = parse_manifest(stream.read(), where=f"{self.uri}/{MANIFEST}")
        if not previous.digest_matches:
            raise OutputError(f"refusing to overwrite {self.uri}: its {MANIFEST} was edited after fabula wrote it",
                              hint="choose an empty or new prefix for --out")
        listed = {entry.path for entry in previous.files()}
        unlisted = [name for name in existing if name not in listed and name != MANIFEST
                    and "/_delta_log/" not in f"/{name}"]
        if unlisted:
            raise OutputError(f"refusing to overwrite {self.uri}: it holds {', '.join(unlisted[:5])}, "
                              "which fabula did not write", hint="move those out first, or choose another --out")
        return previous

    @property
    def staging(self) -> Path | None:
        return self._inner.staging

    def part_writer(self) -> PartWriter:
        return self._inner.part_writer()

    def write_part(self, table: TablePlan, part: int, row_groups: Iterable[pa.Table]) -> Written:
        return self._inner.write_part(table, part, row_groups)

    def stage_report(self, name: str, data: bytes) -> FileEntry:
        return self._inner.stage_report(name, data)

    def write_table(self, name: str, rows: pa.Table, *, description: str | None = None) -> PartWritten:
        return self._inner.write_table(name, rows, description=description)

    def commit(self, manifest: Manifest) -> None:
        self._inner.commit(manifest)  # the complete output, locally
        self.committed = self._inner.committed
        folder = self._inner.target
        files = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())
        # data first, each Delta log after its table's data, reports, and the manifest last
        order = sorted((name for name in files if name != MANIFEST),
                       key=lambda name: ("/" not in name, "/_delta_log/" in name, name))
        try:
            for name in [*order, MANIFEST]:
                self._upload(folder / name, name)
            if self._previous is not None:
                for name in sorted({entry.path for entry in self._previous.files()} - set(files)):
                    self.store.delete_file(f"{self.root}/{name}")
        except OSError as error:
            raise OutputError(f"cannot write the output {self.uri}: {error}",
                              hint="check your credentials and the bucket's permissions") from None
        finally:
            shutil.rmtree(self._local, ignore_errors=True)

    def _upload(self, source: Path, name: str) -> None:
        with open(source, "rb") as local, self.store.open_output_stream(f"{self.root}/{name}") as remote:
            shutil.copyfileobj(local, remote, length=8 * 2**20)

    def abort(self) -> None:
        self._inner.abort()
        shutil.rmtree(self._local, ignore_errors=True)

