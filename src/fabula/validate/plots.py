"""Small inline SVG plots for the HTML report: no plotting library, no network, no script.

Each function takes a check's `details` (what the columns family records) and returns one
<svg> element with a title, axes labels and a legend drawn in plain shapes and text.
"""

from __future__ import annotations

from html import escape

from fabula.validate.models import shown_value

WIDTH, HEIGHT = 420, 190
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 14, 34
OBSERVED, DECLARED = "#3b6fb6", "#d9822b"


def histogram_svg(details: dict, *, title: str = "") -> str:
    """Observed values per bin (bars, as density) against the declared density (a step line).

    Bins are equally likely under the declared distribution, so they are narrow where values
    are dense; the open first and last bins are drawn to the observed extremes, cut at 15% of
    the inner range beyond the outer edges so one extreme value cannot squash the plot."""
    edges = list(details.get("edges") or [])
    observed = list(details.get("observed") or [])
    expected = list(details.get("expected") or [])
    total = sum(observed)
    if not edges or not total:
        return _empty(title, "no values to plot")
    inner = (edges[-1] - edges[0]) or abs(edges[0]) or 1.0
    low = max(float(details.get("low", edges[0])), edges[0] - 0.15 * inner)
    high = min(float(details.get("high", edges[-1])), edges[-1] + 0.15 * inner)
    low = min(low, edges[0] - 0.02 * inner)
    high = max(high, edges[-1] + 0.02 * inner)
    bounds = [low, *edges, high]
    widths = [max(b - a, 1e-12) for a, b in zip(bounds, bounds[1:])]
    observed_density = [count / total / width for count, width in zip(observed, widths)]
    declared_density = [share / width for share, width in zip(expected, widths)]
    peak = max(observed_density + declared_density) or 1.0
    x = _scale(low, high, LEFT, WIDTH - RIGHT)
    y = _scale(0.0, peak * 1.08, HEIGHT - BOTTOM, TOP)
    parts = [_frame(title)]
    for (a, b), density in zip(zip(bounds, bounds[1:]), observed_density):
        parts.append(f'<rect x="{x(a):.1f}" y="{y(density):.1f}" width="{max(x(b) - x(a) - 0.6, 0.4):.1f}" '
                     f'height="{y(0) - y(density):.1f}" fill="{OBSERVED}" fill-opacity="0.55"/>')
    points = []
    for (a, b), density in zip(zip(bounds, bounds[1:]), declared_density):
        points += [f"{x(a):.1f},{y(density):.1f}", f"{x(b):.1f},{y(density):.1f}"]
    parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{DECLARED}" stroke-width="2"/>')
    storage = details.get("storage", "number")
    parts += _x_axis(low, high, x, storage) + _y_axis(y, "density")
    parts.append(_legend([("observed", OBSERVED), ("declared", DECLARED)]))
    return _svg(parts, title)


def shares_svg(details: dict, *, title: str = "") -> str:
    """Observed share of each category (bars) against its declared weight (a tick)."""
    levels = [str(level) for level in details.get("levels") or []]
    observed = list(details.get("observed") or [])
    expected = list(details.get("expected") or [])
    if not levels:
        return _empty(title, "no categories")
    row = 18
    height = TOP + 10 + row * len(levels) + BOTTOM
    label_width = min(140, 8 + 7 * max(len(level) for level in levels))
    peak = max(observed + expected) or 1.0
    x = _scale(0.0, peak * 1.1, label_width, WIDTH - RIGHT - 40)
    parts = [_frame(title, height)]
    for index, (level, share, weight) in enumerate(zip(levels, observed, expected)):
        top = TOP + 8 + index * row
        parts.append(f'<text x="{label_width - 4}" y="{top + 12}" text-anchor="end" class="label">'
                     f'{escape(_short(level))}</text>')
        parts.append(f'<rect x="{x(0):.1f}" y="{top + 2}" width="{x(share) - x(0):.1f}" height="{row - 5}" '
                     f'fill="{OBSERVED}" fill-opacity="0.7"/>')
        parts.append(f'<line x1="{x(weight):.1f}" x2="{x(weight):.1f}" y1="{top}" y2="{top + row - 1}" '
                     f'stroke="{DECLARED}" stroke-width="3"/>')
        parts.append(f'<text x="{x(max(share, weight)) + 4:.1f}" y="{top + 12}" class="label">{share:.1%}</text>')
    parts.append(_legend([("observed share", OBSERVED), ("declared weight", DECLARED)], height))
    return _svg(parts, title, height)


def daily_svg(details: dict, *, title: str = "") -> str:
    """Rows per day (bars) against the timeline's expected volume (a line), event windows shaded."""
    observed = list(details.get("observed") or [])
    expected = list(details.get("expected") or [])
    if not observed:
        return _empty(title, "no days to plot")
    from datetime import date, timedelta

    first = date.fromisoformat(details["first_day"])
    days = len(observed)
    peak = max(observed + expected) or 1.0
    x = _scale(0.0, float(days), LEFT, WIDTH - RIGHT)
    y = _scale(0.0, peak * 1.08, HEIGHT - BOTTOM, TOP)
    parts = [_frame(title)]
    for start, end, name in details.get("windows") or []:
        left, right = x(max(start, 0)), x(min(end + 1, days))
        if right > left:
            parts.append(f'<rect x="{left:.1f}" y="{TOP}" width="{right - left:.1f}" height="{HEIGHT - BOTTOM - TOP}" '
                         f'fill="#c0392b" fill-opacity="0.12"><title>{escape(str(name))}</title></rect>')
    width = max((WIDTH - LEFT - RIGHT) / days - 0.3, 0.3)
    for day, count in enumerate(observed):
        parts.append(f'<rect x="{x(day):.1f}" y="{y(count):.1f}" width="{width:.2f}" height="{y(0) - y(count):.1f}" '
                     f'fill="{OBSERVED}" fill-opacity="0.6"/>')
    points = " ".join(f"{x(day + 0.5):.1f},{y(value):.1f}" for day, value in enumerate(expected))
    parts.append(f'<polyline points="{points}" fill="none" stroke="{DECLARED}" stroke-width="1.5"/>')
    base = HEIGHT - BOTTOM
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}" stroke="#555"/>')
    for step in range(5):
        tick = (days - 1) * step / 4
        anchor = "start" if step == 0 else "end" if step == 4 else "middle"
        label = (first + timedelta(days=round(tick))).isoformat()
        parts.append(f'<text x="{x(tick + 0.5):.1f}" y="{base + 15}" text-anchor="{anchor}" '
                     f'class="tick">{label}</text>')
    parts += _y_axis(y, "rows per day")
    parts.append(_legend([("observed", OBSERVED), ("expected", DECLARED), ("event", "#e6b0aa")]))
    return _svg(parts, title)


# -- pieces ----------------------------------------------------------------------------------------


def _scale(low: float, high: float, start: float, stop: float):
    span = (high - low) or 1.0
    return lambda value: start + (value - low) / span * (stop - start)


def _frame(title: str, height: int = HEIGHT) -> str:
    return f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>'


def _x_axis(low: float, high: float, x, storage: str) -> list[str]:
    base = HEIGHT - BOTTOM
    parts = [f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}" stroke="#555"/>']
    for step in range(5):
        value = low + (high - low) * step / 4
        anchor = "start" if step == 0 else "end" if step == 4 else "middle"
        parts.append(f'<line x1="{x(value):.1f}" x2="{x(value):.1f}" y1="{base}" y2="{base + 4}" stroke="#555"/>')
        parts.append(f'<text x="{x(value):.1f}" y="{base + 15}" text-anchor="{anchor}" class="tick">'
                     f'{escape(_tick(value, storage))}</text>')
    return parts


def _y_axis(y, label: str) -> list[str]:
    return [f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="#555"/>',
            f'<text x="12" y="{(TOP + HEIGHT - BOTTOM) / 2:.0f}" transform="rotate(-90 12 '
            f'{(TOP + HEIGHT - BOTTOM) / 2:.0f})" text-anchor="middle" class="tick">{label}</text>']


def _legend(entries: list[tuple[str, str]], height: int = HEIGHT) -> str:
    parts, left = [], LEFT
    for name, colour in entries:
        parts.append(f'<rect x="{left}" y="{height - 12}" width="10" height="8" fill="{colour}"/>'
                     f'<text x="{left + 14}" y="{height - 4}" class="tick">{escape(name)}</text>')
        left += 24 + 7 * len(name)
    return "".join(parts)


def _tick(value: float, storage: str) -> str:
    """A short axis label: a date, or a number with k/M/B for thousands, millions, billions.

    >>> _tick(45_512.0, "number"), _tick(0.0912, "number"), _tick(19_700.0, "date")
    ('45.5k', '0.0912', '2023-12-09')
    """
    if storage == "date" or storage.startswith("timestamp"):
        return shown_value(value, storage)[:10]
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def _short(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _svg(parts: list[str], title: str, height: int = HEIGHT) -> str:
    heading = f"<title>{escape(title)}</title>" if title else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
            f'height="{height}" role="img" aria-label="{escape(title, quote=True)}">{heading}{"".join(parts)}</svg>')


def _empty(title: str, text: str) -> str:
    return _svg([_frame(title), f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" class="tick">'
                 f'{escape(text)}</text>'], title)
