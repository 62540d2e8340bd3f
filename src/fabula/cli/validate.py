"""`fabula validate DIR`: re-check an output written earlier and print the report."""

from __future__ import annotations

from pathlib import Path

import click

import fabula
from fabula.cli.options import allow_large
from fabula.cli.printing import kept, print_report


@click.command()
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="exit with code 3 if a check fails (also: validation: {strict: true})")
@click.option("--workers", "-w", type=click.IntRange(min=1), help="parallel workers (default: all cores)")
@click.option("--quiet", "-q", is_flag=True, help="print nothing but errors")
@click.option("--profile", help="with DIR dbfs:/Volumes/...: the ~/.databrickscfg profile to use")
def validate(folder: Path, strict: bool, workers: int | None, quiet: bool, profile: str | None) -> None:
    """Re-check DIR, written by `fabula generate`, against the spec, seed and scale its manifest
    records; rewrite DIR/report.json and DIR/report.html. Exit code 3 with --strict if a check fails.
    DIR may be a Volume, dbfs:/Volumes/..., read back through the Files API."""
    from fabula.databricks.paths import volume_target

    target = volume_target(folder)
    report, failure = kept(lambda: fabula.validate_output(  # strict: --strict, else what the manifest records
        folder, strict=True if strict else None, workers=workers, profile=profile, allow_large=allow_large()))
    if not quiet:
        print_report(report, str(target) if target is not None else str(folder))
    if failure is not None:
        raise failure
