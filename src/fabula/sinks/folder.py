"""A local output folder that appears complete or not at all, and that fabula owns.

The folder protocol, shared by every folder format (Parquet today; CSV, JSON later) and by both
engines:

1. **Refuse up front** a target that must never be replaced: `.`, `/`, the home folder, the
   current folder or one of its ancestors, a symbolic link, a file (`check_path`, before any work).
2. **Lock** the target: an exclusive `flock` on `.NAME.fabula-lock` beside it, holding the
   pid and host of the run. A second run to the same target fails at once; the lock dies with
   its process, so a killed run never blocks the next one.
3. Under the lock, **clean up** what killed runs left: `.NAME.fabula-tmp-*` staging folders that
   carry fabula's staging marker or manifest, and `.NAME.fabula-old-*` outputs moved aside
   (put back if the target is missing, else deleted). Nothing without fabula's marks is touched.
4. **Check** the target against the mode: `error` wants it absent or empty; `overwrite` replaces
   only an output whose manifest is fabula's own (marker, schema and digest checked, parsed with
   bounded size and depth) and that holds nothing the manifest does not list at its top level.
5. **Stage**: everything is written in `.NAME.fabula-tmp-XXXXXXXX` beside the target, marked
   with `.fabula-staging` until the manifest takes over as the mark.
6. **Commit** re-checks the target: it must be exactly what step 4 saw (absent or the same empty
   folder; or the same fabula output, same inode and digest). Something that appeared during
   the run is never deleted: the run fails and leaves it alone. Then renames: old output aside,
   staging into place, old output deleted.

Errors writing (disk full, permission denied) become one `OutputWriteError` (exit code 1).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import sys
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa

from fabula.errors import OutputError
from fabula.manifest import MANIFEST, FileEntry, Manifest, file_sha256, read_manifest
from fabula.plan.model import Plan, TablePlan
from fabula.sinks.base import Capabilities, PartWriter, Written
from fabula.sinks.choices import MODES

STAGING_MARKER = ".fabula-staging"
LOCK_SUFFIX = ".fabula-lock"
TMP_INFIX = ".fabula-tmp-"
OLD_INFIX = ".fabula-old-"


class OutputWriteError(OutputError):
    """The environment refused a write (disk full, permission denied, read-only): exit code 1,
    not a problem with what the user asked for."""

    exit_code = 1


class OutputBusyError(OutputError):
    """Another run holds the target's lock, or the target changed during the run: exit code 1,
    since nothing in the command is wrong and it can be run again once the other run ends."""

    exit_code = 1


_HINTS = {
    errno.ENOSPC: "free some space on that disk, or choose another --out",
    errno.EDQUOT: "free some of your disk quota, or choose another --out",
    errno.EFBIG: "the file system or a limit (ulimit -f) refuses files this large; choose another --out",
    errno.EACCES: "check the folder's permissions, or choose another --out",
    errno.EPERM: "check the folder's permissions, or choose another --out",
    errno.EROFS: "that file system is read-only; choose another --out",
}


def _errno_of(error: OSError) -> int:
    """The error's errno, or 0 (no error has that number) when it names none."""
    if error.errno:
        return error.errno
    text = str(error)  # pyarrow's IO errors carry the errno only in their text
    for number in _HINTS:
        if f"errno {number}]" in text.lower() or os.strerror(number) in text:
            return number
    return 0


@contextmanager
def write_errors(target: Path, doing: str) -> Iterator[None]:
    """Turn an OSError while `doing` into one OutputWriteError naming the target and the fix."""
    try:
        yield
    except OutputError:
        raise
    except OSError as error:
        number = _errno_of(error)
        reason = os.strerror(number).lower() if number else (error.strerror or str(error))
        raise OutputWriteError(
            f"cannot write the output {target}: {reason} (while {doing}); nothing was written",
            hint=_HINTS.get(number, "check the disk and the folder's permissions, or choose another --out")) from None


# -- 1. paths that are never a target ----------------------------------------------------------------


def check_path(out: str | Path) -> Path:
    """The absolute target for `out`, or an OutputError (exit 2) for a path fabula must never
    replace. Checked before any work."""
    text = str(out)
    if not text.strip():
        raise OutputError("the output path is empty", hint="pass --out DIR, a new folder")
    target = Path(os.path.abspath(os.path.expanduser(text)))
    here = Path(os.path.abspath(os.getcwd()))
    home = Path(os.path.abspath(os.path.expanduser("~")))
    forbidden = {Path(target.anchor): "the root folder", home: "your home folder",
                 here: "the current folder"}
    for path in here.parents:
        forbidden.setdefault(path, "a folder that contains the current folder")
    real = Path(os.path.realpath(target))
    for candidate in (target, real):
        if candidate in forbidden:
            raise OutputError(f"refusing to write the output into {candidate}: it is {forbidden[candidate]}, "
                              "which fabula would have to replace", hint="pass --out a new folder, e.g. --out out/data")
    if target.is_symlink():
        raise OutputError(f"the output {target} is a symbolic link", hint="give the real folder it points to")
    if target.exists() and not target.is_dir():
        raise OutputError(f"the output {target} exists and is a file, not a folder", hint="choose another --out")
    return target


# -- 2. the lock ----------------------------------------------------------------------------------


def lock_path(target: Path) -> Path:
    return target.parent / f".{target.name}{LOCK_SUFFIX}"


class TargetLock:
    """An exclusive lock on a target, held by this process until `release` (or its death)."""

    def __init__(self, target: Path):
        self.target = target
        self.path = lock_path(target)
        self._fd: int | None = None

    def acquire(self) -> None:
        while True:
            with write_errors(self.target, "creating its lock file"):
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
            try:
                _lock_exclusive(fd)
            except OSError as error:
                holder = _read_holder(fd)
                os.close(fd)
                if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES, errno.EDEADLK):
                    raise OutputBusyError(
                        f"another fabula run ({holder}) is writing {self.target}; this run stopped before "
                        "writing anything", hint="wait for it to finish, or choose another --out") from None
                raise
            # the holder before us may have deleted the file between our open and our lock:
            # then we hold a lock on a file nobody else will see, so start again
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path, follow_symlinks=False))
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname()}).encode())
            self._fd = fd
            return

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.unlink(self.path)  # while still holding it, so nobody locks a file about to vanish
        except OSError:
            pass
        os.close(self._fd)
        self._fd = None


def _lock_exclusive(fd: int) -> None:
    """An exclusive, non-blocking lock on the open file, released when it is closed or the
    process dies; OSError (EWOULDBLOCK, or EACCES on Windows) if another process holds it."""
    if sys.platform == "win32":  # no fcntl there: lock the first byte instead (a check mypy follows)
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _read_holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        holder = json.loads(os.read(fd, 4096) or b"{}")
        return f"pid {int(holder['pid'])} on {str(holder['host'])[:100]}"
    except (OSError, ValueError, KeyError, TypeError):
        return "pid unknown"


# -- 3. what killed runs left ---------------------------------------------------------------------


def _fabula_manifest(folder: Path) -> Manifest | None:
    """The folder's manifest if it is fabula's own and untouched (marker, schema, digest)."""
    try:
        manifest = read_manifest(folder)
    except OutputError:
        return None
    return manifest if manifest.digest_matches else None


def clean_leftovers(target: Path) -> None:
    """Remove the staging and moved-aside folders of killed runs on this target; call it only
    while holding the target's lock (so none of them belongs to a live run)."""
    parent = target.parent
    prefix = f".{target.name}"
    try:
        entries = list(parent.iterdir())
    except OSError:
        return
    for entry in sorted(entries):
        if not entry.name.startswith(prefix) or entry.is_symlink() or not entry.is_dir():
            continue
        rest = entry.name[len(prefix):]
        if rest.startswith(TMP_INFIX):
            if (entry / STAGING_MARKER).is_file() or _fabula_manifest(entry) is not None:
                shutil.rmtree(entry, ignore_errors=True)
        elif rest.startswith(OLD_INFIX) and _fabula_manifest(entry) is not None:
            if not os.path.lexists(target):
                try:
                    os.rename(entry, target)  # killed between its two renames: the previous output comes back
                except OSError:
                    pass  # left as it is: it holds a fabula output, and nothing is lost
            else:
                shutil.rmtree(entry, ignore_errors=True)


# -- 4. the mode ----------------------------------------------------------------------------------


def check_target(target: Path, mode: str) -> Manifest | None:
    """Refuse an output the mode does not allow. Returns the manifest of the fabula output
    that overwrite will replace (None when the target is absent or empty)."""
    if mode not in MODES:
        raise OutputError(f"unknown write mode {mode!r}", hint=f"use one of: {', '.join(MODES)}")
    target = check_path(target)
    if not target.is_dir() or not any(target.iterdir()):
        return None
    if mode == "error":
        raise OutputError(f"the output folder {target} already exists and is not empty",
                          hint="pass --mode overwrite to replace it, or choose another --out")
    manifest = _fabula_manifest(target)
    if manifest is None:
        raise OutputError(
            f"refusing to overwrite {target}: it is not empty and was not written by fabula (no "
            f"{MANIFEST} with fabula's format marker and a matching digest)",
            hint="choose an empty or new folder for --out, or delete it yourself if it is really yours to lose")
    unlisted = sorted(_unlisted_entries(target, manifest))
    if unlisted:
        raise OutputError(
            f"refusing to overwrite {target}: it holds {', '.join(unlisted[:5])}"
            f"{' …' if len(unlisted) > 5 else ''}, which fabula did not write",
            hint="move those out first, or choose another --out")
    return manifest


def _unlisted_entries(target: Path, manifest: Manifest) -> Iterator[str]:
    """Top-level entries of an output that its manifest does not account for."""
    ours = {MANIFEST, *manifest.tables, *(entry.path for entry in manifest.reports)}
    for entry in target.iterdir():
        if entry.name not in ours:
            yield entry.name
        elif entry.name in manifest.tables and (entry.is_symlink() or not entry.is_dir()):
            yield entry.name


# -- 5 and 6. staging and commit ----------------------------------------------------------------------


class FolderTarget:
    """One run's hold on a target folder: lock, checks, staging folder and commit."""

    def __init__(self, out: str | Path, mode: str):
        if mode not in MODES:
            raise OutputError(f"unknown write mode {mode!r}", hint=f"use one of: {', '.join(MODES)}")
        self.target = check_path(out)
        self.mode = mode
        self.lock = TargetLock(self.target)
        self.path = self.target.parent / f".{self.target.name}{TMP_INFIX}{uuid.uuid4().hex[:8]}"
        self._seen: tuple | None = None
        self._replaces: Manifest | None = None
        self._open = False

    def open(self) -> Path:
        with write_errors(self.target, "creating its parent folder"):
            self.target.parent.mkdir(parents=True, exist_ok=True)
        self.lock.acquire()
        try:
            clean_leftovers(self.target)
            self._replaces = check_target(self.target, self.mode)
            self._seen = _identity(self.target)
            with write_errors(self.target, "creating the staging folder"):
                self.path.mkdir()
                (self.path / STAGING_MARKER).write_text(
                    json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "target": self.target.name}))
        except BaseException:
            self.lock.release()
            raise
        self._open = True
        return self.path

    def stage(self, name: str, data: bytes) -> FileEntry:
        """A file at the top of the staging folder (a report), written whole."""
        path = self.path / name
        with write_errors(self.target, f"writing {name}"):
            path.write_bytes(data)
            return FileEntry(path=name, bytes=path.stat().st_size, sha256=file_sha256(path))

    def commit(self, manifest: Manifest) -> None:
        """Write the manifest, then put the staging folder in place of the target, after
        checking that the target is still what `open` saw."""
        with write_errors(self.target, f"writing {MANIFEST}"):
            (self.path / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
            os.unlink(self.path / STAGING_MARKER)  # from here, the manifest marks the folder as fabula's
        if _identity(self.target) != self._seen or (
                self._replaces is not None and (_fabula_manifest(self.target) != self._replaces
                                                or any(_unlisted_entries(self.target, self._replaces)))):
            raise OutputBusyError(
                f"{self.target} changed while fabula was writing it; it was left alone and nothing was written",
                hint="find out what else writes there, then run again")
        if self._replaces is None:
            self._commit_new()
        else:
            self._commit_over()
        self._done()

    def _commit_new(self) -> None:
        if self.target.is_dir():
            try:
                os.rmdir(self.target)  # only ever an empty folder: fails if anything appeared in it
            except OSError:
                raise OutputBusyError(f"{self.target} stopped being empty while fabula was writing it; "
                                      "it was left alone and nothing was written",
                                      hint="find out what else writes there, then run again") from None
        try:
            os.rename(self.path, self.target)
        except OSError as error:
            if error.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
                raise OutputBusyError(f"{self.target} appeared while fabula was writing it; it was left alone "
                                      "and nothing was written",
                                      hint="find out what else writes there, then run again") from None
            with write_errors(self.target, "renaming the staging folder into place"):
                raise

    def _commit_over(self) -> None:
        old = self.target.parent / f".{self.target.name}{OLD_INFIX}{uuid.uuid4().hex[:8]}"
        with write_errors(self.target, "moving the previous output aside"):
            os.rename(self.target, old)
        try:
            os.rename(self.path, self.target)
        except OSError as error:
            try:
                os.rename(old, self.target)  # put the previous output back
            except OSError:
                pass  # the next run restores it from `old` (see clean_leftovers)
            with write_errors(self.target, "renaming the staging folder into place"):
                raise error from None
        shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        if self._open:
            shutil.rmtree(self.path, ignore_errors=True)
        self._done()

    def _done(self) -> None:
        self._open = False
        self.lock.release()


def _identity(path: Path) -> tuple | None:
    """What the target is, to notice a change: (device, inode, is a folder), or None if absent."""
    try:
        stat = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino, stat.st_mode


class FolderSink:
    """The folder protocol for any format of part files: a subclass only says how one part
    file is written (`part_writer`) and what the manifest calls the format."""

    capabilities = Capabilities(atomic_commit=True, shared_staging=True)
    output_format = "files"

    def __init__(self, out: str | Path, *, mode: str = "error"):
        self._folder = FolderTarget(out, mode)

    @property
    def target(self) -> Path:
        return self._folder.target

    @property
    def mode(self) -> str:
        return self._folder.mode

    def open(self, plan: Plan) -> None:
        root = self._folder.open()
        try:
            with write_errors(self.target, "creating the tables' folders"):
                for table in plan.tables:
                    (root / table.name).mkdir()
        except BaseException:
            self._folder.abort()
            raise

    @property
    def staging(self) -> Path | None:
        """The hidden folder being written until `commit` renames it into place."""
        return self._folder.path if self._folder._open else None

    @property
    def staging_folder(self) -> Path:
        """`staging` of an open sink, where parts, reports and extra tables go before `commit`."""
        if self.staging is None:
            raise RuntimeError("the sink is not open: call open() before writing to it")
        return self.staging

    def part_writer(self) -> PartWriter:
        raise NotImplementedError

    def write_part(self, table: TablePlan, part: int, row_groups: Iterable[pa.Table]) -> Written:
        return self.part_writer().write(table, part, row_groups)

    def stage_report(self, name: str, data: bytes) -> FileEntry:
        return self._folder.stage(name, data)

    def commit(self, manifest: Manifest) -> None:
        self._folder.commit(manifest)

    def abort(self) -> None:
        self._folder.abort()
