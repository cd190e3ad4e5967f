"""Server-rendered SVG charts for a KR's history (no JavaScript, no chart library).

Every piece of text that reaches the markup goes through `escape()`; numbers are formatted here. The result is
marked safe only after that, so a KR titled `<script>` renders as text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Protocol

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from checkins.forecast import Forecast, KrShape, format_value

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 84, 16, 14, 30
CONF_HEIGHT = 110

COLORS = {
    "grid": "#e5e7eb",
    "axis": "#6b7280",
    "baseline": "#9ca3af",
    "target": "#15803d",
    "band": "#dcfce7",
    "ideal": "#93c5fd",
    "actual": "#1d4ed8",
    "forecast": "#7c3aed",
    "today": "#f59e0b",
    "confidence": "#b45309",
}


class SeriesLike(Protocol):
    day: date
    value: Decimal
    confidence: int | None


class _Scale:
    """Maps dates and values to pixel coordinates inside the plot area."""

    def __init__(self, *, x0: date, x1: date, y0: float, y1: float, height: int):
        self.x0, self.days = x0, max((x1 - x0).days, 1)
        self.y0, self.y1 = y0, y1 if y1 != y0 else y0 + 1
        self.height = height

    def x(self, day: date) -> float:
        return LEFT + (day - self.x0).days / self.days * (WIDTH - LEFT - RIGHT)

    def y(self, value) -> float:
        frac = (float(value) - self.y0) / (self.y1 - self.y0)
        return self.height - BOTTOM - frac * (self.height - TOP - BOTTOM)


def _f(n: float) -> str:
    return f"{n:.1f}"


def _line(x1, y1, x2, y2, *, cls: str, color: str, dash: str = "", width: float = 1.5) -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<line class="{cls}" x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}" '
        f'stroke="{color}" stroke-width="{width}"{dash_attr}/>'
    )


def _text(x, y, text: str, *, cls: str = "label", anchor: str = "start") -> str:
    return (
        f'<text class="{cls}" x="{_f(x)}" y="{_f(y)}" font-size="11" fill="{COLORS["axis"]}" '
        f'text-anchor="{anchor}">{escape(text)}</text>'
    )


def _svg(*, chart_id: str, height: int, title: str, summary: str, body: list[str], cls: str) -> SafeString:
    title_e, summary_e, cid = escape(title), escape(summary), escape(chart_id)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{cls}" id="{cid}" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" role="img" aria-label="{summary_e}" '
        f'aria-labelledby="{cid}-title {cid}-desc">'
        f'<title id="{cid}-title">{title_e}</title><desc id="{cid}-desc">{summary_e}</desc>'
    )
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308 - every text above is escaped


def _nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten: grid lines people can read."""
    exponent = math.floor(math.log10(raw))
    base = 10**exponent
    for mult in (1, 2, 5, 10):
        if raw <= mult * base:
            return mult * base
    return 10 * base


def _domain(values: list[float], ticks: int = 4) -> tuple[float, float, float]:
    """(low, high, step) covering the values with round grid lines; a flat series gets some room around it."""
    lo, hi = min(values), max(values)
    if hi == lo:
        lo, hi = lo - max(abs(lo) * 0.1, 1.0), hi + max(abs(hi) * 0.1, 1.0)
    step = _nice_step((hi - lo) / ticks)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step, step


def _value_summary(shape: KrShape, series: Sequence[SeriesLike], forecast: Forecast | None) -> str:
    target = (
        "a band"
        if shape.kind == "maintain"
        else format_value(shape, shape.steps or 1)
        if shape.is_milestone
        else format_value(shape, shape.target)
    )
    parts = [f"Baseline {format_value(shape, shape.baseline)}, target {target}."]
    if series:
        plural = "s" if len(series) != 1 else ""
        parts.append(f"{len(series)} weekly check-in{plural}, latest {format_value(shape, series[-1].value)}.")
    else:
        parts.append("No check-ins yet.")
    if forecast is not None:
        parts.append(f"Forecast at the end of the cycle: {format_value(shape, forecast.value)}.")
    return " ".join(parts)


def value_chart(
    *,
    shape: KrShape,
    title: str,
    cycle_start: date,
    cycle_end: date,
    series: Sequence[SeriesLike],
    forecast: Forecast | None,
    today: date | None = None,
    chart_id: str = "kr-chart",
) -> SafeString:
    """Value over the cycle: baseline, target (or band), ideal pace, weekly points, dashed forecast, today."""
    x_end = max([cycle_end, *(p.day for p in series)])
    x_start = min([cycle_start, *(p.day for p in series)])
    is_maintain = shape.kind == "maintain"
    start_value = Decimal(0) if shape.is_milestone else shape.baseline
    end_value = Decimal(shape.steps or 1) if shape.is_milestone else shape.target
    values = [float(p.value) for p in series]
    if is_maintain:
        values += [float(b) for b in (shape.band_low, shape.band_high) if b is not None] or [float(shape.baseline)]
    else:
        values += [float(start_value), float(end_value)]
    if forecast is not None:
        values.append(float(forecast.value))
    y0, y1, step = _domain(values)
    s = _Scale(x0=x_start, x1=x_end, y0=y0, y1=y1, height=HEIGHT)
    left, right, bottom = LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM
    body: list[str] = []
    for i in range(round((y1 - y0) / step) + 1):  # horizontal grid with value labels
        v = y0 + step * i
        body.append(_line(left, s.y(v), right, s.y(v), cls="grid", color=COLORS["grid"], width=1))
        body.append(_text(left - 6, s.y(v) + 4, format_value(shape, Decimal(str(round(v, 4)))), anchor="end"))
    body.append(_text(left, HEIGHT - 10, cycle_start.isoformat(), cls="x-label"))
    body.append(_text(right, HEIGHT - 10, cycle_end.isoformat(), cls="x-label", anchor="end"))
    if is_maintain:
        low = shape.band_low if shape.band_low is not None else Decimal(str(y0))
        high = shape.band_high if shape.band_high is not None else Decimal(str(y1))
        top_px, bottom_px = s.y(high), s.y(low)
        body.append(
            f'<rect class="band" x="{_f(left)}" y="{_f(top_px)}" width="{_f(right - left)}" '
            f'height="{_f(max(bottom_px - top_px, 1))}" fill="{COLORS["band"]}"><title>Target band</title></rect>'
        )
    else:
        body.append(
            _line(left, s.y(start_value), right, s.y(start_value), cls="baseline", color=COLORS["baseline"], dash="2 3")
        )
        body.append(_text(right - 4, s.y(start_value) - 4, "Baseline", anchor="end"))
        body.append(
            _line(left, s.y(end_value), right, s.y(end_value), cls="target", color=COLORS["target"], dash="6 3")
        )
        body.append(_text(right - 4, s.y(end_value) - 4, "Target", anchor="end"))
        body.append(
            _line(
                s.x(cycle_start), s.y(start_value), s.x(cycle_end), s.y(end_value), cls="ideal", color=COLORS["ideal"]
            )
        )
    if today is not None and x_start <= today <= x_end:
        body.append(_line(s.x(today), TOP, s.x(today), bottom, cls="today", color=COLORS["today"], dash="1 3"))
    if series:
        coords = " ".join(f"{_f(s.x(p.day))},{_f(s.y(p.value))}" for p in series)
        body.append(
            f'<polyline class="actual" points="{coords}" fill="none" stroke="{COLORS["actual"]}" stroke-width="2.5"/>'
        )
        for p in series:
            label = f"{p.day.isoformat()}: {format_value(shape, p.value)}"
            body.append(
                f'<circle class="point" cx="{_f(s.x(p.day))}" cy="{_f(s.y(p.value))}" r="4" '
                f'fill="{COLORS["actual"]}"><title>{escape(label)}</title></circle>'
            )
        last = series[-1]
        if forecast is not None and last.day < cycle_end:
            body.append(
                _line(
                    s.x(last.day),
                    s.y(last.value),
                    s.x(cycle_end),
                    s.y(forecast.value),
                    cls="forecast",
                    color=COLORS["forecast"],
                    dash="6 4",
                    width=2,
                )
            )
            body.append(
                f'<circle class="forecast-end" cx="{_f(s.x(cycle_end))}" cy="{_f(s.y(forecast.value))}" r="4" '
                f'fill="white" stroke="{COLORS["forecast"]}" stroke-width="2"><title>'
                f"{escape('Forecast: ' + format_value(shape, forecast.value))}</title></circle>"
            )
    return _svg(
        chart_id=chart_id,
        height=HEIGHT,
        title=f"{title}: value over the cycle",
        summary=_value_summary(shape, series, forecast),
        body=body,
        cls="kr-chart kr-chart-value",
    )


def confidence_chart(
    *, title: str, cycle_start: date, cycle_end: date, series: Sequence[SeriesLike], chart_id: str = "kr-confidence"
) -> SafeString:
    """Owner confidence (0–10) at each weekly check-in."""
    points = [p for p in series if p.confidence is not None]
    x_end = max([cycle_end, *(p.day for p in series)])
    x_start = min([cycle_start, *(p.day for p in series)])
    s = _Scale(x0=x_start, x1=x_end, y0=0, y1=10, height=CONF_HEIGHT)
    body: list[str] = []
    for v in (0, 5, 10):
        body.append(_line(LEFT, s.y(v), WIDTH - RIGHT, s.y(v), cls="grid", color=COLORS["grid"], width=1))
        body.append(_text(LEFT - 6, s.y(v) + 4, f"{v}/10", anchor="end"))
    if points:
        coords = " ".join(f"{_f(s.x(p.day))},{_f(s.y(p.confidence))}" for p in points)
        body.append(
            f'<polyline class="confidence-line" points="{coords}" fill="none" '
            f'stroke="{COLORS["confidence"]}" stroke-width="2"/>'
        )
        for p in points:
            label = escape(f"{p.day.isoformat()}: {p.confidence}/10")
            body.append(
                f'<circle class="confidence-point" cx="{_f(s.x(p.day))}" cy="{_f(s.y(p.confidence))}" r="3.5" '
                f'fill="{COLORS["confidence"]}"><title>{label}</title></circle>'
            )
        values = ", ".join(str(p.confidence) for p in points)
        summary = f"Confidence over time (out of 10): {values}; latest {points[-1].confidence}/10."
    else:
        summary = "No confidence reported yet."
    return _svg(
        chart_id=chart_id,
        height=CONF_HEIGHT,
        title=f"{title}: owner confidence over time",
        summary=summary,
        body=body,
        cls="kr-chart kr-chart-confidence",
    )
