"""`fabula check | plan | preview | scenarios`: the commands that read a spec and write nothing."""

from __future__ import annotations

from datetime import date

import click

import fabula
from fabula.cli.options import plan_options
from fabula.cli.printing import out, preview_grid, print_warnings
from fabula.cli.specs import compile_for_cli
from fabula.scenarios import builtin_names, builtin_text


@click.command()
@click.argument("spec", metavar="SPEC")
def check(spec: str) -> None:
    """Validate SPEC without generating anything. Exit code 2 if it has problems."""
    loaded = compile_for_cli(spec, scale=1.0)
    print_warnings(loaded)
    columns = sum(len(table.columns) for table in loaded.tables)
    out.print(f"[green]ok[/]  {loaded.name}: {len(loaded.tables)} tables, {columns} columns, "
              f"{loaded.total_rows:,} rows")


@click.command()
@click.argument("spec", metavar="SPEC")
@plan_options
def plan(spec: str, seed: int | None, scale: float, as_of: date | None) -> None:
    """Show what SPEC will generate: tables, rows, columns, parameters and rules."""
    from fabula.plan.explain import render

    compiled = compile_for_cli(spec, seed=seed, scale=scale, as_of=as_of)
    print_warnings(compiled)
    out.print(render(compiled))


@click.command()
@click.argument("spec", metavar="SPEC")
@click.option("--rows", "-n", type=click.IntRange(min=1, max=1000), default=5, show_default=True,
              help="rows to show per table")
@click.option("--table", "-t", "only", multiple=True, help="show only this table (repeatable)")
@plan_options
def preview(spec: str, rows: int, only: tuple[str, ...], seed: int | None, scale: float, as_of: date | None) -> None:
    """Show the first rows of every table of SPEC, without writing anything."""
    compiled = compile_for_cli(spec, seed=seed, scale=scale, as_of=as_of)
    print_warnings(compiled)
    names = [table.name for table in compiled.tables]
    unknown = [name for name in only if name not in names]
    if unknown:
        raise click.BadParameter(f"no table named {unknown[0]!r}; tables: {', '.join(names)}",
                                 param_hint="--table")
    for name, table in fabula.preview(compiled, rows=rows).items():
        if only and name not in only:
            continue
        out.print(preview_grid(f"{name} ({compiled.table(name).rows:,} rows)", table))


@click.command()
@click.argument("name", required=False)
def scenarios(name: str | None) -> None:
    """List the built-in specs, or print one (NAME) as YAML to copy and edit."""
    if name is None:
        for builtin in builtin_names():
            description = fabula.load_spec(builtin).description or ""
            out.print(f"[bold]{builtin}[/]  {description}", highlight=False, soft_wrap=True)
        out.print("[dim]fabula scenarios NAME > my_spec.yaml  copies one out to edit[/]")
        return
    if name not in builtin_names():
        raise click.BadParameter(f"no built-in spec {name!r}; built-ins: {', '.join(builtin_names())}",
                                 param_hint="NAME")
    click.echo(builtin_text(name), nl=False)
