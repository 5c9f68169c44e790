"""Line charts drawn on the server as SVG: a date axis, a value axis with its unit, a legend, and shaded
bands (intervals) under the lines. No chart library and nothing fetched by the browser."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

WIDTH, HEIGHT = 900, 300
LEFT, RIGHT, BOTTOM = 60, 40, 30  # margins around the plot area; the top one holds the title and legend
LEGEND_ROW = 14


@dataclass(frozen=True)
class Line:
    label: str
    points: list[tuple[date, float]]  # (day, value), days ascending; days without a value left out
    color: str
    dashed: bool = False
    dots: bool = False  # a few points (live forecasts) read better as dots


@dataclass(frozen=True)
class Band:
    label: str
    points: list[tuple[date, float, float]]  # (day, low, high), days ascending; days without bounds left out
    color: str
    opacity: float
    bars: bool = False  # a few points (live forecasts) read better as a bar each than as an area


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    step = (high - low) / (count - 1) if high > low else 1
    return [low + step * n for n in range(count)]


def _legend(entries: list[Line | Band]) -> tuple[list[str], int]:
    """The legend's entries (a band's once per label, a taller swatch), in rows that fit the width; and
    the margin above the plot that holds them."""
    parts, x, row, labels = [], LEFT, 0, set()
    for entry in entries:
        if entry.label in labels:
            continue
        labels.add(entry.label)
        width = 18 + 7 * len(entry.label) + 16
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, row = LEFT, row + 1
        y = 20 + row * LEGEND_ROW
        swatch = (
            f'<rect x="{x}" y="{y - 2}" width="14" height="8" fill="{entry.color}" fill-opacity="{entry.opacity}"/>'
            if isinstance(entry, Band)
            else f'<rect x="{x}" y="{y}" width="14" height="4" fill="{entry.color}"/>'
        )
        parts.append(f'{swatch}<text x="{x + 18}" y="{y + 6}" class="legend">{escape(entry.label)}</text>')
        x += width
    return parts, 34 + row * LEGEND_ROW


def line_chart(title: str, unit: str, lines: list[Line], chart_id: str, bands: Sequence[Band] = ()) -> str:
    """An SVG chart of the lines over the bands, or a sentence saying there is nothing to draw."""
    drawn = [line for line in lines if line.points]
    shaded = [band for band in bands if band.points]
    if not drawn:
        return f'<p class="empty">{escape(title)}: no data to draw yet.</p>'
    days = [day for line in drawn for day, _ in line.points] + [day for band in shaded for day, *_ in band.points]
    values = [value for line in drawn for _, value in line.points] + [
        value for band in shaded for _, *bounds in band.points for value in bounds
    ]
    first, last = min(days), max(days)
    low, high = min(0.0, min(values)), max(values) or 1.0
    span_days = max((last - first).days, 1)
    legend, top = _legend([*drawn, *shaded])
    decimals = 0 if high - low >= 10 else 2

    def x(day: date) -> float:
        return LEFT + (day - first).days / span_days * (WIDTH - LEFT - RIGHT)

    def y(value: float) -> float:
        return HEIGHT - BOTTOM - (value - low) / (high - low) * (HEIGHT - top - BOTTOM)

    parts = [
        f'<svg id="{chart_id}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}"'
        f' role="img" aria-label="{escape(title)}">',
        f'<text x="{LEFT}" y="14" class="title">{escape(title)} ({escape(unit)})</text>',
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" class="axis"/>',
        *legend,
    ]
    for value in _ticks(low, high):
        parts.append(
            f'<line x1="{LEFT}" y1="{y(value):.1f}" x2="{WIDTH - RIGHT}" y2="{y(value):.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" class="tick" text-anchor="end">{value:,.{decimals}f}</text>'
        )
    for n, anchor in enumerate(("start", "middle", "middle", "middle", "end")):
        day = date.fromordinal(first.toordinal() + round(span_days * n / 4))
        parts.append(
            f'<text x="{x(day):.1f}" y="{HEIGHT - 10}" class="tick" text-anchor="{anchor}">{day:%Y-%m-%d}</text>'
        )
    for band in shaded:
        shade = f'fill="{band.color}" fill-opacity="{band.opacity}" class="band"'
        if band.bars:
            parts += [
                f'<rect x="{x(day) - 4:.1f}" y="{y(upper):.1f}" width="8" height="{y(lower) - y(upper):.1f}" {shade}/>'
                for day, lower, upper in band.points
            ]
            continue
        outline = [(day, upper) for day, _, upper in band.points] + [
            (day, lower) for day, lower, _ in reversed(band.points)
        ]
        path = " ".join(f"{x(day):.1f},{y(value):.1f}" for day, value in outline)
        parts.append(f'<polygon points="{path}" {shade}/>')
    for line in drawn:
        if line.dots:
            parts += [
                f'<circle cx="{x(day):.1f}" cy="{y(value):.1f}" r="4" fill="{line.color}"/>'
                for day, value in line.points
            ]
            continue
        dash = ' stroke-dasharray="5 3"' if line.dashed else ""
        path = " ".join(f"{x(day):.1f},{y(value):.1f}" for day, value in line.points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{line.color}" stroke-width="1.6"{dash}/>')
    parts.append("</svg>")
    return "".join(parts)
