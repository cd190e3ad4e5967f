"""The server-rendered SVG charts: well-formed, accessible, with every promised element, text escaped."""

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from checkins import charts
from checkins.forecast import Forecast, KrShape

NS = {"svg": "http://www.w3.org/2000/svg"}
START, END = date(2026, 4, 1), date(2026, 6, 30)


@dataclass
class P:
    day: date
    value: Decimal
    confidence: int | None = None


def series(values, confidences=None):
    confidences = confidences or [None] * len(values)
    return [
        P(day=START + timedelta(days=7 * i), value=Decimal(v), confidence=c)
        for i, (v, c) in enumerate(zip(values, confidences, strict=True))
    ]


def parse(svg) -> ET.Element:
    return ET.fromstring(str(svg))  # raises if the markup is not well-formed XML


def classes(root, tag):
    return [el.get("class") for el in root.iter(f"{{{NS['svg']}}}{tag}")]


def test_value_chart_has_baseline_target_ideal_actual_forecast_and_today():
    shape = KrShape(kind="increase", baseline=Decimal(10), target=Decimal(50), unit="percent")
    svg = charts.value_chart(
        shape=shape,
        title="Increase activation",
        cycle_start=START,
        cycle_end=END,
        series=series([10, 14, 20]),
        forecast=Forecast(value=Decimal(45), slope_per_week=Decimal(5), points_used=3),
        today=date(2026, 4, 20),
        chart_id="c1",
    )
    root = parse(svg)
    assert root.get("role") == "img"
    assert "Forecast at the end of the cycle: 45%" in root.get("aria-label")
    assert root.find("svg:title", NS).text == "Increase activation: value over the cycle"
    lines = classes(root, "line")
    for expected in ("baseline", "target", "ideal", "forecast", "today"):
        assert expected in lines
    assert classes(root, "polyline") == ["actual"]
    assert classes(root, "circle").count("point") == 3
    ideal = next(el for el in root.iter(f"{{{NS['svg']}}}line") if el.get("class") == "ideal")
    baseline = next(el for el in root.iter(f"{{{NS['svg']}}}line") if el.get("class") == "baseline")
    assert ideal.get("y1") == baseline.get("y1")  # the ideal pace starts at the baseline at the cycle start
    forecast = next(el for el in root.iter(f"{{{NS['svg']}}}line") if el.get("class") == "forecast")
    assert forecast.get("stroke-dasharray")


def test_maintain_chart_draws_the_band_instead_of_a_target_line():
    shape = KrShape(
        kind="maintain", baseline=Decimal(0), target=Decimal(0), band_low=Decimal(99), band_high=Decimal(100)
    )
    root = parse(
        charts.value_chart(
            shape=shape, title="Keep uptime", cycle_start=START, cycle_end=END, series=series([99.5]), forecast=None
        )
    )
    assert classes(root, "rect") == ["band"]
    assert "ideal" not in classes(root, "line") and "forecast" not in classes(root, "line")


def test_chart_without_check_ins_still_renders_and_says_so():
    root = parse(
        charts.value_chart(
            shape=KrShape(kind="increase", baseline=Decimal(0), target=Decimal(0)),
            title="Flat",
            cycle_start=START,
            cycle_end=END,
            series=[],
            forecast=None,
        )
    )
    assert "No check-ins yet." in root.get("aria-label")
    assert classes(root, "polyline") == []


def test_text_is_escaped():
    svg = str(
        charts.value_chart(
            shape=KrShape(kind="increase", baseline=Decimal(0), target=Decimal(1), unit="custom", unit_label="<b>"),
            title='<script>alert("x")</script>',
            cycle_start=START,
            cycle_end=END,
            series=series([1]),
            forecast=None,
            chart_id='x" onload="evil',
        )
    )
    assert "<script>" not in svg and "<b>" not in svg and 'onload="evil' not in svg
    assert "&lt;script&gt;" in svg
    parse(svg)


def test_confidence_chart_plots_only_reported_confidence():
    root = parse(
        charts.confidence_chart(
            title="Increase activation", cycle_start=START, cycle_end=END, series=series([1, 2, 3], [7, None, 4])
        )
    )
    assert root.get("role") == "img"
    assert classes(root, "circle") == ["confidence-point", "confidence-point"]
    assert "latest 4/10" in root.get("aria-label")


def test_points_after_the_cycle_end_widen_the_chart():
    late = [P(day=END + timedelta(days=10), value=Decimal(5))]
    root = parse(
        charts.value_chart(
            shape=KrShape(kind="increase", baseline=Decimal(0), target=Decimal(10)),
            title="Late",
            cycle_start=START,
            cycle_end=END,
            series=late,
            forecast=None,
        )
    )
    point = next(el for el in root.iter(f"{{{NS['svg']}}}circle"))
    assert float(point.get("cx")) <= charts.WIDTH - charts.RIGHT
