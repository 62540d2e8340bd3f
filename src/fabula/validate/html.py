"""report.html: one self-contained page (inline CSS and SVG, no script, no network) that shows
the report as a person would rather see it: the verdict, the tables, then every family's
checks, with plots of distributions and shares against what the spec declares.

Sections are rendered by an explicit list (`SECTIONS`); the daily volume per timeline has its
place, filled by the timeline checks when they exist.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from fabula.validate.plots import daily_svg, histogram_svg, shares_svg
from fabula.validate.report import FAIL, PASS, SKIP, WARN, Check, Report

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d232b;background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{margin:0 0 4px;font-size:24px}h2{margin:28px 0 8px;font-size:19px}h3{margin:18px 0 6px;font-size:15px}
.meta{color:#5b6573;margin:0}
.banner{margin:16px 0;padding:12px 16px;border-radius:8px;font-weight:600}
.banner.pass{background:#e3f4e6;color:#1f6b31}.banner.warn{background:#fff4dc;color:#7a5300}
.banner.fail{background:#fde4e1;color:#9c2418}
table{border-collapse:collapse;width:100%;background:#fff;border-radius:8px;overflow:hidden}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #e7e9ee;vertical-align:top}
th{background:#eef0f4;font-weight:600}.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;min-width:38px;text-align:center;padding:1px 6px;border-radius:10px;font-size:12px;
font-weight:700;text-transform:uppercase}
.badge.pass{background:#d6f0db;color:#1f6b31}.badge.warn{background:#ffe9b8;color:#7a5300}
.badge.fail{background:#fbd0ca;color:#9c2418}.badge.skip{background:#e7e9ee;color:#5b6573}
.plots{display:flex;flex-wrap:wrap;gap:14px}
figure{margin:0;background:#fff;border-radius:8px;padding:8px 10px;border:1px solid #e7e9ee}
figcaption{font-size:12.5px;color:#3a4350;max-width:420px;margin-bottom:4px}
svg text.tick{font-size:10px;fill:#3a4350}svg text.label{font-size:11px;fill:#1d232b}
.note{color:#5b6573;background:#fff;border:1px dashed #c9ced8;border-radius:8px;padding:10px 14px}
code{font-size:12.5px}
"""

FAMILY_TITLES = {"structure": "Structure", "columns": "Columns", "expectations": "Expectations",
                 "guidance": "Guidance"}


def render_html(report: Report) -> str:
    """The whole page for a report."""
    body = "".join(section(report) for section in SECTIONS)
    title = f"fabula report: {report.dataset}"
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
            f"<body><main>{body}</main></body></html>\n")


def _header(report: Report) -> str:
    counts = report.counts()
    summary = ", ".join(f"{counts[v]} {word}" for v, word in ((PASS, "passed"), (WARN, "warnings"), (FAIL, "failed"),
                                                              (SKIP, "skipped")) if counts[v] or v != SKIP)
    return (f"<header><h1>{escape(report.dataset)}</h1>"
            f'<p class="meta">seed {report.seed} · as_of {escape(report.as_of)} · scale {report.scale:g} · '
            f"spec {escape(report.spec_hash[:12])}</p>"
            f'<p class="banner {report.verdict}">{report.verdict.upper()}: {summary}</p></header>')


def _tables(report: Report) -> str:
    rows = "".join(f'<tr><td>{escape(name)}</td><td class="num">{rows:,}</td></tr>'
                   for name, rows in report.rows.items())
    return f"<section><h2>Tables</h2><table><tr><th>table</th><th class='num'>rows</th></tr>{rows}</table></section>"


def _timelines(report: Report) -> str:
    """Checks whose details carry `plot: daily` are drawn here (by the entry for "daily" in PLOTS)."""
    plots = [check for check in report.checks if check.details.get("plot") == "daily"]
    if plots:
        figures = "".join(_figure(check) for check in plots)
        return f'<section id="timelines"><h2>Daily volume per timeline</h2><div class="plots">{figures}</div></section>'
    return ('<section id="timelines"><h2>Daily volume per timeline</h2><p class="note">Daily volume per timeline, '
            "with event windows shaded, appears here once the spec's timelines are checked.</p></section>")


def _families(report: Report) -> str:
    return "".join(_family(family, checks) for family, checks in report.families().items())


def _family(family: str, checks: list[Check]) -> str:
    rows = "".join(
        f'<tr><td><span class="badge {check.verdict}">{check.verdict}</span></td>'
        f"<td>{escape(check.name)}</td><td>{escape(check.message)}</td></tr>" for check in checks)
    table = f"<table><tr><th></th><th>check</th><th>result</th></tr>{rows}</table>"
    figures = [_figure(check) for check in checks if check.details.get("plot") in PLOTS
               and check.details.get("plot") != "daily"]
    plots = f'<h3>Plots</h3><div class="plots">{"".join(figures)}</div>' if figures else ""
    title = FAMILY_TITLES.get(family, family.title())
    return f'<section id="family-{escape(family)}"><h2>{escape(title)}</h2>{table}{plots}</section>'


def _figure(check: Check) -> str:
    details = check.details
    plot = PLOTS.get(details.get("plot", ""))
    svg = plot(details, title=check.name) if plot else ""
    return (f'<figure><figcaption><span class="badge {check.verdict}">{check.verdict}</span> '
            f"{escape(check.name)}</figcaption>{svg}</figure>")


SECTIONS: tuple[Callable[[Report], str], ...] = (_header, _tables, _timelines, _families)

PLOTS: dict[str, Callable[..., str]] = {"histogram": histogram_svg, "shares": shares_svg, "daily": daily_svg}
"""A check's `details["plot"]` → the function drawing it (details, title=...) as one <svg>."""
