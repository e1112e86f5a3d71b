"""Charts as server-drawn SVG, no script: stacked columns per day, one bar of shares, horizontal bars.

Each chart is an `<svg role="img">` whose `<title>` names it and whose `<desc>` says in words what it shows
(the text alternative); the page puts the same numbers in a table beside it. Colours come as presentation
attributes (the CSP allows no inline style) from one palette whose colours keep 3:1 against white, and every
series is also named in a legend, so colour is never the only cue. All text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Okabe-Ito-like colours, darkened where needed for 3:1 contrast against white.
PALETTE = ("#1f5fa8", "#b35c00", "#5b6770", "#a4262c", "#2e7d4f", "#7a4fa3", "#8a6d00", "#0f7c8c")
WIDTH, HEIGHT = 640, 232  # HEIGHT: of the columns' plot and axis, before the legend
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 12, 28
LEGEND_ROW = 16


@dataclass(frozen=True)
class Series:
    """One series of a chart: its label (already translated) and its values, one per category."""

    label: str
    values: Sequence[int]


def _next_round(value: int) -> int:
    """The next of 1, 2, 5, 10, 20, 50, ... above `value`."""
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude > value:
            return step * magnitude
    return 10 * magnitude


def nice_top(value: int) -> int:
    """The y axis's top: the smallest of 1, 2, 5, 10, 20, 50, ... at or above `value`."""
    top = 1
    while top < value:
        top = _next_round(top)
    return top


def _open(chart_id: str, title: str, description: str) -> list[str]:
    """The chart's name and text alternative; `_close` puts the svg element around them."""
    return [f'<title id="{chart_id}-title">{escape(title)}</title>',
            f'<desc id="{chart_id}-desc">{escape(description)}</desc>']


def _legend(series: Sequence[Series], y: int) -> tuple[list[str], int]:
    """The legend from `y` down, wrapped to the chart's width; returns its parts and the height it takes."""
    parts, x, row = [], LEFT, 0
    for i, s in enumerate(series):
        width = 24 + 7 * len(s.label)
        if x > LEFT and x + width > WIDTH - RIGHT:
            x, row = LEFT, row + 1
        top = y + LEGEND_ROW * row
        parts.append(f'<rect x="{x}" y="{top - 9}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
                     f'<text x="{x + 14}" y="{top}" font-size="11" fill="#222">{escape(s.label)}</text>')
        x += width
    return parts, LEGEND_ROW * (row + 1)


def _close(chart_id: str, parts: list[str], height: int) -> Markup:
    """The svg element around `parts`, `height` high (known once the legend is laid out)."""
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {height}"'
                  f' width="{WIDTH}" height="{height}" aria-labelledby="{chart_id}-title {chart_id}-desc"'
                  f' id="{chart_id}">' + "".join(parts) + "</svg>")


def columns(chart_id: str, title: str, description: str, categories: Sequence[str],
            series: Sequence[Series], labels: Sequence[str] | None = None) -> Markup:
    """Stacked columns, one per category (a day), one segment per series; `labels` are the categories as
    shown under the axis (some are left out when there are many)."""
    shown = list(labels or categories)
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    top = nice_top(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(categories), 1)
    bar = max(step * 0.7, 1.0)
    parts = _open(chart_id, title, description)
    for tick in (0, top // 2, top) if top % 2 == 0 and top > 1 else (0, top):
        y = TOP + plot_h - plot_h * tick / top
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ccc"/>'
                     f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="#222">{tick}'
                     '</text>')
    every = max(1, round(len(categories) / 8))
    for i, _ in enumerate(categories):
        x, base = LEFT + step * i + (step - bar) / 2, float(TOP + plot_h)
        for k, s in enumerate(series):
            value = s.values[i]
            if value <= 0:
                continue
            height = plot_h * value / top
            base -= height
            parts.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{height:.1f}"'
                         f' fill="{PALETTE[k % len(PALETTE)]}"/>')
        if i % every == 0 or (i == len(categories) - 1 and i % every >= every / 2):
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{TOP + plot_h + 14}" font-size="11" text-anchor="middle"'
                         f' fill="#222">{escape(shown[i])}</text>')
    legend, legend_height = _legend(series, TOP + plot_h + 32)
    return _close(chart_id, parts + legend, TOP + plot_h + 32 + legend_height - LEGEND_ROW + 8)


def shares(chart_id: str, title: str, description: str, series: Sequence[Series]) -> Markup:
    """One horizontal bar split by the series' shares of the whole (each series: one value)."""
    total = sum(s.values[0] for s in series)
    plot_w = WIDTH - LEFT - RIGHT
    parts = _open(chart_id, title, description)
    parts.append(f'<rect x="{LEFT}" y="8" width="{plot_w}" height="24" fill="#f2f2f2" stroke="#ccc"/>')
    x = float(LEFT)
    for k, s in enumerate(series):
        if total and s.values[0]:
            w = plot_w * s.values[0] / total
            parts.append(f'<rect x="{x:.1f}" y="8" width="{w:.1f}" height="24" fill="{PALETTE[k % len(PALETTE)]}"/>')
            x += w
    legend, legend_height = _legend(series, 50)
    return _close(chart_id, parts + legend, 50 + legend_height - LEGEND_ROW + 8)


def bars(chart_id: str, title: str, description: str, labels: Sequence[str], values: Sequence[int]) -> Markup:
    """Horizontal bars, one per label (a document), longest first as given."""
    row, label_w = 22, 220
    height = TOP + row * max(len(labels), 1) + 8
    top = nice_top(max(values, default=0))
    plot_w = WIDTH - label_w - RIGHT - 40
    parts = _open(chart_id, title, description)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = TOP + row * i
        short = label if len(label) <= 32 else label[:31] + "…"
        w = plot_w * value / top
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" font-size="11" text-anchor="end" fill="#222">'
                     f'{escape(short)}</text><rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="14"'
                     f' fill="{PALETTE[0]}"/><text x="{label_w + w + 4:.1f}" y="{y + 14}" font-size="11"'
                     f' fill="#222">{value}</text>')
    return _close(chart_id, parts, height)
