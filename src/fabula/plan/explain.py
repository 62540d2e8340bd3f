"""A plan as a reviewer reads it: tables, row counts, and each column's kind, parameters,
modifiers and conditional rules."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from fabula.generators.relations import CountGenerator
from fabula.spec.story import MixSpec

if TYPE_CHECKING:  # the plan model imports this module to offer `plan.explain()`
    from fabula.plan.model import ColumnPlan, Plan


@dataclass(frozen=True)
class ColumnLine:
    name: str
    type: str
    kind: str
    parameters: str
    modifiers: str


def column_lines(column: ColumnPlan) -> ColumnLine:
    generator = column.generator
    spec = generator.spec
    return ColumnLine(
        name=column.name,
        type=_type_name(column.arrow_type),
        kind=generator.kind,
        parameters=_format_parameters(generator.describe()),
        modifiers=", ".join(_modifiers(spec)),
    )


def _modifiers(spec) -> list[str]:
    found = []
    if spec.nulls:
        found.append(f"nulls {spec.nulls:.0%}" if spec.nulls >= 0.01 else f"nulls {spec.nulls}")
    if spec.round is not None:
        found.append(f"round {spec.round}")
    if getattr(spec, "unique", False):
        found.append("unique")
    if spec.clip is not None:
        found.append(f"clip [{_bound(spec.clip.min)}, {_bound(spec.clip.max)}]")
    return found


def _bound(value: Any) -> str:
    return "-" if value is None else str(value)


def _type_name(arrow_type) -> str:
    text = str(arrow_type)
    return "string (dictionary)" if text.startswith("dictionary<") else text


def _format_parameters(parameters: dict[str, Any]) -> str:
    if "cases" in parameters:
        rules = "\n".join(f"  {key} → {rule}" for key, rule in parameters["cases"].items())
        rest = {name: value for name, value in parameters.items() if name not in ("by", "cases")}
        return f"by {parameters['by']}:\n{rules}" + (f"\n{_format_parameters(rest)}" if rest else "")
    parts = []
    for name, value in parameters.items():
        if isinstance(value, dict) and name == "values":
            total = sum(value.values())
            value = ", ".join(f"{key} {weight / total:.0%}" for key, weight in value.items())
            parts.append(value)
        elif value not in (None, {}, ()):
            parts.append(f"{name}={value}")
    return ", ".join(parts)


def render(plan: Plan) -> Group:
    """Rich renderables for `fabula plan`."""
    header = Text.assemble(
        ("dataset ", "bold"), (plan.name, "bold cyan"),
        f"   seed {plan.seed}   as_of {plan.as_of}   scale {plan.scale:g}   "
        f"{plan.total_rows:,} rows in {len(plan.tables)} table{'s' if len(plan.tables) != 1 else ''}",
    )
    parts: list[Any] = [header]
    if len(plan.tables) > 1:
        parts.append(Text(f"table order (parents first): {' → '.join(plan.table_order)}"))
    held = plan.relations.memory_bytes()
    if held:
        parts.append(Text(f"parent values kept for references: {held / 2**20:,.2f} MiB"))
    parts.extend(_story_lines(plan))
    for name in plan.table_order:
        table = plan.table(name)
        title = _table_title(plan, table) + (f" — in partition folders by {', '.join(table.partition_by)}"
                                             if table.partition_by else "")
        grid = Table(title=title, title_justify="left",
                     title_style="bold", expand=False, show_lines=False)
        for heading in ("column", "type", "kind", "parameters", "modifiers"):
            grid.add_column(heading, overflow="fold")
        for column in table.outputs:
            line = column_lines(column)
            grid.add_row(*(Text(cell) for cell in (line.name, line.type, line.kind, line.parameters, line.modifiers)))
        parts.append(grid)
    return Group(*parts)


def _story_lines(plan: Plan) -> list[Text]:
    """One line per timeline and per event: the window and what shapes it."""
    story = plan.story
    lines = []
    for name, timeline in plan.spec.timelines.items():
        resolved = story.timelines[name]
        if isinstance(timeline, MixSpec):  # a sum of timelines
            first, last = (_day(resolved.first_day), _day(resolved.last_day)) if resolved.n_days else ("-", "-")
            mixed = " + ".join(f"{label} ({component})" for label, component in timeline.mix.items())
            lines.append(Text.assemble(("timeline ", "bold"), (name, "bold cyan"),
                                       f"  {first} → {last} ({resolved.n_days} days): mix of {mixed}"))
            continue
        shape = [f"{timeline.rate:g}/day"]
        weekday = timeline.weekday_factors()
        if weekday != (1.0,) * 7:
            shape.append("weekday " + " ".join(f"{factor:g}" for factor in weekday))
        shape.append(f"intraday {timeline.intraday if isinstance(timeline.intraday, str) else 'custom'}")
        if timeline.holidays:
            shape.append(f"holidays {timeline.holidays.country}"
                         f"{'-' + timeline.holidays.subdiv if timeline.holidays.subdiv else ''}"
                         f" ×{timeline.holidays.factor:g}")
        if timeline.seasonality is not None:
            shape.append("seasonality")
        if timeline.trend is not None:
            shape.append(f"trend {timeline.trend.growth:+.0%}/year {timeline.trend.shape}")
        if timeline.noise:
            shape.append(f"noise ±{timeline.noise:.0%}")
        first, last = (_day(resolved.first_day), _day(resolved.last_day)) if resolved.n_days else ("-", "-")
        lines.append(Text.assemble(("timeline ", "bold"), (name, "bold cyan"),
                                   f"  {first} → {last} ({resolved.n_days} days): {', '.join(shape)}"))
    for name, event in plan.spec.events.items():
        window = story.events[name]
        effects = [f"{table} volume ×{effect.factor:g}" + _lag(effect) for table, effect in event.volume.items()]
        effects += [f"{table.name}.{column.name} changes" for table in plan.tables for column in table.outputs
                    for override in getattr(column.generator, "overrides", ()) if override.event == name]
        ramps = "".join(f", {label} {days}d" for label, days in (("ramp-up", event.ramp_up), ("decay", event.decay))
                        if days)
        lines.append(Text.assemble(("event ", "bold"), (name, "bold magenta"),
                                   f"  {window.start_date} → {window.end_date}{ramps}: "
                                   f"{', '.join(effects) or 'no effects'}"))
    return lines


def _day(days: int) -> str:
    from datetime import date, timedelta

    return (date(1970, 1, 1) + timedelta(days=days)).isoformat()


def _lag(effect) -> str:
    if not effect.delay and not effect.lasting:
        return ""
    return f" (from {effect.delay}d after the start" + (f", for {effect.lasting}d)" if effect.lasting else ")")


def _table_title(plan: Plan, table) -> str:
    title = f"{table.name} — {table.rows:,} row{'' if table.rows == 1 else 's'}"
    arrivals = plan.story.arrivals.get(table.name)
    if arrivals is not None:
        days = len(arrivals.prefix) - 1
        return f"{title} — from timeline {arrivals.timeline}, {table.rows / max(days, 1):,.1f} a day on average"
    if table.per is None:
        return title
    parent = plan.table(table.per)
    counter = next(column for column in parent.columns if column.name == f"#count:{table.name}").generator
    assert isinstance(counter, CountGenerator) and counter.inner is not None, "compiled with its count's draw"
    rule = _format_parameters(counter.inner.describe())
    per_parent = table.rows / parent.rows if parent.rows else 0
    return (f"{title} — per {table.per} row: {counter.inner.kind}({rule}), "
            f"{per_parent:.2f} on average")


def explain(plan: Plan, *, width: int = 120) -> str:
    """The plan as plain text.

    >>> from fabula.spec import load_text
    >>> from fabula.plan import compile_plan
    >>> text = explain(compile_plan(load_text("name: d\\nseed: 1\\nas_of: 2024-01-01\\ntables:\\n  t:\\n    rows: 5\\n"
    ...                                       "    columns:\\n      x: {kind: lognormal, mean: 1, sigma: 0.5}")))
    >>> "lognormal" in text and "sigma=0.5" in text
    True
    """
    console = Console(width=width, record=True, file=_Null(), color_system=None)
    console.print(render(plan))
    return console.export_text()


class _Null(io.StringIO):
    """Somewhere for the console to print to that keeps nothing: `record` keeps the text."""

    def write(self, _text: str) -> int:
        return 0

    def flush(self) -> None:
        pass
