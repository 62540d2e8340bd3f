"""The compact summary `fabula generate` and `fabula validate` print: the verdict, a line per
family of checks, the story checks (volumes, spikes and mixes of timelines and events), every
declared expectation (the story a user asked for), then what warned or
failed, worst first — the rest is in report.html."""

from __future__ import annotations

from rich.console import ConsoleRenderable, Group
from rich.table import Table
from rich.text import Text

from fabula.validate.report import FAIL, PASS, SKIP, WARN, Check, Report

MARKS = {PASS: ("✓", "green"), WARN: ("!", "yellow"), FAIL: ("✗", "red"), SKIP: ("-", "dim")}
SHOWN = 12
"""Problem lines printed before the rest is left to the HTML report."""
ALWAYS_SHOWN = ("story", "expectations")
"""Families whose every check is printed: the story the spec tells and the one the user asked for."""


def summary(report: Report, where: str | None = None) -> Group:
    counts = report.counts()
    verdict_style = {PASS: "bold green", WARN: "bold yellow", FAIL: "bold red"}[report.verdict]
    head = Text.assemble(("validation ", "bold"), (report.verdict.upper(), verdict_style),
                         f": {_counted(counts)}")
    if where:
        head.append(f"  → {where}", style="dim")
    families = Table(box=None, show_header=False, padding=(0, 2, 0, 2))
    families.add_column("family")
    families.add_column("result")
    for family, checks in report.families().items():
        families.add_row(family, _family_counts(checks))
    lines: list[ConsoleRenderable] = [head, families]
    stories = [check for check in report.checks if check.family in ALWAYS_SHOWN]
    problems = [check for verdict in (FAIL, WARN) for check in report.checks
                if check.verdict == verdict and check.family not in ALWAYS_SHOWN]
    for check in [*stories, *problems[:SHOWN]]:
        lines.append(_line(check))
    if len(problems) > SHOWN:
        lines.append(Text(f"  … and {len(problems) - SHOWN} more in the HTML report", style="dim"))
    return Group(*lines)


def _line(check: Check) -> Text:
    mark, style = MARKS[check.verdict]
    return Text.assemble(("  " + mark + " ", style), (check.name, "bold"), ("  " + check.message, ""))


def _family_counts(checks: list[Check]) -> Text:
    text = Text()
    for verdict, word in ((PASS, "passed"), (WARN, "warned"), (FAIL, "failed"), (SKIP, "skipped")):
        count = sum(check.verdict == verdict for check in checks)
        if count:
            if text:
                text.append(", ")
            text.append(f"{count} {word}", style=MARKS[verdict][1] if verdict != PASS else "")
    return text


def _counted(counts: dict[str, int]) -> str:
    parts = [f"{counts[PASS]} passed", f"{counts[WARN]} warned", f"{counts[FAIL]} failed"]
    if counts[SKIP]:
        parts.append(f"{counts[SKIP]} skipped")
    return ", ".join(parts)
