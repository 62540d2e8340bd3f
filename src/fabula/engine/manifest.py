"""The manifest written with every output: what was generated, from what, by which versions."""

from __future__ import annotations

import platform
from typing import Any, Iterable

from fabula.plan.model import Plan
from fabula.sinks.base import PartWritten

FORMAT_VERSION = 1


def library_versions() -> dict[str, str]:
    import faker
    import numpy
    import pyarrow

    from fabula import __version__

    return {"fabula": __version__, "numpy": numpy.__version__, "pyarrow": pyarrow.__version__,
            "faker": faker.VERSION, "python": platform.python_version()}


def _versions(plan: Plan) -> dict[str, str]:
    """The libraries whose versions can change this plan's data (holidays only when used)."""
    versions = library_versions()
    if any(timeline.holidays for timeline in plan.spec.timelines.values()):
        import holidays

        versions["holidays"] = holidays.__version__
    return versions


def build_manifest(plan: Plan, parts: Iterable[PartWritten], *, output_format: str) -> dict[str, Any]:
    """Everything needed to reproduce or re-check the output; no wall-clock time, so two runs
    of the same plan write the same manifest."""
    by_table: dict[str, list[PartWritten]] = {}
    for part in sorted(parts, key=lambda p: (p.table, p.part)):
        by_table.setdefault(part.table, []).append(part)
    return {
        "manifest_version": FORMAT_VERSION,
        "dataset": plan.name,
        "spec_hash": plan.spec_hash,
        "seed": plan.seed,
        "as_of": plan.as_of.isoformat(),
        "scale": plan.scale,
        "format": output_format,
        "layout": {"block_rows": plan.tables[0].block_rows if plan.tables else None,
                   "blocks_per_row_group": plan.layout.blocks_per_row_group,
                   "blocks_per_file": plan.layout.blocks_per_file},
        "versions": _versions(plan),
        "tables": {
            table.name: {
                "rows": table.rows,
                "columns": [{"name": column.name, "type": str(column.arrow_type)} for column in table.columns],
                "files": [part.path for part in by_table.get(table.name, [])],
                "bytes": sum(part.bytes for part in by_table.get(table.name, [])),
            }
            for table in plan.tables
        },
        "spec": plan.spec.canonical(),
    }
