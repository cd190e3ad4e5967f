"""Forecast maths (least squares over the recent weekly points) and the forecast/confidence disagreement signal."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from checkins.forecast import (
    KrShape,
    Point,
    confidence_disagreement,
    forecast_end_value,
    format_value,
    progress_for_value,
)

START, END = date(2026, 4, 1), date(2026, 6, 30)  # 90 days
INCREASE = KrShape(kind="increase", baseline=Decimal(0), target=Decimal(100))


def weekly(values, start=START):
    return [Point(day=start + timedelta(days=7 * i), value=Decimal(str(v))) for i, v in enumerate(values)]


def test_fewer_than_two_points_give_no_forecast():
    assert forecast_end_value([], cycle_start=START, cycle_end=END) is None
    assert forecast_end_value(weekly([10]), cycle_start=START, cycle_end=END) is None


def test_a_straight_line_is_extended_to_the_cycle_end():
    # +7 per week = +1 per day from 0 on day 0 → 90 on day 90.
    forecast = forecast_end_value(weekly([0, 7, 14, 21]), cycle_start=START, cycle_end=END)
    assert forecast.value == Decimal("90")
    assert forecast.slope_per_week == Decimal("7")
    assert forecast.points_used == 4


def test_least_squares_through_noisy_points():
    # days 0, 7, 14 with values 0, 10, 14: mean (7, 8), Sxy = 98, Sxx = 98 → slope 1/day, intercept 1.
    forecast = forecast_end_value(weekly([0, 10, 14]), cycle_start=START, cycle_end=END)
    assert forecast.value == Decimal("91")
    assert forecast.slope_per_week == Decimal("7")


def test_only_the_last_points_drive_the_slope():
    # A fast start then flat: the last 4 weeks are flat, so the forecast stays flat.
    forecast = forecast_end_value(weekly([0, 30, 60, 60, 60, 60]), cycle_start=START, cycle_end=END, window=4)
    assert forecast.value == Decimal("60") and forecast.points_used == 4
    # With all six points the early climb still counts.
    assert forecast_end_value(weekly([0, 30, 60, 60, 60, 60]), cycle_start=START, cycle_end=END, window=6).value > 60


def test_points_are_sorted_by_day_first():
    points = list(reversed(weekly([0, 7, 14])))
    assert forecast_end_value(points, cycle_start=START, cycle_end=END).value == Decimal("90")


def test_window_below_two_is_a_programming_error():
    with pytest.raises(ValueError):
        forecast_end_value(weekly([1, 2]), cycle_start=START, cycle_end=END, window=1)


def test_binary_milestones_have_no_forecast_and_staged_ones_are_clamped():
    binary = KrShape(kind="milestone", baseline=Decimal(0), target=Decimal(1))
    assert forecast_end_value(weekly([0, 1]), cycle_start=START, cycle_end=END, shape=binary) is None
    staged = KrShape(kind="milestone", baseline=Decimal(0), target=Decimal(3), steps=3)
    assert forecast_end_value(weekly([0, 1, 2]), cycle_start=START, cycle_end=END, shape=staged).value == 3


def test_progress_for_value_per_kind():
    assert progress_for_value(INCREASE, 25) == 0.25
    decrease = KrShape(kind="decrease", baseline=Decimal(40), target=Decimal(20))
    assert progress_for_value(decrease, 30) == 0.5
    assert progress_for_value(decrease, 50) == 0  # wrong direction
    band = KrShape(
        kind="maintain", baseline=Decimal(0), target=Decimal(0), band_low=Decimal(90), band_high=Decimal(100)
    )
    assert progress_for_value(band, 95) == 1
    assert progress_for_value(band, 85) == 0.5


def test_format_value_shows_units_and_milestone_steps():
    assert format_value(KrShape(kind="increase", baseline=0, target=1, unit="percent", decimals=1), 42.26) == "42.3%"
    assert format_value(KrShape(kind="increase", baseline=0, target=1, unit="custom", unit_label="NPS"), 12) == "12 NPS"
    assert format_value(KrShape(kind="milestone", baseline=0, target=3, steps=3), 2) == "2 of 3 steps"
    assert format_value(KrShape(kind="milestone", baseline=0, target=1), 1) == "Done"
    assert format_value(INCREASE, None) == "—"


def test_low_forecast_with_high_confidence_is_a_signal():
    signal = confidence_disagreement(0.35, 8)
    assert "only 35%" in signal and "8/10" in signal


def test_high_forecast_with_low_confidence_is_a_signal():
    signal = confidence_disagreement(0.95, 2)
    assert "95%" in signal and "only 2/10" in signal


@pytest.mark.parametrize(("forecast", "confidence"), [(0.35, 6), (0.5, 9), (0.95, 4), (0.7, 7), (None, 9), (0.2, None)])
def test_no_signal_when_they_agree_or_one_is_missing(forecast, confidence):
    assert confidence_disagreement(forecast, confidence) is None
