"""The layer order of DESIGN.md, read from the source: every import in `src/fabula` (at module
level or inside a function) points at the same layer or one below it, and the spec layer never
imports numpy or pyarrow.

    errors → spec → (streams, providers, story, generators) → plan → (sinks, validate) → engine → cli / api
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "fabula"

LAYERS = {
    "errors": 0,
    "sandbox": 0,  # the locked-down DuckDB: imports nothing of fabula, so the spec layer may parse SQL with it
    "disk_cache": 0,  # small answers kept on disk (Faker's locales, holidays, parsed SQL): imports nothing of fabula
    "spec": 1,
    "streams": 2, "providers": 2, "story": 2, "generators": 2,
    "plan": 3, "defects": 3,  # labelled bad data: reads plans, beside them (issue 14)
    "manifest": 4, "sinks": 4, "validate": 4,  # the manifest: written by sinks, read by validate
    "engine": 5, "databricks": 5,  # Unity Catalog: a destination and a place to run, beside the engines
    "cli": 6, "mcp": 6, "api": 6, "scenarios": 6, "__init__": 6, "__main__": 6,
}
"""Each top-level module or package of fabula and its layer (higher may import lower)."""

NOT_IN_SPEC = ("numpy", "pyarrow")


def modules() -> list[Path]:
    return sorted(SOURCE.rglob("*.py"))


def part_of(path: Path) -> str:
    """The top-level module or package a source file belongs to."""
    return path.relative_to(SOURCE).parts[0].removesuffix(".py")


def imports(path: Path, package: str | None = None) -> list[tuple[int, str]]:
    """(line, module) of every import in a file, wherever it sits (functions included)."""
    found = []
    package = package or ".".join(("fabula", *path.relative_to(SOURCE).with_suffix("").parts[:-1]))
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this file's package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            if node.module is None or module == "fabula":  # `from fabula import x`: x is a module or a name
                found.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
    return found


def fabula_part(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "fabula" and len(parts) > 1 else None


def test_every_part_of_fabula_has_a_layer():
    missing = sorted({part_of(path) for path in modules()} - set(LAYERS))
    assert not missing, f"give these a layer in LAYERS (and DESIGN.md): {missing}"


def upward(found: list[tuple[int, str]], own: int) -> list[str]:
    return [f"line {line}: {module}" for line, module in found
            if (part := fabula_part(module)) in LAYERS and LAYERS[part] > own]


@pytest.mark.parametrize("path", modules(), ids=lambda path: str(path.relative_to(SOURCE)))
def test_imports_only_point_down(path):
    own = LAYERS[part_of(path)]
    wrong = upward(imports(path), own)
    assert not wrong, f"{path.relative_to(SOURCE)} (layer {own}) imports a higher layer: {wrong}"


@pytest.mark.parametrize("path", sorted((SOURCE / "spec").rglob("*.py")), ids=lambda path: path.name)
def test_spec_never_imports_numpy_or_pyarrow(path):
    heavy = [f"line {line}: {module}" for line, module in imports(path)
             if module.split(".")[0] in NOT_IN_SPEC]
    assert not heavy, f"spec/{path.name} imports {heavy}"


@pytest.mark.parametrize("path", sorted((SOURCE / "generators").rglob("*.py")), ids=lambda path: path.name)
def test_generators_never_import_pyspark(path):
    assert not [module for _, module in imports(path) if module.split(".")[0] == "pyspark"]


def test_the_walk_sees_every_kind_of_import(tmp_path):
    """The check cannot pass by missing imports hidden in functions, relative or `from fabula`."""
    probe = tmp_path / "probe.py"
    probe.write_text("import numpy\n"
                     "def later():\n    from fabula.engine.local import run_local\n"
                     "def sooner():\n    from ..validate import run\n"
                     "from fabula import cli\n")
    found = imports(probe, package="fabula.plan")
    assert sorted(upward(found, LAYERS["plan"])) == ["line 3: fabula.engine.local", "line 5: fabula.validate",
                                                     "line 6: fabula.cli"]
    assert (1, "numpy") in found
