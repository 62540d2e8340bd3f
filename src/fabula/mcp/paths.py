"""Where the MCP server may read specs and write data: only under its root folder.

An assistant passes paths that a model wrote; the server resolves each one against the root,
symlinks included, and refuses whatever lands outside it, so a spec or an output can never
reach `~/.ssh`, `/etc` or a folder beside the project.
"""

from __future__ import annotations

from pathlib import Path

from fabula.errors import Issue, OutputError, SpecError, UsageError
from fabula.scenarios import builtin_names

SPEC_SUFFIXES = (".yaml", ".yml", ".json")
REMOTE_PREFIXES = ("dbfs:", "/Volumes/", "/Volumes")


class Root:
    """The folder the server works in (`fabula mcp --root DIR`)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder).expanduser().resolve()

    def inside(self, path: str | Path) -> Path:
        """`path` (relative to the root, or absolute) resolved, if it is under the root.

        >>> import tempfile
        >>> root = Root(tempfile.gettempdir())
        >>> root.inside("data/shop") == root.folder / "data" / "shop"
        True
        """
        candidate = Path(path).expanduser()
        if not candidate.is_absolute():
            candidate = self.folder / candidate
        try:
            resolved = candidate.resolve()  # follows every symlink that exists on the way
        except (OSError, ValueError) as error:  # a NUL byte, a symlink loop
            raise UsageError(f"{str(path)!r} is not a usable path ({error})", hint="e.g. out/shop") from None
        if not resolved.is_relative_to(self.folder):
            raise UsageError(f"{str(path)!r} is outside the folder this server may use ({self.folder})",
                              hint="give a path relative to the root, e.g. out/shop; start `fabula mcp --root DIR` "
                                   "elsewhere to use another folder")
        return resolved

    def output(self, out: str) -> Path:
        """A folder to generate into: under the root, never the root itself, never remote."""
        text = str(out).strip()
        if not text:
            raise OutputError("no output folder given", hint="e.g. out: out/shop")
        if text.startswith(REMOTE_PREFIXES):
            raise OutputError(f"{text!r} is a Databricks location; this server writes local folders only for now",
                              hint="generate under the root (e.g. out/shop), then upload the folder with "
                                   "`databricks fs cp -r out/shop dbfs:/Volumes/<catalog>/<schema>/<volume>/shop`")
        resolved = self.inside(text)
        if resolved == self.folder:
            raise OutputError("the output cannot be the root folder itself",
                              hint="name a folder under it, e.g. out/shop")
        return resolved

    def spec_source(self, spec: str) -> str | Path:
        """What `spec` names: a built-in (its name), YAML or JSON text (the text), or a file
        under the root (its resolved path)."""
        text = spec if isinstance(spec, str) else str(spec)
        if text.strip() in builtin_names():
            return text.strip()
        if "\n" in text or text.lstrip().startswith("{"):
            return text if "\n" in text else text + "\n"  # one line of JSON or flow YAML is text too
        if text.strip().endswith(SPEC_SUFFIXES) or "/" in text:
            path = self.inside(text.strip())
            if not path.is_file():
                raise SpecError([Issue("unknown-spec", "", f"no spec file {text.strip()!r} under {self.folder}",
                                       hint="write the spec to a file under the root first, or pass the YAML "
                                            "text itself")])
            return path
        raise SpecError([Issue("unknown-spec", "", f"no spec file or built-in named {text!r}",
                               hint=f"pass the YAML text, a .yaml file under {self.folder}, or a built-in: "
                                    f"{', '.join(builtin_names())}")])
