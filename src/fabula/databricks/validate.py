"""`fabula validate dbfs:/Volumes/...`: read the output back through the Files API (manifest
first: without one the folder is not a complete output), check it like a local folder, and put
the rewritten reports back."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fabula.databricks.client import WorkspaceError, workspace_client
from fabula.databricks.files import VolumeFiles
from fabula.databricks.paths import VolumePath
from fabula.databricks.sink import MARKER
from fabula.manifest import MANIFEST, Manifest, parse_manifest


def download_output(target: VolumePath, folder: Path, *, client=None, profile: str | None = None) -> Manifest:
    """Copy the output at `target` (manifest and every file it lists) into `folder`; return the manifest.
    Only a fabula manifest is followed, and only to paths inside the folder (`parse_manifest`)."""
    files = VolumeFiles(client or workspace_client(profile), target)
    data = files.read_bytes(MANIFEST)
    if data is None:
        incomplete = files.read_bytes(MARKER) is not None
        raise WorkspaceError(
            f"{target} has no {MANIFEST}: " + ("a fabula run writing it did not finish" if incomplete
                                               else "it was not written by fabula"),
            hint="run `fabula generate ... --mode overwrite` to write it again" if incomplete
            else "give the folder `fabula generate --out` wrote")
    manifest = parse_manifest(data, where=f"{target}/{MANIFEST}")
    folder.mkdir(parents=True, exist_ok=True)
    for table in manifest.tables.values():
        for entry in table.files:
            files.download(entry.path, folder / entry.path)
    for entry in manifest.reports:  # checked too, but a missing report is only written again
        report = files.read_bytes(entry.path)
        if report is not None:
            (folder / entry.path).write_bytes(report)
    (folder / MANIFEST).write_bytes(data)
    return manifest


def validate_volume(target: VolumePath, check: Callable[[Path], Any], *, client=None,
                    profile: str | None = None) -> Any:
    """Run `check(local_folder)` (e.g. `fabula.validate_output`) on a downloaded copy and upload
    the reports it rewrote; return what `check` returned."""
    client = client or workspace_client(profile)
    folder = Path(tempfile.mkdtemp(prefix="fabula-validate-"))
    try:
        local = folder / "out"
        download_output(target, local, client=client)
        result = check(local)
        files = VolumeFiles(client, target)
        for name in ("report.json", "report.html"):
            if (local / name).is_file():
                files.upload(name, local / name)
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)
