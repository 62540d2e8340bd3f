"""The Volume sink: parts are written to a local staging folder (so validation reads them as it
does for a local run) and uploaded through the Files API as soon as each is written, a few at
a time; the manifest goes last.

The Files API has no rename, so a Volume folder cannot appear atomically. The protocol instead:

1. Before any data: check the catalog, create the schema and volume if missing, and read what
   the folder holds. `--mode error` refuses a folder with anything in it; `--mode overwrite`
   refuses one that fabula did not write (no manifest.json and no in-progress marker).
2. Write `_fabula_incomplete.json` (the in-progress marker: the run and every file it and the
   previous output own), then delete the previous `manifest.json`. From here the folder does not
   look complete to `fabula validate` or to anyone who reads the manifest first.
3. Upload every data file, then the reports.
4. Upload `manifest.json`: the output is now complete.
5. Delete files of the previous output that the new manifest does not list, then the marker.

A failure in 3 deletes what this run uploaded and the marker (when nothing else is left); an
interrupted process leaves the marker and no manifest, and the next `--mode overwrite` run
cleans up exactly the files the marker lists. Spark and Auto Loader skip names starting with
`_`, so the marker is never read as data.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pyarrow as pa

from fabula.databricks.client import WorkspaceError, workspace_client
from fabula.databricks.files import VolumeFiles
from fabula.databricks.paths import VolumePath
from fabula.databricks.unity import ensure_volume
from fabula.errors import OutputError
from fabula.manifest import MANIFEST, FileEntry, Manifest, parse_manifest
from fabula.plan.model import Plan, TablePlan
from fabula.sinks.base import Capabilities, PartWriter, PartWritten, written_files
from fabula.sinks.choices import MODES
from fabula.sinks.parquet import ParquetSink

MARKER = "_fabula_incomplete.json"
UPLOADS_IN_FLIGHT = 4

Uploaded = Callable[[int], None]
"""Called with the bytes of each file once it is uploaded (from upload threads)."""

Opened = TypeVar("Opened")


class VolumeSink:
    """Writes the same files as `ParquetSink` into `dbfs:/Volumes/<catalog>/<schema>/<volume>/<folder>`.

    `client` is a `databricks.sdk.WorkspaceClient`; by default one is made from the SDK's
    unified configuration (`profile` picks a ~/.databrickscfg profile)."""

    capabilities = Capabilities(atomic_commit=False, shared_staging=False)
    output_format = "parquet"

    def __init__(self, target: VolumePath, *, mode: str = "error", compression: str = "snappy", client=None,
                 profile: str | None = None, uploads: int = UPLOADS_IN_FLIGHT, uploaded: Uploaded | None = None):
        if mode not in MODES:
            raise WorkspaceError(f"unknown write mode {mode!r}", hint=f"use one of: {', '.join(MODES)}")
        self.target = target
        self.mode = mode
        self.compression = compression
        self.client = client
        self.profile = profile
        self.uploads = max(1, uploads)
        self.uploaded = uploaded
        self.created: list[str] = []
        """What `open` created in Unity Catalog (schema, volume), for the CLI to say."""
        self._files: VolumeFiles | None = None
        self._local: ParquetSink | None = None
        self._folder: Path | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[Future] = []
        self._reports: list[str] = []
        self._sent: set[str] = set()
        self._lock = threading.Lock()
        self._previous: set[str] = set()
        self._marker_written = False

    # -- open: check, create, claim the folder ------------------------------------------------------

    def open(self, plan: Plan) -> None:
        partitioned = [table.name for table in plan.tables if table.partition_by]
        if partitioned:  # formats (issue 13): the claim marker lists a run's files before they exist
            raise OutputError(f"a Volume takes unpartitioned tables for now, and {', '.join(partitioned)} "
                              "has `partition_by:`", hint="write to a local folder or an object store, or on "
                                                        "Databricks compute to the mounted /Volumes/… path")
        if self.client is None:
            self.client = workspace_client(self.profile)
        self.created = ensure_volume(self.client, self.target, comment=plan.spec.description)
        self._files = VolumeFiles(self.client, self.target)
        self._previous = self._owned_files()
        try:
            self._folder = Path(tempfile.mkdtemp(prefix="fabula-volume-"))
            self._local = ParquetSink(self._folder / "out", mode="error", compression=self.compression)
            self._local.open(plan)
            planned = [f"{table.name}/part-{index:05d}.parquet" for table in plan.tables
                       for index, _ in enumerate(plan.layout.parts(table))]
            self._claim(planned)
            self._pool = ThreadPoolExecutor(max_workers=self.uploads, thread_name_prefix="fabula-upload")
        except BaseException:
            self.abort()
            raise

    def _owned_files(self) -> set[str]:
        """The files of the output already in the folder that fabula may replace; refuses a folder
        the mode does not allow."""
        present = set(self._volume.listing())
        if not present:
            return set()
        if self.mode == "error":
            raise WorkspaceError(f"the output folder {self.target} already exists and is not empty",
                                 hint="pass --mode overwrite to replace it, or choose another --out")
        owned: set[str] = set()
        for name in (MANIFEST, MARKER):
            if name in present:
                owned |= {name, *_listed(self._volume.read_bytes(name), name, where=f"{self.target}/{name}")}
        if not owned:
            raise WorkspaceError(
                f"refusing to overwrite {self.target}: it is not empty and was not written by fabula "
                f"(no fabula {MANIFEST})", hint="choose an empty or new folder for --out")
        return owned & present

    def _claim(self, planned: list[str]) -> None:
        marker = {"fabula": "an output being written; not complete until manifest.json appears",
                  "run": uuid.uuid4().hex, "files": sorted({*planned, *self._previous} - {MARKER})}
        self._volume.put_bytes(MARKER, (json.dumps(marker, indent=2) + "\n").encode())
        self._marker_written = True
        if MANIFEST in self._previous:
            self._volume.delete(MANIFEST)

    # -- what `open` set up ----------------------------------------------------------------------

    @property
    def _volume(self) -> VolumeFiles:
        return _opened(self._files)

    @property
    def _staged(self) -> ParquetSink:
        return _opened(self._local)

    @property
    def _scratch(self) -> Path:
        return _opened(self._folder)

    @property
    def _uploads(self) -> ThreadPoolExecutor:
        return _opened(self._pool)

    # -- parts ---------------------------------------------------------------------------------

    @property
    def staging(self) -> Path | None:
        """The local copy being written (validation reads it and writes the reports there)."""
        return self._local.staging if self._local is not None else None

    def part_writer(self) -> PartWriter:
        """Parts must pass through `write_part`, which uploads them: no executor can write here."""
        raise WorkspaceError("a Unity Catalog Volume reached through the Files API takes parts from this "
                             "process only", hint="use --engine local, or on Databricks compute write to the "
                                                  "mounted /Volumes/… path")

    def stage_report(self, name: str, data: bytes) -> FileEntry:
        entry = self._staged.stage_report(name, data)
        self._reports.append(entry.path)
        return entry

    def write_part(self, table: TablePlan, part: int, row_groups: Iterable[pa.Table]) -> PartWritten:
        # one file: `open` refuses partitioned tables, whose parts may be several files
        (written,) = written_files(self._staged.write_part(table, part, row_groups))
        self._send(written.path)
        return written

    def _send(self, relative: str) -> None:
        def upload() -> None:
            size = self._volume.upload(relative, self._staged.staging_folder / relative)
            with self._lock:
                self._sent.add(relative)
            if self.uploaded is not None:
                self.uploaded(size)

        future = self._uploads.submit(upload)
        with self._lock:
            self._pending.append(future)

    def _wait(self) -> None:
        with self._lock:
            pending = list(self._pending)
        for future in pending:
            future.result()

    # -- commit / abort ------------------------------------------------------------------------

    def commit(self, manifest: Manifest) -> None:
        self._wait()
        for name in self._reports:
            self._volume.upload(name, self._staged.staging_folder / name)
            self._sent.add(name)
        self._staged.commit(manifest)  # the same manifest.json bytes a local run writes
        self._volume.upload(MANIFEST, self._scratch / "out" / MANIFEST)
        self._sent.add(MANIFEST)
        self._uploads.shutdown(wait=True)
        # The output is complete from here; tidying up must not turn it into a failure. What
        # cannot be deleted now is listed by the marker, for the next --mode overwrite.
        for name in sorted(self._previous - self._sent - {MARKER}):
            _quietly(self._volume.delete, name)
        for folder in sorted({name.rsplit("/", 1)[0] for name in self._previous - self._sent if "/" in name}):
            self._volume.delete_directory(folder)
        _quietly(self._volume.delete, MARKER)
        self._cleanup()

    def abort(self) -> None:
        """Remove what this run uploaded (best effort: the workspace may be what failed)."""
        try:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
            if self._files is not None and self._marker_written:
                leftovers = self._previous - {MANIFEST, MARKER}
                for name in sorted(self._sent - leftovers):
                    _quietly(self._files.delete, name)
                if not leftovers:
                    _quietly(self._files.delete, MARKER)
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        if self._local is not None:
            self._local.abort()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


def _listed(data: bytes | None, name: str, *, where: str) -> set[str]:
    """The files a fabula manifest (its tables' files and reports) or a marker lists; nothing
    for any other `manifest.json`, so a folder fabula did not write is never taken as its own."""
    if not data:
        return set()
    if name == MARKER:
        try:
            document = json.loads(data)
        except ValueError:
            return set()
        files = document.get("files", []) if isinstance(document, dict) else []
        return {path for path in files if isinstance(path, str)}
    try:
        manifest = parse_manifest(data, where=where)
    except OutputError:
        return set()
    return {entry.path for entry in manifest.files()}


def _opened(value: Opened | None) -> Opened:
    """Something `open` sets up: reaching for it before `open`, or after `commit`/`abort` tidied
    up, is a mistake in the caller, not in the workspace."""
    if value is None:
        raise RuntimeError("the Volume sink is not open: call open() before writing to it")
    return value


def _quietly(action, *args) -> None:
    try:
        action(*args)
    except Exception:  # noqa: BLE001 - cleanup after a failure must not hide that failure
        pass
