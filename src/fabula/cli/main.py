"""`fabula check | plan | preview | generate | validate | stream | scenarios | mcp` — see `fabula --help`.

The command line only parses and prints: each command lives in its own module and calls the
Python API (`fabula.generate`, `fabula.validate_output`...), which takes every decision.
Everything that pulls NumPy, Arrow or the validation in is imported inside the command that
needs it, so `fabula --help` and a mistyped option answer at once.
"""

from __future__ import annotations

import sys

import click

import fabula
from fabula.cli.errors import run_reporting_errors
from fabula.cli.generate import generate
from fabula.cli.process import collector_paused, own_process
from fabula.cli.serve import mcp
from fabula.cli.spec_commands import check, plan, preview, scenarios
from fabula.cli.stream import stream
from fabula.cli.validate import validate


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(fabula.__version__, prog_name="fabula")
@click.option("--debug", is_flag=True, help="show a Python traceback when something fails (for bug reports)")
@click.option("--allow-large", is_flag=True,
              help="allow plans beyond 10^12 rows or about 1 TB of data (refused by default, see docs/security.md)")
@click.pass_context
def cli(ctx: click.Context, debug: bool, allow_large: bool) -> None:
    """fabula: story-driven synthetic data for lakehouses.

    \b
    Describe a dataset in YAML, then:
      fabula check SPEC                 validate it (every problem at once)
      fabula plan SPEC                  see the tables, row counts and assumptions
      fabula preview SPEC               see a few rows of every table
      fabula generate SPEC --out DIR    write Parquet and a manifest, and check the data
      fabula validate DIR               re-check a folder written earlier (or copied)
      fabula stream SPEC --out DIR      write it as micro-batches over time (--every 10s)
    \b
    Try it with the built-in spec:  fabula generate retail --out out/retail
    \b
    Exit codes: 0 ok, 1 environment (disk, permissions, a missing package), 2 bad spec or
    usage, 3 failed checks with --strict. `fabula --debug ...` shows a traceback.
    """
    ctx.obj = {"debug": debug, "allow_large": allow_large}
    if ctx.invoked_subcommand == "generate":  # before its options load the spec
        collector_paused()  # generate resumes it for any long or remote work


for command in (check, plan, preview, generate, stream, validate, scenarios, mcp):  # the order of `--help`
    cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """The `fabula` command: every failure ends as one readable message and an exit code
    (2: bad spec or usage, 1: the environment, 3: failed checks with --strict); a traceback only
    with `fabula --debug ...`."""
    if argv is None:  # the command itself, in a process of its own
        own_process()
    args = list(sys.argv[1:] if argv is None else argv)
    run_reporting_errors(lambda given: cli.main(args=given, prog_name="fabula", standalone_mode=False), args)
