"""`fabula stream`: write a spec as timeline-ordered micro-batches, resuming where it stopped."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from fabula.cli.options import AsOfDate
from fabula.cli.printing import out
from fabula.sinks.choices import FORMATS


@click.command()
@click.argument("spec", metavar="SPEC")
@click.option("--out", "-o", "out_dir", required=True, type=click.Path(path_type=Path),
              help="folder to write the micro-batches into (resumed if a stream wrote it)")
@click.option("--every", default="10s", show_default=True,
              help="time between micro-batches: 10s, 500ms, 2m; 0 writes as fast as possible")
@click.option("--batches", type=click.IntRange(min=1), help="write this many micro-batches, then stop "
                                                             "[default: all that remain]")
@click.option("--window", "window_days", type=click.IntRange(min=1), default=1, show_default=True,
              help="days of the dataset's timeline in one micro-batch")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="parquet", show_default=True,
              help="file format (json = JSON Lines)")
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), help="override the spec's root seed")
@click.option("--scale", type=click.FloatRange(min=0, min_open=True), help="multiply every table's row count")
@click.option("--as-of", "as_of", type=AsOfDate(), help="what relative dates count from")
@click.option("--quiet", "-q", is_flag=True, help="print nothing but errors")
def stream(spec: str, out_dir: Path, every: str, batches: int | None, window_days: int, output_format: str,
           seed: int | None, scale: float | None, as_of: date | None, quiet: bool) -> None:
    """Write SPEC into --out as timeline-ordered micro-batches (one file per table and batch,
    each committed atomically), for Auto Loader and Structured Streaming tests. Run it again
    to resume where it stopped. See docs/formats.md#streaming."""
    from fabula.api import stream as write_stream
    from fabula.engine.stream import parse_every

    try:
        interval = parse_every(every)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--every") from None

    def report(number: int, rows: dict[str, int]) -> None:
        if not quiet:
            out.print(f"batch {number}: " + ", ".join(f"{table} {count:,}" for table, count in rows.items()),
                      highlight=False)

    state = write_stream(spec, out_dir, every=interval, batches=batches, output_format=output_format,
                         window_days=window_days, on_batch=report, seed=seed, scale=scale, as_of=as_of)
    if not quiet:
        out.print(f"{state['next_batch']} of {state['batches_total']} micro-batches in {out_dir}")
