"""`fabula mcp`: serve fabula to a coding assistant."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=".", show_default=True,
              help="the only folder the server reads spec files from and writes data to")
@click.option("--max-rows", type=click.IntRange(min=1), help="refuse to generate plans with more rows "
              "[default: 50,000,000]")
def mcp(root: Path, max_rows: int | None) -> None:
    """Serve fabula to a coding assistant over MCP (stdio): tools scenarios, check, plan, preview,
    generate and validate (pip install 'fabula[mcp]')."""
    from fabula.mcp import serve  # the MCP SDK is optional: imported only here

    serve(root, max_rows=max_rows)
