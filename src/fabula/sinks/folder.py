"""A local output folder that appears complete or not at all.

Everything is written into a hidden sibling folder; `commit` renames it into place (one
rename on the same filesystem). Overwrite moves the old output aside first and deletes it only
after the new one is in place, and only ever replaces a folder that is empty or was written by
fabula, so a typo in `--out` cannot wipe a home directory.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from fabula.errors import OutputError

MANIFEST = "manifest.json"
MODES = ("error", "overwrite")


def check_target(target: Path, mode: str) -> None:
    """Refuse, before any work, an output the mode does not allow."""
    if mode not in MODES:
        raise OutputError(f"unknown write mode {mode!r}", hint=f"use one of: {', '.join(MODES)}")
    if target.exists() and not target.is_dir():
        raise OutputError(f"the output {target} exists and is a file, not a folder",
                          hint="choose another --out")
    if not target.is_dir() or not any(target.iterdir()):
        return
    if mode == "error":
        raise OutputError(f"the output folder {target} already exists and is not empty",
                          hint="pass --mode overwrite to replace it, or choose another --out")
    if not (target / MANIFEST).is_file():
        raise OutputError(
            f"refusing to overwrite {target}: it is not empty and was not written by fabula "
            f"(no {MANIFEST})", hint="choose an empty or new folder for --out")


class StagedFolder:
    """A hidden folder beside the target that becomes the target on commit."""

    def __init__(self, target: Path):
        self.target = target
        self.path = target.parent / f".{target.name}.fabula-tmp-{uuid.uuid4().hex[:8]}"

    def create(self) -> Path:
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            self.path.mkdir()
        except OSError as error:
            raise OutputError(f"cannot create the output folder {self.target}: {error.strerror}",
                              hint="check the path and its permissions") from None
        return self.path

    def commit(self) -> None:
        old = None
        if self.target.exists():
            old = self.target.parent / f".{self.target.name}.fabula-old-{uuid.uuid4().hex[:8]}"
            os.rename(self.target, old)
        try:
            os.rename(self.path, self.target)
        except OSError:
            if old is not None:
                os.rename(old, self.target)  # put the previous output back
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
