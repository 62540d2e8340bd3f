"""Built-in specs shipped with fabula, usable by name wherever a spec file is expected."""

from __future__ import annotations

from importlib import resources


def builtin_names() -> list[str]:
    return sorted(entry.name.removesuffix(".yaml") for entry in resources.files(__name__).iterdir()
                  if entry.name.endswith(".yaml"))


def builtin_text(name: str) -> str:
    """The YAML of a built-in spec (copy it out to edit it)."""
    return resources.files(__name__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
