"""`--on-cluster`: put this fabula into the cluster's execution context when it is missing there,
or differs from the one running here.

1. Ask the context which fabula it imports: its version and the digest of its package files
   (one small command). The same version and digest: nothing to do.
2. Otherwise build a wheel of the running fabula — a zip of its package files and a minimal
   dist-info, no build backend and no network, cached in `$FABULA_CACHE_DIR/wheels/<version>-<digest>/`
   — and upload it to a Volume through the Files API, unless that exact file is already there
   (`<volume folder>/<version>-<digest>/fabula-<version>-py3-none-any.whl`).
3. In the context: `python -m pip install --no-deps --force-reinstall --upgrade /Volumes/…/fabula-….whl`
   with the context's own interpreter (`sys.executable`), then the requirements it lacks; then
   drop the old `fabula` modules from `sys.modules` and `importlib.invalidate_caches()`, so the
   next `import fabula` in this reused context reads the new files. A `%pip` magic is not
   available to a Command Execution API command of language python, so pip runs as a subprocess.

The digest covers the package's files (not `__pycache__`), computed by the same function here
and in the context (its source is sent with the command), so a cluster library built from the
same source counts as the same fabula.
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import io
import json
import os
import zipfile
from pathlib import Path

from fabula.databricks.client import WorkspaceError
from fabula.databricks.paths import VolumePath

WHEELS_FOLDER = "_fabula/wheels"


def package_digest(root: str) -> str:
    """sha256 of a package folder's files (their relative paths and bytes), `__pycache__` left out.
    Runs here and, sent as source, in the cluster's context: it may use only the standard library."""
    import hashlib as _hashlib
    import os as _os

    digest = _hashlib.sha256()
    found = []
    for folder, folders, files in _os.walk(root):
        folders[:] = sorted(name for name in folders if name != "__pycache__")
        for name in files:
            if not name.endswith((".pyc", ".pyo")):
                path = _os.path.join(folder, name)
                found.append((_os.path.relpath(path, root).replace(_os.sep, "/"), path))
    for relative, path in sorted(found):
        with open(path, "rb") as stream:
            data = stream.read()
        digest.update(relative.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return digest.hexdigest()


def local_fabula() -> tuple[str, str, Path]:
    """(version, digest, package folder) of the fabula running here."""
    import fabula

    root = Path(fabula.__file__).parent
    return fabula.__version__, package_digest(str(root)), root


def wheel_cache() -> Path:
    root = os.environ.get("FABULA_CACHE_DIR") or os.path.join(Path.home(), ".cache", "fabula")
    return Path(root) / "wheels"


def wheel_name(version: str) -> str:
    return f"fabula-{version}-py3-none-any.whl"


def requirements() -> list[str]:
    """The running fabula's own requirements (no extras), e.g. "numpy>=1.26"."""
    from importlib import metadata

    try:
        listed = metadata.requires("fabula") or []
    except metadata.PackageNotFoundError:
        return []
    return [item.split(";")[0].strip() for item in listed if "extra ==" not in item]


def build_wheel() -> Path:
    """A wheel of the running fabula, built once per (version, digest) into the cache folder."""
    version, digest, root = local_fabula()
    folder = wheel_cache() / f"{version}-{digest[:16]}"
    wheel = folder / wheel_name(version)
    if wheel.is_file():
        return wheel
    folder.mkdir(parents=True, exist_ok=True)
    info = f"fabula-{version}.dist-info"
    entries: list[tuple[str, bytes]] = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
            entries.append((f"fabula/{path.relative_to(root).as_posix()}", path.read_bytes()))
    metadata = "".join(["Metadata-Version: 2.1\nName: fabula\n", f"Version: {version}\n",
                        *(f"Requires-Dist: {item}\n" for item in requirements())])
    entries += [(f"{info}/METADATA", metadata.encode()),
                (f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: fabula\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
                (f"{info}/entry_points.txt", b"[console_scripts]\nfabula = fabula.cli.main:main\n")]
    record = io.StringIO()
    for name, data in entries:
        hashed = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.write(f"{name},sha256={hashed},{len(data)}\n")
    record.write(f"{info}/RECORD,,\n")
    temporary = wheel.with_suffix(f".{os.getpid()}.tmp")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in [*entries, (f"{info}/RECORD", record.getvalue().encode())]:
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data,
                             compress_type=zipfile.ZIP_DEFLATED)
    os.replace(temporary, wheel)  # a concurrent build writes the same bytes
    return wheel


def wheel_folder(wheel_volume: str | None, out: str) -> VolumePath | None:
    """Where wheels go: `--wheel-volume`, else `_fabula/wheels` at the root of `--out`'s Volume."""
    if wheel_volume:
        return VolumePath.parse(wheel_volume)
    text = out[len("dbfs:"):] if out.startswith("dbfs:") else out
    if text.startswith("/Volumes/"):
        target = VolumePath.parse(text)
        return VolumePath(target.catalog, target.schema, target.volume, WHEELS_FOLDER)
    return None


# -- in the context ------------------------------------------------------------------------------

_STATE = """
import json as _fabula_json
{digest_source}
def _fabula_state():
    import os, sys
    try:
        import fabula
    except ImportError:
        return None
    return {{"version": fabula.__version__, "digest": package_digest(os.path.dirname(fabula.__file__)),
            "file": fabula.__file__}}
print(_fabula_json.dumps(_fabula_state()))
"""

_INSTALL = """
def _fabula_install(wheel, wanted):
    import importlib, importlib.metadata, json, re, subprocess, sys

    def pip(*args):
        # pip's output is captured: a context's stdout is the command's result
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                               *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError("pip install failed: " + (done.stderr or done.stdout).strip()[-2000:])

    pip("--no-deps", "--force-reinstall", "--upgrade", wheel)
    missing = []
    for requirement in wanted:
        try:
            importlib.metadata.version(re.split(r"[<>=!~ \\[]", requirement, maxsplit=1)[0])
        except importlib.metadata.PackageNotFoundError:
            missing.append(requirement)
    if missing:
        pip(*missing)
    for name in [name for name in sys.modules if name == "fabula" or name.startswith("fabula.")]:
        del sys.modules[name]
    importlib.invalidate_caches()
    import fabula
    return {{"file": fabula.__file__, "installed_requirements": missing}}
print(__import__("json").dumps(_fabula_install({wheel!r}, {wanted!r})))
"""


def remote_state(session) -> dict | None:
    """The fabula the context imports, {"version", "digest", "file"}, or None if it has none."""
    printed = session.run(_STATE.format(digest_source=inspect.getsource(package_digest)))
    return json.loads(printed.strip().splitlines()[-1])


def ensure_fabula(session, folder: VolumePath | None) -> dict:
    """Make the context import this fabula; return what was done:
    {"installed": bool, "uploaded": bool, "wheel": path or None, "file": where it imports from}."""
    version, digest, _ = local_fabula()
    state = remote_state(session)
    if state is not None and state["version"] == version and state["digest"] == digest:
        return {"installed": False, "uploaded": False, "wheel": None, "file": state["file"]}
    if folder is None:
        found = "not installed" if state is None else f"{state['version']} with other files ({state['file']})"
        raise WorkspaceError(
            f"fabula on cluster {session.cluster} is {found}; this is fabula {version}",
            hint="give a Volume for fabula's wheel with --wheel-volume dbfs:/Volumes/<catalog>/<schema>/<volume>"
                 "/<folder> (or write --out to a Volume), or install fabula on the cluster as a library")
    from fabula.databricks.files import VolumeFiles
    from fabula.databricks.unity import ensure_volume

    local = build_wheel()
    place = VolumePath(folder.catalog, folder.schema, folder.volume,
                       "/".join(part for part in (folder.folder, f"{version}-{digest[:16]}") if part))
    ensure_volume(session.client, place)
    files = VolumeFiles(session.client, place)
    uploaded = not files.exists(local.name)
    if uploaded:
        files.upload(local.name, local)
    remote = place.child(local.name)
    printed = session.run(_INSTALL.format(wheel=remote, wanted=requirements()))
    done = json.loads(printed.strip().splitlines()[-1])
    after = remote_state(session)
    if after is None or after["digest"] != digest:
        raise WorkspaceError(f"fabula was installed on cluster {session.cluster}, but the context still "
                             f"imports another copy ({(after or {}).get('file')})",
                             hint="a cluster library may shadow it: detach it, or run --close-context and retry")
    return {"installed": True, "uploaded": uploaded, "wheel": remote, "file": done["file"]}

