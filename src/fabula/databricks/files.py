"""The Files API, as documented (`/api/2.0/fs/files{path}`, `/api/2.0/fs/directories{path}`):
one PUT per file, GET to read back, DELETE, and directory listing. Retries are the SDK's own
(it rewinds a file it is uploading before trying again)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from fabula.databricks.client import WorkspaceError, require_sdk, translated
from fabula.databricks.paths import VolumePath


class VolumeFiles:
    """Files under one Volume folder, named relative to it (`orders/part-00000.parquet`)."""

    def __init__(self, client, target: VolumePath):
        from databricks.sdk.service.files import FilesAPI

        # The generated FilesAPI, not the client's `files` mixin: the mixin may switch to
        # multipart or presigned-URL uploads, which are not part of the documented Files API.
        self.api = FilesAPI(client.api_client)
        self.target = target
        self.host = client.config.host
        self.errors = require_sdk().errors

    def _step(self, action: str, privilege: str, **extra):
        return translated(action, privilege=privilege, on=f"volume {self.target.volume_name}", host=self.host,
                          **extra)

    def upload(self, relative: str, local: Path) -> int:
        with self._step(f"uploading {relative} to {self.target}", "WRITE VOLUME"), open(local, "rb") as stream:
            self.api.upload(self.target.child(relative), stream, overwrite=True)
        return local.stat().st_size

    def put_bytes(self, relative: str, data: bytes) -> None:
        import io

        with self._step(f"writing {relative} to {self.target}", "WRITE VOLUME"):
            self.api.upload(self.target.child(relative), io.BytesIO(data), overwrite=True)

    def exists(self, relative: str) -> bool:
        try:
            with self._step(f"looking up {relative} in {self.target}", "READ VOLUME"):
                self.api.get_metadata(self.target.child(relative))
        except self.errors.NotFound:
            return False
        return True

    def read_bytes(self, relative: str) -> bytes | None:
        """The file's bytes, or None if there is no such file."""
        try:
            with self._step(f"reading {relative} from {self.target}", "READ VOLUME"):
                response = self.api.download(self.target.child(relative))
        except self.errors.NotFound:
            return None
        with _body(response.contents, relative) as stream:
            return stream.read()

    def download(self, relative: str, local: Path) -> None:
        with self._step(f"reading {relative} from {self.target}", "READ VOLUME",
                        not_found=f"{self.target} lists {relative} in its manifest, but the file is missing"):
            response = self.api.download(self.target.child(relative))
        local.parent.mkdir(parents=True, exist_ok=True)
        with _body(response.contents, relative) as stream, open(local, "wb") as sink:
            shutil.copyfileobj(stream, sink, 1 << 20)

    def delete(self, relative: str) -> None:
        try:
            with self._step(f"deleting {relative} from {self.target}", "WRITE VOLUME"):
                self.api.delete(self.target.child(relative))
        except self.errors.NotFound:
            pass

    def delete_directory(self, relative: str) -> None:
        """Remove an empty folder; a folder that still holds files (not fabula's) stays."""
        try:
            with self._step(f"deleting {relative} from {self.target}", "WRITE VOLUME"):
                self.api.delete_directory(self.target.child(relative))
        except self.errors.DatabricksError:
            pass

    def listing(self) -> Iterator[str]:
        """Every file under the folder, relative to it; nothing if the folder does not exist."""
        yield from self._walk(self.target.path, "")

    def _walk(self, path: str, prefix: str) -> Iterator[str]:
        try:
            with self._step(f"listing {self.target}", "READ VOLUME"):
                entries = list(self.api.list_directory_contents(path))
        except self.errors.NotFound:
            return
        for entry in entries:
            if entry.is_directory:  # the API names each entry's full path; the SDK types it optional
                yield from self._walk(entry.path or f"{path}/{entry.name}", f"{prefix}{entry.name}/")
            else:
                yield f"{prefix}{entry.name}"


def _body(contents: BinaryIO | None, relative: str) -> BinaryIO:
    """A download's body. The SDK types every response field as optional; the Files API always
    sends one with a 200, so a missing one is the server's fault, said as such."""
    if contents is None:
        raise WorkspaceError(f"the workspace answered the download of {relative} with no content",
                             hint="try again; see docs/databricks.md#errors")
    return contents
