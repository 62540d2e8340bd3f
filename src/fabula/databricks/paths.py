"""Volume paths: `dbfs:/Volumes/<catalog>/<schema>/<volume>/<path>` (or a plain `/Volumes/...`
that does not exist on this machine). No SDK needed to parse them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from fabula.errors import UsageError

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class VolumePath:
    """A folder inside a Unity Catalog Volume.

    >>> target = VolumePath.parse("dbfs:/Volumes/main/demo/raw/saas")
    >>> target.volume_name, target.path
    ('main.demo.raw', '/Volumes/main/demo/raw/saas')
    """

    catalog: str
    schema: str
    volume: str
    folder: str  # inside the volume, "" for its root

    @classmethod
    def parse(cls, text: str) -> VolumePath:
        raw = str(text)
        if raw.startswith("dbfs:"):
            raw = raw[len("dbfs:"):]
        parts = [part for part in PurePosixPath(raw).parts if part != "/"]
        if len(parts) < 4 or parts[0] != "Volumes":
            raise UsageError(f"{text!r} is not a Unity Catalog Volume path",
                             hint="write it as dbfs:/Volumes/<catalog>/<schema>/<volume>/<folder>")
        if any(part in (".", "..") for part in parts):
            raise UsageError(f"{text!r} has '.' or '..' in it", hint="give the folder's full path")
        for part in parts[1:4]:
            if not _NAME.match(part):
                raise UsageError(f"{part!r} in {text!r} is not a Unity Catalog name",
                                 hint="catalog, schema and volume names use letters, digits, '_' and '-'")
        return cls(parts[1], parts[2], parts[3], "/".join(parts[4:]))

    @property
    def schema_name(self) -> str:
        return f"{self.catalog}.{self.schema}"

    @property
    def volume_name(self) -> str:
        return f"{self.catalog}.{self.schema}.{self.volume}"

    @property
    def volume_root(self) -> str:
        return f"/Volumes/{self.catalog}/{self.schema}/{self.volume}"

    @property
    def path(self) -> str:
        return f"{self.volume_root}/{self.folder}" if self.folder else self.volume_root

    def child(self, relative: str) -> str:
        return f"{self.path}/{relative}"

    def __str__(self) -> str:
        return f"dbfs:{self.path}"


def volume_target(out: str | Path) -> VolumePath | None:
    """The Volume `out` names, or None when it is a local folder.

    `dbfs:/Volumes/...` is always a Volume. A plain `/Volumes/...` is one only when this machine
    has no `/Volumes` folder: on Databricks compute volumes are a local (FUSE) path and are
    written directly, like any folder (and on macOS `/Volumes` holds mounted disks).

    >>> volume_target("out/retail") is None
    True
    >>> str(volume_target("dbfs:/Volumes/main/demo/raw/saas"))
    'dbfs:/Volumes/main/demo/raw/saas'
    """
    text = str(out)
    if text.startswith("dbfs:"):
        return VolumePath.parse(text)
    if text.startswith("/Volumes/") and not Path("/Volumes").exists():
        return VolumePath.parse(text)
    return None
