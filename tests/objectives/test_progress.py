"""Progress math for every KR kind (DESIGN.md §2), incl. property tests."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from objectives.progress import expected_progress, format_value, kr_progress, objective_progress


def test_increase_is_share_of_the_way_from_baseline_to_target():
    p = kr_progress(kind="increase", baseline=34, target=52, current=43)
    assert p.value == pytest.approx(0.5)
    assert not p.below_baseline


def test_increase_past_target_is_capped_at_one():
    assert kr_progress(kind="increase", baseline=0, target=10, current=25).value == 1.0


def test_increase_below_baseline_is_zero_with_flag():
    p = kr_progress(kind="increase", baseline=34, target=52, current=30)
    assert p.value == 0.0
    assert p.below_baseline


def test_decrease_counts_downwards():
    p = kr_progress(kind="decrease", baseline=Decimal("10"), target=Decimal("4"), current=Decimal("7"))
    assert p.value == pytest.approx(0.5)
    assert not p.below_baseline


def test_decrease_above_baseline_is_below_baseline():
    p = kr_progress(kind="decrease", baseline=10, target=4, current=12)
    assert (p.value, p.below_baseline) == (0.0, True)


def test_direction_comes_from_the_sign_of_target_minus_baseline():
    # Labelled "increase" but the numbers go down: the numbers win.
    assert kr_progress(kind="increase", baseline=10, target=0, current=5).value == pytest.approx(0.5)


def test_baseline_equal_target_uses_the_kind_to_decide():
    assert kr_progress(kind="increase", baseline=5, target=5, current=6).value == 1.0
    below = kr_progress(kind="increase", baseline=5, target=5, current=4)
    assert below.value == 0.0 and below.below_baseline
    assert kr_progress(kind="decrease", baseline=5, target=5, current=4).value == 1.0


def test_missing_current_counts_as_baseline():
    assert kr_progress(kind="increase", baseline=3, target=6, current=None).value == 0.0


def test_maintain_inside_band_is_one():
    p = kr_progress(kind="maintain", band_low=95, band_high=99, current=97)
    assert (p.value, p.inside_band) == (1.0, True)


def test_maintain_outside_band_scales_with_the_band_width():
    # Band width 4; 1 below the band → 1 − 1/4.
    p = kr_progress(kind="maintain", band_low=95, band_high=99, current=94)
    assert p.value == pytest.approx(0.75)
    assert p.inside_band is False
    assert kr_progress(kind="maintain", band_low=95, band_high=99, current=90).value == 0.0


def test_maintain_one_sided_band_uses_ten_percent_of_the_bound():
    assert kr_progress(kind="maintain", band_low=100, current=150).value == 1.0
    assert kr_progress(kind="maintain", band_low=100, current=95).value == pytest.approx(0.5)
    assert kr_progress(kind="maintain", band_high=2, current=1).value == 1.0
    assert kr_progress(kind="maintain", band_high=2, current=2.1).value == pytest.approx(0.5)


def test_maintain_zero_width_band():
    assert kr_progress(kind="maintain", band_low=50, band_high=50, current=50).value == 1.0
    assert kr_progress(kind="maintain", band_low=50, band_high=50, current=52.5).value == pytest.approx(0.5)
    # A zero bound has no magnitude: one unit away is 0.
    assert kr_progress(kind="maintain", band_low=0, band_high=0, current=1).value == 0.0


def test_maintain_without_band_uses_target_as_the_band():
    assert kr_progress(kind="maintain", target=10, current=10).value == 1.0


def test_binary_milestone():
    assert kr_progress(kind="milestone", current=0).value == 0.0
    assert kr_progress(kind="milestone", current=1).value == 1.0


def test_staged_milestone_counts_steps_done():
    steps = ["Spec", "Beta", "GA", "Docs"]
    assert kr_progress(kind="milestone", current=3, milestone_steps=steps).value == 0.75
    assert kr_progress(kind="milestone", current=9, milestone_steps=steps).value == 1.0
    assert kr_progress(kind="milestone", current=-1, milestone_steps=steps).value == 0.0


def test_objective_progress_is_weighted_mean():
    assert objective_progress(items=[(1.0, 3), (0.0, 1)]) == pytest.approx(0.75)
    assert objective_progress(items=[]) == 0.0
    assert objective_progress(items=[(0.5, 0)]) == 0.0


def test_expected_progress_is_elapsed_share_of_the_cycle():
    start, end = date(2026, 1, 1), date(2026, 1, 10)
    assert expected_progress(start=start, end=end, today=date(2025, 12, 1)) == 0.0
    assert expected_progress(start=start, end=end, today=date(2026, 1, 5)) == pytest.approx(0.5)
    assert expected_progress(start=start, end=end, today=date(2026, 2, 1)) == 1.0


@pytest.mark.parametrize(
    ("value", "unit", "label", "decimals", "expected"),
    [
        (34, "percent", "", 0, "34%"),
        (Decimal("1200"), "currency", "EUR", 0, "€1,200"),
        (1200.5, "currency", "USD", 2, "$1,200.50"),
        (1200, "currency", "SEK", 0, "1,200 SEK"),
        (12, "custom", "NPS", 0, "12 NPS"),
        (1234567, "number", "", 0, "1,234,567"),
        (None, "number", "", 0, "—"),
        (-5, "currency", "EUR", 0, "-€5"),
    ],
)
def test_format_value(value, unit, label, decimals, expected):
    assert format_value(value=value, unit=unit, unit_label=label, decimals=decimals) == expected


numbers = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(
    kind=st.sampled_from(["increase", "decrease", "maintain", "milestone"]),
    baseline=numbers,
    target=numbers,
    current=numbers,
    low=st.none() | numbers,
    high=st.none() | numbers,
    steps=st.integers(min_value=0, max_value=6),
)
def test_progress_is_always_between_zero_and_one(kind, baseline, target, current, low, high, steps):
    p = kr_progress(
        kind=kind,
        baseline=baseline,
        target=target,
        current=current,
        band_low=low,
        band_high=high,
        milestone_steps=["s"] * steps,
    )
    assert 0.0 <= p.value <= 1.0


@given(baseline=numbers, span=st.floats(min_value=0.001, max_value=1e6), a=numbers, b=numbers)
def test_increase_progress_is_monotone_in_current(baseline, span, a, b):
    lo, hi = sorted((a, b))
    target = baseline + span
    p_lo = kr_progress(kind="increase", baseline=baseline, target=target, current=lo).value
    p_hi = kr_progress(kind="increase", baseline=baseline, target=target, current=hi).value
    assert p_lo <= p_hi
